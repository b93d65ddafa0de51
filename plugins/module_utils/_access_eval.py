# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""Who gets in: Access policies evaluated against one signed-in identity, without any request.

Pure functions. The identity is what Access knows after a sign-in through an OIDC login method:
the e-mail address, the ID token's claims and the login method's id. Evaluation follows
Cloudflare's documented semantics:

* within a policy, ``include`` rules are OR-ed (one must match), ``require`` rules are AND-ed
  (all must match), and any matching ``exclude`` rule keeps the policy from matching;
* an application's policies run by kind first, then by precedence: ``bypass`` policies, then
  ``non_identity`` (service auth, which never matches a person), then ``allow`` and ``deny`` in
  precedence order; the first matching one decides, and no match means no entry;
* an application that names ``allowed_idps`` lets in only users of those login methods.

Rules that cannot be decided from an ID token (Access groups, IP ranges, device posture, ...)
give "unknown"; a verdict that depends on one says so instead of guessing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ALLOWED = "allowed"
DENIED = "denied"
UNKNOWN = "unknown"

KIND_ORDER = {"bypass": 0, "non_identity": 1, "allow": 2, "deny": 2}


class Identity:
    """A signed-in user as Access sees them."""

    def __init__(self, email, claims, login_method_id, login_method_name=None):
        self.email = (email or "").strip()
        self.claims = claims or {}
        self.login_method_id = login_method_id
        self.login_method_name = login_method_name or login_method_id

    @property
    def domain(self):
        return self.email.rsplit("@", 1)[1].lower() if "@" in self.email else ""


def _claim_values(value):
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if value is None:
        return []
    if isinstance(value, bool):
        return [str(value).lower()]
    return [str(value)]


def describe_rule(rule, names=None):
    """A short human form of a raw rule, e.g. "groups claim is 'sre'"."""
    names = names or {}
    if not isinstance(rule, dict) or len(rule) != 1:
        return "rule %r" % (rule,)
    kind, body = list(rule.items())[0]
    body = body if isinstance(body, dict) else {}
    if kind == "email":
        return "e-mail is %s" % body.get("email")
    if kind == "email_domain":
        return "e-mail domain is %s" % body.get("domain")
    if kind == "everyone":
        return "everyone"
    if kind == "login_method":
        return "login method is %s" % names.get(body.get("id"), body.get("id"))
    if kind == "oidc":
        return "%s claim is %r" % (body.get("claim_name"), body.get("claim_value"))
    return "%s rule" % kind


def match_rule(rule, identity):
    """``(True | False | None, why)``: whether the rule matches the identity (None = cannot tell)."""
    if not isinstance(rule, dict) or len(rule) != 1:
        return None, "a malformed rule"
    kind, body = list(rule.items())[0]
    body = body if isinstance(body, dict) else {}
    if kind == "everyone":
        return True, "everyone matches"
    if kind == "email":
        want = (body.get("email") or "").strip().lower()
        have = identity.email.lower()
        return (bool(have) and have == want), "the e-mail is %s" % (identity.email or "unknown")
    if kind == "email_domain":
        want = (body.get("domain") or "").strip().lower().lstrip("@")
        return (bool(identity.domain) and identity.domain == want), "the e-mail domain is %s" % (identity.domain or "unknown")
    if kind == "login_method":
        return body.get("id") == identity.login_method_id, "the login method is %s" % identity.login_method_name
    if kind == "oidc":
        name = body.get("claim_name")
        idp = body.get("identity_provider_id")
        if idp and idp != identity.login_method_id:
            return False, "the rule reads the claim from another login method (%s)" % idp
        have = _claim_values(identity.claims.get(name))
        if not have:
            return False, "the ID token has no %s claim" % name
        return str(body.get("claim_value")) in have, "the %s claim is %s" % (name, have)
    return None, "a %s rule cannot be decided from the ID token" % kind


