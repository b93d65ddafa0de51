# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The ``scim`` check of the login-method test: the users and groups authentik's SCIM provider would
provision, held against what Cloudflare lists under the login method's SCIM users and groups.

Who authentik provisions (captured from authentik 2026.2.2): with no policy binding on the provider's
application, every user; otherwise the users that pass the application's bindings (users bound directly
and members of bound groups); inactive users too, pushed as inactive. Groups are not limited by the
application, only by the provider's group filters. Users are matched by authentik's ``uid`` (sent as
``externalId``), groups by their pk (also ``externalId``). Bindings to expression policies, or negated
ones, cannot be evaluated from the API: the check is then skipped, saying why.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import quote

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._scim import scim_provider_by_name

SHOWN = 10  # names listed per problem in the message


class CannotTell(Exception):
    """Which users authentik provisions cannot be told from the API (the check is skipped)."""


def _names(items):
    names = sorted(items)
    more = len(names) - SHOWN
    return ", ".join(names[:SHOWN]) + (" and %d more" % more if more > 0 else "")


def expected_users(ak, application):
    """{uid: {"username", "active"}} of the users authentik would provision for ``application``."""
    bindings = [b for b in ak.paginate("/policies/bindings/", {"target": application["pk"]},
                                       what="list the policy bindings of application %r" % application.get("slug"))
                if b.get("enabled", True)]
    if not bindings:
        users = ak.paginate("/core/users/", {"ordering": "pk"}, what="list the authentik users")
        return dict((u["uid"], {"username": u["username"], "active": bool(u.get("is_active"))})
                    for u in users if u.get("uid"))
    if any(b.get("policy") or b.get("negate") for b in bindings):
        raise CannotTell("application %r has policy or negated bindings, which only authentik can evaluate"
                         % application.get("slug"))
    sets = []
    for binding in bindings:
        found = {}
        if binding.get("group"):
            group = ak.get("/core/groups/%s/" % quote(str(binding["group"]), safe=""), params={"include_users": "true"},
                           what="read the members of a bound group") or {}
            for user in group.get("users_obj") or []:
                found[user["uid"]] = {"username": user["username"], "active": bool(user.get("is_active"))}
        elif binding.get("user") is not None:
            user = ak.get("/core/users/%s/" % binding["user"], what="read a bound user") or {}
            found[user["uid"]] = {"username": user["username"], "active": bool(user.get("is_active"))}
        sets.append(found)
    if application.get("policy_engine_mode") == "all":
        common = set.intersection(*[set(s) for s in sets]) if sets else set()
        return dict((uid, sets[0][uid]) for uid in common)
    merged = {}
    for found in sets:
        merged.update(found)
    return merged


def expected_groups(ak, provider):
    """{pk: name} of the groups the provider pushes (all, or its group filters)."""
    wanted = list(provider.get("group_filters") or [])
    if provider.get("filter_group"):
        wanted.append(provider["filter_group"])
    groups = ak.paginate("/core/groups/", {"include_users": "false"}, what="list the authentik groups")
    return dict((g["pk"], g["name"]) for g in groups if not wanted or g["pk"] in wanted)


def compare(ak, cf, idp_id, provider_name):
    """``(ok, reason, details)``; raises ``CannotTell`` when the expectation cannot be computed."""
    provider = scim_provider_by_name(ak, provider_name)
    if provider is None:
        return False, "no authentik SCIM provider is named %r" % provider_name, {}
    slug = provider.get("assigned_backchannel_application_slug")
    if not slug:
        return False, ("authentik SCIM provider %r is not attached to an application (backchannel_providers), so it "
                       "provisions nobody" % provider_name), {}
    application = ak.application(slug) or {}
    want_users = expected_users(ak, application)
    want_groups = expected_groups(ak, provider)
    base = cf.idp_item_path(idp_id)
    have_users = cf.paginate(base + "/scim/users", what="list the SCIM users of the login method")
    have_groups = cf.paginate(base + "/scim/groups", what="list the SCIM groups of the login method")
    by_uid = dict((u.get("externalId"), u) for u in have_users)
    by_pk = dict((g.get("externalId"), g) for g in have_groups)

    def shown(user):
        return user.get("displayName") or ((user.get("emails") or [{}])[0].get("value")) or user.get("id")
    details = {
        "missing_users": sorted(w["username"] for uid, w in want_users.items() if uid not in by_uid),
        "extra_users": sorted(shown(u) for uid, u in by_uid.items() if uid not in want_users),
        "inactive_users": sorted(w["username"] for uid, w in want_users.items()
                                 if uid in by_uid and w["active"] and by_uid[uid].get("active") is False),
        "still_active_users": sorted(w["username"] for uid, w in want_users.items()
                                     if uid in by_uid and not w["active"] and by_uid[uid].get("active") is not False),
        "missing_groups": sorted(name for pk, name in want_groups.items() if pk not in by_pk),
        "extra_groups": sorted(g.get("displayName") or g.get("id") for pk, g in by_pk.items() if pk not in want_groups),
        "users": len(want_users), "groups": len(want_groups),
    }
    words = (("missing_users", "missing in Cloudflare"), ("extra_users", "in Cloudflare but not provisioned by authentik"),
             ("inactive_users", "active in authentik but inactive in Cloudflare"),
             ("still_active_users", "inactive in authentik but active in Cloudflare"),
             ("missing_groups", "groups missing in Cloudflare"),
             ("extra_groups", "groups in Cloudflare that authentik does not push"))
    problems = ["%s: %s" % (text, _names(details[key])) for key, text in words if details[key]]
    if problems:
        return False, "SCIM users and groups differ from what authentik provisions: %s" % "; ".join(problems), details
    return True, ("Cloudflare lists the %d users and %d groups authentik's SCIM provider %r provisions"
                  % (len(want_users), len(want_groups), provider_name)), details


def check_scim(report, authentik, cloudflare, idp_id, provider_name):
    """Record the ``scim`` check of login method ``idp_id`` in ``report`` (its ``details`` as
    ``report.out["scim"]``); nothing without ``provider_name`` (the scim_provider option)."""
    if not provider_name:
        return  # the check is listed only when scim_provider is given
    try:
        ok, reason, details = compare(authentik, cloudflare, idp_id, provider_name)
    except CannotTell as exc:
        report.skip("scim", "cannot tell which users authentik provisions: %s" % exc)
        return
    report.out["scim"] = details
    if ok:
        report.ok("scim", reason)
    else:
        report.fail("scim", reason)
