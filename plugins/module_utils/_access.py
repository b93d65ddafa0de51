# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""Cloudflare Access applications and reusable policies: the client with their error hints,
lookups (by name, by id; policies named or given by id), the friendly rule forms, the comparable
forms and the bodies to send.

The connection, the envelope, pages, the scope and finding by name or id come from ``_cloudflare``;
the login methods (which rules and applications name) from ``_login_method``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re

from urllib.parse import quote

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import LookupFailed, Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import CODE_AUTH, Kind
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._login_method import LoginMethodClient

APPS_PERMISSION = "Access: Apps and Policies"
APP_TYPE = "self_hosted"
DECISIONS = ("allow", "deny", "bypass", "non_identity")
# Rule kinds the friendly options build; anything else goes through the raw ``rules`` list.
FRIENDLY_RULES = ("emails", "email_domains", "everyone", "login_methods", "oidc_claims", "authentik_groups", "rules")
GROUPS_CLAIM = "groups"
UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
# Go-style durations as Cloudflare takes them: 300ms, 2h45m, 24h.
DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|\u00b5s|ms|s|m|h))+$")


def rule_sets():
    return ("include", "exclude", "require")


class AccessClient(LoginMethodClient):
    """The Cloudflare client with the paths and the error hints of Access applications and policies.

    With ``predict_missing`` (check mode), a login method or policy named but not found stands in
    as ``(not yet created: <name>)`` with a warning: an earlier task of the same check-mode run
    would have created it, so failing here would not tell the truth.
    """

    def hint_for(self, status, api_message, codes, method, path):
        text = (api_message or "").lower()
        path = path or ""
        if "/access/apps" in path or "/access/policies" in path:
            if status == 403 and any(str(c) == str(CODE_AUTH) for c in codes or []):
                level = "Read" if method in ("GET", "HEAD") else "Write"
                return ("The API token lacks a permission: it needs the account permission '%s %s' for %s; edit the "
                        "token under My Profile > API Tokens" % (APPS_PERMISSION, level, self.scope))
            if "/access/policies" in path and method == "DELETE" and (status == 409 or "in use" in text or "used by" in text):
                return ("The policy is still used by Access applications: remove it from their policies first (an "
                        "application's policies option, or Zero Trust > Access > Applications), then delete it")
            if "/access/apps" in path and ("domain" in text and (status == 409 or "conflict" in text or "already" in text)):
                return ("Another Access application already protects this domain: give another domain, or manage "
                        "that application instead (cloudflare_access_application_info lists them)")
            if "identity provider" in text or "allowed_idps" in text or "login method" in text:
                return ("A login method given in allowed_login_methods does not exist in %s: check the names and ids "
                        "(cloudflare_access_identity_provider_info lists them)" % self.scope)
            if "polic" in text and ("not found" in text or "unknown" in text):
                return "A policy given in policies does not exist: check the names and ids (cloudflare_access_policy_info)"
        return super(AccessClient, self).hint_for(status, api_message, codes, method, path)

    # ---- paths ---------------------------------------------------------------------------------
    @property
    def apps_path(self):
        return self.scope.path + "/access/apps"

    def app_path(self, app_id):
        return "%s/%s" % (self.apps_path, quote(str(app_id), safe=""))

    @property
    def policies_path(self):
        if self.scope.kind != "account":
            raise LookupFailed("Reusable Access policies live in an account, not in a zone: give account_id "
                               "(or set CLOUDFLARE_ACCOUNT_ID) instead of zone_id")
        return self.scope.path + "/access/policies"

    def policy_path(self, policy_id):
        return "%s/%s" % (self.policies_path, quote(str(policy_id), safe=""))

    @property
    def tags_path(self):
        """Access tags live in an account (``…/access/tags``; the name is the id)."""
        return self.scope.path + "/access/tags"

    def tag_path(self, name):
        return "%s/%s" % (self.tags_path, quote(str(name), safe=""))

    # ---- applications --------------------------------------------------------------------------
    def applications(self):
        """Every Access application of the scope (all pages), read once per run."""
        return self.list_once("applications", self.apps_path, "list the Access applications of %s" % self.scope)

    def applications_named(self, name):
        """The applications named exactly ``name``: a filtered query (``name``, ``exact``), compared again
        here because how the API matches the filter is not documented."""
        if "applications" in self._cache:
            found = self._cache["applications"]
        else:
            found = self.paginate(self.apps_path, params={"name": name, "exact": "true"},
                                  what="find the Access application %r in %s" % (name, self.scope))
        return [app for app in found if isinstance(app, dict) and app.get("name") == name]

    def application(self, app_id):
        return self.read_or_none(self.app_path(app_id), what="read the Access application %s in %s" % (app_id, self.scope))

    def unique_application(self, name):
        return self.unique(APPLICATIONS, name)

    # ---- reusable policies ---------------------------------------------------------------------
    def policies(self):
        """Every reusable policy of the account (all pages; the API has no name filter), read once per run."""
        return self.list_once("policies", self.policies_path, "list the reusable Access policies of %s" % self.scope)

    def policy(self, policy_id):
        return self.read_or_none(self.policy_path(policy_id), what="read the Access policy %s in %s" % (policy_id, self.scope))

    def unique_policy(self, name):
        return self.unique(POLICIES, name)

    def policy_id(self, ref):
        """The id of a policy given by name or id; ``LookupFailed`` when there is none or several."""
        return self.id_of(POLICIES, ref, lambda: "No reusable Access policy in %s is named %r or has that id; create "
                          "it first (cloudflare_access_policy), or check the name" % (self.scope, ref))


