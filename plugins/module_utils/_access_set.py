# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The protected applications of one login method as a set: what this collection owns, and the plan (pure:
no request is sent here; the entries are checked in ``_access_set_input``, ``_access_set_apply`` sends the
requests).

Ownership (see docs/development.md):

* an application is ours when it carries the Access tag ``idpbridge-<login method id>`` (``owner_tag``);
* a reusable policy is ours when its ``require`` rules hold the mark ``{"login_method": {"id": <login
  method id>}}`` and every application that links it is ours. A policy linked by any other application is
  never touched, whatever its name.

Entries are matched to our applications by name, then by domain (so a renamed entry keeps its
application and no second application asks for the same domain).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import (
    APP_TYPE,
    canonical,
    destination_uris,
    normalize_application,
    normalize_policy,
    normalize_rules,
    policy_links,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_set_input import RULE_KEYS, entry_label

OWNER_TAG_PREFIX = "idpbridge-"
NAME_TAG_PREFIX = OWNER_TAG_PREFIX + "n-"
DEFAULT_SESSION = "24h"


def owner_tag(login_method_id):
    """The Access tag that marks the applications of one login method."""
    return OWNER_TAG_PREFIX + str(login_method_id)


def owner_mark(login_method_id):
    """The rule that marks (and is part of) every policy of one login method: sign-in through it is required,
    which the application demands anyway (it offers only this login method)."""
    return {"login_method": {"id": login_method_id}}


def name_tag(login_method_name):
    """The Access tag that names the login method an application was written for: ``idpbridge-n-`` and the first
    16 hex digits of the SHA-256 of its name (tag names stay short, lower-case letters, digits and dashes, whatever
    the name holds). With the id tag it proves, after the login method was deleted by hand, which applications
    were made for a login method of that name."""
    digest = hashlib.sha256((login_method_name or "").encode("utf-8")).hexdigest()
    return NAME_TAG_PREFIX + digest[:16]


def is_name_tag(tag):
    return isinstance(tag, str) and tag.startswith(NAME_TAG_PREFIX)


def tag_owner(tag):
    """The login method id a tag of ours names, or None for any other tag (a name tag included)."""
    if isinstance(tag, str) and tag.startswith(OWNER_TAG_PREFIX) and len(tag) > len(OWNER_TAG_PREFIX) \
            and not is_name_tag(tag):
        return tag[len(OWNER_TAG_PREFIX):]
    return None


def tags_after(app, owner_id, login_method_name):
    """The tags an application of ours carries after a write: its own tags, less name tags of ours that name
    another login method name, plus the id tag and the name tag (when the name is known)."""
    keep = [t for t in (app or {}).get("tags") or [] if not is_name_tag(t)]
    mine = set(keep) | set([owner_tag(owner_id)])
    if login_method_name is not None:
        mine.add(name_tag(login_method_name))
    return sorted(mine)


# ---- desired objects ----------------------------------------------------------------------------------
def policy_name(entry, suffix):
    return entry["name"] + suffix


def desired_policy(entry, owner_id, suffix, groups_claim):
    include = []
    for group in entry["allow_groups"]:
        include.append({"oidc": {"claim_name": groups_claim, "claim_value": group, "identity_provider_id": owner_id}})
    for email in entry["allow_emails"]:
        include.append({"email": {"email": email}})
    for domain in entry["allow_email_domains"]:
        include.append({"email_domain": {"domain": domain.lstrip(".")}})
    include.extend(copy.deepcopy(entry["include"]))
    require = copy.deepcopy(entry["require"]) + [owner_mark(owner_id)]
    return {"name": policy_name(entry, suffix), "decision": "allow", "include": normalize_rules(include),
            "exclude": normalize_rules(entry["exclude"]), "require": normalize_rules(require),
            "session_duration": entry["session_duration"] or DEFAULT_SESSION}


def desired_application(entry, owner_id, policy_id):
    redirect = entry["auto_redirect"]
    visible = entry["app_launcher_visible"]
    return {"name": entry["name"], "domain": entry["domain"], "type": APP_TYPE,
            "destinations": sorted(set([entry["domain"]] + entry["destinations"])),
            "allowed_idps": [owner_id], "auto_redirect_to_identity": True if redirect is None else redirect,
            "app_launcher_visible": True if visible is None else visible,
            "session_duration": entry["session_duration"] or DEFAULT_SESSION, "policies": [policy_id]}


# What Cloudflare means when it leaves a key out of an answer.
SERVER_DEFAULTS = {"session_duration": DEFAULT_SESSION, "app_launcher_visible": True, "auto_redirect_to_identity": False}


def changed_keys(before, desired):
    """The keys of ``desired`` whose value differs from the normalised ``before`` (rule lists compared as sets; a
    key the answer left out counts as Cloudflare's default)."""
    out = []
    for key, want in desired.items():
        have = before.get(key)
        if have is None:
            have = SERVER_DEFAULTS.get(key)
        if key in RULE_KEYS:
            if canonical(normalize_rules(have)) != canonical(normalize_rules(want)):
                out.append(key)
        elif have != want:
            out.append(key)
    return sorted(out)


# ---- ownership -------------------------------------------------------------------------------------------
def has_mark(policy, owner_id):
    mark = canonical(owner_mark(owner_id))
    return any(canonical(rule) == mark for rule in policy.get("require") or [] if isinstance(rule, dict))


class Ownership:
    """Which applications and policies of the account belong to one login method."""

    def __init__(self, apps, policies, owner_id, owner_name=None, only_named=False):
        """``owner_name``: the login method's name (its name tag is then kept on every application of ours);
        ``only_named``: only the applications that also carry that name tag are ours (a login method deleted by
        hand and given by name)."""
        self.owner_id = owner_id
        self.owner_name = owner_name
        self.tag = owner_tag(owner_id)
        self.name_tag = name_tag(owner_name) if owner_name is not None else None
        self.apps = [a for a in apps if isinstance(a, dict)]
        self.ours = [a for a in self.apps if self.tag in (a.get("tags") or [])
                     and (not only_named or self.name_tag in (a.get("tags") or []))]
        self.our_ids = set(a.get("id") for a in self.ours)
        self.users = {}
        for app in self.apps:
            for pid in policy_links(app):
                self.users.setdefault(pid, set()).add(app.get("id"))
        self.policies = dict((p.get("id"), p) for p in policies if isinstance(p, dict) and p.get("id"))

    def policy_is_ours(self, policy_id):
        policy = self.policies.get(policy_id)
        if policy is None or not has_mark(policy, self.owner_id):
            return False
        return self.users.get(policy_id, set()) <= self.our_ids

    def our_policies(self):
        return [p for pid, p in self.policies.items() if self.policy_is_ours(pid)]

    def orphans(self):
        """Our policies that no application links."""
        return [p for p in self.our_policies() if not self.users.get(p["id"])]


# ---- the plan ------------------------------------------------------------------------------------------------
class Item:
    """What happens to one entry: its current application and policy (or None) and what they should be."""

    def __init__(self, index, entry):
        self.index = index
        self.entry = entry
        self.app = None
        self.policy = None
        self.want_policy = None
        self.want_app = None
        self.policy_changes = []
        self.app_changes = []
        self.action = "unchanged"

    @property
    def label(self):
        return entry_label(self.index, self.entry)


class Plan:
    def __init__(self):
        self.items = []
        self.remove_apps = []       # our applications no entry keeps
        self.remove_policies = []   # our policies no kept application links afterwards
        self.errors = []

    @property
    def writes(self):
        count = len(self.remove_apps) + len(self.remove_policies)
        for item in self.items:
            count += (1 if item.policy is None or item.policy_changes else 0)
            count += (1 if item.app is None or item.app_changes else 0)
        return count

    @property
    def changed(self):
        return bool(self.remove_apps or self.remove_policies or any(i.action != "unchanged" for i in self.items))


def _claims(app):
    return set(u.lower().rstrip("/") for u in [app.get("domain") or ""] + destination_uris(app) if u)


def make_plan(entries, ownership, suffix, groups_claim, state="present"):
    """Match the entries to our applications and say what to write. Pure; errors are collected in ``plan.errors``
    (a domain another application holds), never raised half-way."""
    plan = Plan()
    owner = ownership.owner_id
    free = list(ownership.ours)
    if state == "present":
        for index, entry in enumerate(entries):
            plan.items.append(Item(index, entry))
        # by name first (every entry), then by domain (a renamed entry keeps its application)
        for item in plan.items:
            for app in free:
                if app.get("name") == item.entry["name"]:
                    item.app = app
                    free.remove(app)
                    break
        for item in plan.items:
            if item.app is not None:
                continue
            for app in free:
                if (app.get("domain") or "").lower() == item.entry["domain"].lower():
                    item.app = app
                    free.remove(app)
                    break
    plan.remove_apps = free
    removed_ids = set(a.get("id") for a in free)
    kept_policy_ids = set()

    orphans = dict((p["id"], p) for p in ownership.orphans())
    for item in plan.items:
        if item.app is not None:
            for pid in policy_links(item.app):
                if ownership.policy_is_ours(pid) and pid not in kept_policy_ids:
                    item.policy = ownership.policies[pid]
                    break
        if item.policy is None:
            # a policy left by a run that stopped before its application was made
            name = policy_name(item.entry, suffix)
            for pid, pol in sorted(orphans.items()):
                if pol.get("name") == name:
                    item.policy = pol
                    del orphans[pid]
                    break
        item.want_policy = desired_policy(item.entry, owner, suffix, groups_claim)
        if item.policy is not None:
            kept_policy_ids.add(item.policy["id"])
            item.policy_changes = changed_keys(normalize_policy(item.policy), item.want_policy)
        policy_id = item.policy["id"] if item.policy is not None else None
        item.want_app = desired_application(item.entry, owner, policy_id)
        if item.app is not None:
            before = normalize_application(item.app)
            want = dict(item.want_app)
            if policy_id is None:
                want.pop("policies")
                item.app_changes = sorted(set(changed_keys(before, want)) | set(["policies"]))
            else:
                item.app_changes = changed_keys(before, want)
            if ownership.name_tag is not None and \
                    sorted(item.app.get("tags") or []) != tags_after(item.app, owner, ownership.owner_name):
                item.app_changes = sorted(set(item.app_changes) | set(["tags"]))
        if item.app is None:
            item.action = "created"
        elif item.app_changes or item.policy is None or item.policy_changes:
            item.action = "updated"

    for pol in ownership.our_policies():
        if pol["id"] not in kept_policy_ids:
            plan.remove_policies.append(pol)

    # a domain that another application holds would end in a 409 on every run: say it now. Each application's
    # domains are read once into an index (domain -> positions in the account's list), not once per entry.
    holders = {}
    for position, other in enumerate(ownership.apps):
        if other.get("id") in removed_ids:
            continue
        claims = _claims(other)
        for uri in claims:
            holders.setdefault(uri, []).append(position)
    for item in plan.items:
        mine = set(p.lower().rstrip("/") for p in item.want_app["destinations"])
        positions = sorted(set(pos for uri in mine for pos in holders.get(uri, ())))
        for position in positions:
            other = ownership.apps[position]
            if item.app is not None and other.get("id") == item.app.get("id"):
                continue
            clash = mine & _claims(other)
            if other.get("id") in ownership.our_ids:
                plan.errors.append("%s: %s is held by the application %r (id %s) of another entry of this list; "
                                   "two entries swap domains: change one of them in a run of its own"
                                   % (item.label, sorted(clash)[0], other.get("name"), other.get("id")))
            else:
                plan.errors.append("%s: %s is already protected by the application %r (id %s), which this module does "
                                   "not manage (made by hand or for another login method); remove that application or "
                                   "protect another domain" % (item.label, sorted(clash)[0], other.get("name"), other.get("id")))
    return plan