def evaluate_policy(policy, identity, names=None):
    """``(True | False | None, reason)``: whether ``policy`` matches ``identity``.

    The reason names the rule that decided it, in words.
    """
    name = policy.get("name") or policy.get("id")
    include = policy.get("include") or []
    exclude = policy.get("exclude") or []
    require = policy.get("require") or []
    unknown = []

    hit = None
    misses = []
    for rule in include:
        ok, why = match_rule(rule, identity)
        if ok:
            hit = rule
            break
        if ok is None:
            unknown.append(describe_rule(rule, names))
        else:
            misses.append("%s (%s)" % (describe_rule(rule, names), why))
    if hit is None:
        if unknown:
            return None, "policy %r: no include rule matched for certain; undecided: %s" % (name, ", ".join(unknown))
        return False, "policy %r: no include rule matched: %s" % (name, "; ".join(misses) or "it has none")

    for rule in require:
        ok, why = match_rule(rule, identity)
        if ok is None:
            return None, "policy %r: the require rule %s cannot be decided" % (name, describe_rule(rule, names))
        if not ok:
            return False, "policy %r: the require rule %s failed (%s)" % (name, describe_rule(rule, names), why)

    for rule in exclude:
        ok, why = match_rule(rule, identity)
        if ok is None:
            return None, "policy %r: the exclude rule %s cannot be decided" % (name, describe_rule(rule, names))
        if ok:
            return False, "policy %r: excluded by %s (%s)" % (name, describe_rule(rule, names), why)

    return True, "policy %r matched (%s)" % (name, describe_rule(hit, names))


def ordered_policies(policies):
    """The policies in the order Access runs them: by kind, then by precedence."""
    indexed = []
    for index, pol in enumerate(policies or []):
        if not isinstance(pol, dict):
            continue
        indexed.append((KIND_ORDER.get(pol.get("decision"), 3), pol.get("precedence") or index + 1, index, pol))
    return [pol for _k, _p, _i, pol in sorted(indexed, key=lambda item: item[:3])]


def evaluate_application(app, policies, identity, names=None):
    """The verdict for one application: ``{"application", "domain", "verdict", "reason", "policy"}``.

    ``policies`` are the application's policies as full objects (with ``decision``, rules and,
    optionally, ``precedence``). ``verdict`` is ``allowed``, ``denied`` or ``unknown``.
    """
    out = {"application": app.get("name"), "domain": app.get("domain"), "policy": None}
    allowed_idps = app.get("allowed_idps") or []
    if allowed_idps and identity.login_method_id not in allowed_idps:
        out.update(verdict=DENIED, reason="the application does not offer the login method %s (allowed_idps)"
                   % identity.login_method_name)
        return out
    reasons = []
    undecided = None
    for pol in ordered_policies(policies):
        decision = pol.get("decision")
        if decision == "non_identity":
            reasons.append("policy %r is a service-auth (non_identity) policy, which matches no person"
                           % (pol.get("name") or pol.get("id")))
            continue
        ok, why = evaluate_policy(pol, identity, names)
        if ok is None:
            if undecided is None:
                undecided = why
            reasons.append(why)
            continue
        if not ok:
            reasons.append(why)
            continue
        if undecided is not None:
            out.update(verdict=UNKNOWN, reason="cannot tell: an earlier policy is undecided (%s); then %s"
                       % (undecided, why))
            return out
        out["policy"] = pol.get("name") or pol.get("id")
        if decision in ("allow", "bypass"):
            out.update(verdict=ALLOWED, reason=why + (" (bypass: no sign-in needed)" if decision == "bypass" else ""))
        else:
            out.update(verdict=DENIED, reason="%s, and it is a deny policy" % why)
        return out
    if undecided is not None:
        out.update(verdict=UNKNOWN, reason="cannot tell: %s" % undecided)
        return out
    if not reasons:
        out.update(verdict=DENIED, reason="the application has no policy, so Access lets nobody in")
    else:
        out.update(verdict=DENIED, reason="no policy lets the user in: %s" % "; ".join(reasons))
    return out


def sentence(verdict):
    """ "allowed" or "denied, because ..." for a verdict dict."""
    if verdict["verdict"] == ALLOWED:
        return "allowed (%s)" % verdict["reason"]
    if verdict["verdict"] == DENIED:
        return "denied, because %s" % verdict["reason"]
    return "unknown: %s" % verdict["reason"]


def expectations(verdicts, expect_allowed, expect_denied):
    """The broken expectations: a list of sentences, empty when every expectation holds.

    ``expect_allowed``/``expect_denied`` name applications (by name or domain).
    """
    by_key = {}
    for verdict in verdicts:
        by_key[verdict.get("application")] = verdict
        if verdict.get("domain"):
            by_key[verdict["domain"]] = verdict
    problems = []
    for wanted, names in ((ALLOWED, expect_allowed or []), (DENIED, expect_denied or [])):
        for name in names:
            verdict = by_key.get(name)
            if verdict is None:
                problems.append("%s: no such application was evaluated" % name)
            elif verdict["verdict"] != wanted:
                problems.append("%s: expected %s, got %s" % (name, wanted, sentence(verdict)))
    return problems