APPLICATIONS = Kind(
    "The Access application", "Access applications", "Zero Trust > Access > Applications", "application_id",
    read=lambda client, ident: client.application(ident),
    named=lambda client, name: client.applications_named(name),
    every=lambda client: client.applications(),
)
POLICIES = Kind(
    "The policy", "reusable Access policies", "Zero Trust > Access > Policies", "policy_id",
    read=lambda client, ident: client.policy(ident),
    named=lambda client, name: [pol for pol in client.policies() if isinstance(pol, dict) and pol.get("name") == name],
    every=lambda client: client.policies(),
)


# ---- rules ----------------------------------------------------------------------------------------
def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def normalize_rule(rule):
    """A rule as compared: a deep copy (key order does not matter once dumped canonically)."""
    return copy.deepcopy(rule) if isinstance(rule, dict) else rule


def normalize_rules(rules):
    """The comparable form of a rule list: order is not significant and repeats count once."""
    seen = {}
    for rule in rules or []:
        seen[canonical(normalize_rule(rule))] = normalize_rule(rule)
    return [seen[key] for key in sorted(seen)]


def build_rules(spec, login_method_id, default_login_method=None):
    """The raw rules of one friendly rule set (the include, exclude or require option).

    ``login_method_id(ref)`` turns a login method name or id into its id; ``default_login_method``
    is the login method (name or id) ``authentik_groups`` and ``oidc_claims`` use when they name none.
    Raises ``ValueError`` for input that cannot work and ``LookupFailed`` for unknown login methods.
    """
    rules = []
    if not spec:
        return rules
    for email in spec.get("emails") or []:
        if not isinstance(email, str) or "@" not in email:
            raise ValueError("emails: %r is not an e-mail address" % (email,))
        rules.append({"email": {"email": email}})
    for domain in spec.get("email_domains") or []:
        if not isinstance(domain, str) or not domain.strip() or "@" in domain:
            raise ValueError("email_domains: %r is not a domain (give example.com, without @)" % (domain,))
        rules.append({"email_domain": {"domain": domain.strip().lstrip(".")}})
    if spec.get("everyone"):
        rules.append({"everyone": {}})
    for ref in spec.get("login_methods") or []:
        rules.append({"login_method": {"id": login_method_id(ref)}})
    claims = list(spec.get("oidc_claims") or [])
    for group in spec.get("authentik_groups") or []:
        claims.append({"claim_name": GROUPS_CLAIM, "claim_value": group, "login_method": None})
    for claim in claims:
        name, value = claim.get("claim_name"), claim.get("claim_value")
        if not name or value is None or value == "":
            raise ValueError("oidc_claims: each item needs claim_name and claim_value, got %r" % (claim,))
        ref = claim.get("login_method") or default_login_method
        if not ref:
            raise ValueError("authentik_groups and oidc_claims need the login method that sends the claim: give "
                             "login_method (the authentik login method's name or id)")
        rules.append({"oidc": {"claim_name": name, "claim_value": str(value),
                               "identity_provider_id": login_method_id(ref)}})
    for rule in spec.get("rules") or []:
        if not isinstance(rule, dict) or len(rule) != 1:
            raise ValueError("rules: each raw rule is an object with one key, such as {\"group\": {\"id\": \"...\"}}; "
                             "got %r" % (rule,))
        rules.append(copy.deepcopy(rule))
    return rules


def check_duration(value, option):
    if value is not None and not DURATION.match(value):
        raise ValueError("%s must be a duration such as 30m, 8h or 2h45m (units ns, us, ms, s, m, h), got %r"
                         % (option, value))


# ---- carrying fields over ------------------------------------------------------------------------
# Cloudflare replaces the whole object on PUT, so an update sends every field the API returned except the
# ones it makes itself; a field the user did not set travels unchanged (approval groups, purpose
# justification, isolation, MFA, CORS, iframe, custom pages, ... whatever the API adds later).
POLICY_READ_ONLY = frozenset(("id", "created_at", "updated_at", "app_count", "reusable", "account_id", "precedence"))
APP_READ_ONLY = frozenset(("id", "aud", "created_at", "updated_at", "account_id", "zone_id"))


class NotCarried(Refused):
    """A field of the current object cannot be sent back as it was read: the update is refused."""


def _carried(current, read_only):
    return dict((key, copy.deepcopy(value)) for key, value in (current or {}).items()
                if key not in read_only and value is not None)


def check_carriable_application(current):
    """Raise ``NotCarried`` when the application holds a field that a PUT would lose or damage."""
    scim = (current or {}).get("scim_config")
    if isinstance(scim, dict) and scim.get("authentication"):
        raise NotCarried("the application %r (id %s) has SCIM provisioning with credentials (scim_config.authentication), "
                         "which Cloudflare does not return in full, so an update would replace them; change that "
                         "application in the dashboard instead" % (current.get("name"), current.get("id")))


# ---- policies -------------------------------------------------------------------------------------
POLICY_KEYS = ("name", "decision", "include", "exclude", "require", "session_duration")


def normalize_policy(obj):
    """The comparable form of a policy: the compared keys in canonical form, and every other field the API
    returned as it is (never compared unless the user sets it; shown in ``--diff``)."""
    out = _carried(obj, POLICY_READ_ONLY)
    out.update(name=obj.get("name"), decision=obj.get("decision"))
    for key in rule_sets():
        out[key] = normalize_rules(obj.get(key))
    if obj.get("session_duration") is not None:
        out["session_duration"] = obj.get("session_duration")
    return out


def policy_body(current, desired):
    """The full body of a policy write (Cloudflare replaces a policy on PUT): every field the API returned
    (but the ones it makes itself) with the wanted ones on top; include is always sent (the API requires it)."""
    body = _carried(current, POLICY_READ_ONLY)
    for key, value in desired.items():
        body[key] = copy.deepcopy(value)
    body.setdefault("include", [])
    for key in ("exclude", "require"):
        if key in body and body[key] is None:
            del body[key]
    return body


# ---- applications ---------------------------------------------------------------------------------
APP_COMPARED = ("name", "domain", "type", "allowed_idps", "auto_redirect_to_identity", "session_duration",
                "app_launcher_visible", "destinations", "policies")


def policy_links(app):
    """The policy ids of an application in precedence order (GET answers hold whole policies)."""
    links = []
    for index, pol in enumerate(app.get("policies") or []):
        if isinstance(pol, str):
            links.append((index + 1, index, pol))
        elif isinstance(pol, dict) and pol.get("id"):
            links.append((pol.get("precedence") or index + 1, index, pol["id"]))
    return [ident for _p, _i, ident in sorted(links)]


def destination_uris(app):
    out = []
    for dest in app.get("destinations") or []:
        if isinstance(dest, dict) and dest.get("type", "public") == "public" and dest.get("uri"):
            out.append(dest["uri"])
    return sorted(set(out))


def normalize_application(obj):
    """The comparable form of an application: the compared keys in canonical form (``destinations`` as the
    sorted public URIs, ``policies`` as ids in order), and every other field the API returned as it is."""
    out = _carried(obj, APP_READ_ONLY)
    out.pop("self_hosted_domains", None)
    for key in ("name", "domain", "type", "auto_redirect_to_identity", "session_duration", "app_launcher_visible"):
        if obj.get(key) is not None:
            out[key] = obj.get(key)
    out["allowed_idps"] = sorted(set(obj.get("allowed_idps") or []))
    out["destinations"] = destination_uris(obj)
    others = [d for d in obj.get("destinations") or [] if isinstance(d, dict) and d.get("type", "public") != "public"]
    if others:
        out["other_destinations"] = copy.deepcopy(others)
    out["policies"] = policy_links(obj)
    return out


def application_body(current, desired):
    """The full body of an application write: every field the API returned (but the ones it makes itself),
    the wanted keys on top, ``destinations`` as public destinations (the other kinds kept), ``policies``
    as ``{id, precedence}`` links. ``NotCarried`` when a current field cannot travel."""
    check_carriable_application(current)
    body = _carried(current, APP_READ_ONLY)
    body.pop("policies", None)
    if body.get("destinations"):
        # the destinations say it all; the older self_hosted_domains is derived from them
        body.pop("self_hosted_domains", None)
        body["destinations"] = [dict((k, v) for k, v in d.items() if v is not None)
                                for d in body["destinations"] if isinstance(d, dict)]
    for key, value in desired.items():
        if key in ("policies", "destinations"):
            continue
        body[key] = copy.deepcopy(value)
    if "destinations" in desired:
        primary = body.get("domain")
        uris = sorted(desired["destinations"], key=lambda uri: (uri != primary, uri))
        others = [d for d in body.get("destinations") or [] if d.get("type", "public") != "public"]
        body["destinations"] = [{"type": "public", "uri": uri} for uri in uris] + others
        body.pop("self_hosted_domains", None)
    links = desired.get("policies") if "policies" in desired else (policy_links(current) if current else None)
    if links is not None:
        body["policies"] = [{"id": ident, "precedence": index + 1} for index, ident in enumerate(links)]
    body["type"] = body.get("type") or APP_TYPE
    return body


def present_application(obj):
    return copy.deepcopy(obj) if isinstance(obj, dict) else {}
