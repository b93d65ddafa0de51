"""Who gets in: Access policy evaluation (include OR, require AND, exclude NOT; order of policies)."""

from __future__ import annotations

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_eval import (
    ALLOWED,
    DENIED,
    UNKNOWN,
    Identity,
    evaluate_application,
    evaluate_policy,
    expectations,
    match_rule,
    ordered_policies,
    sentence,
)

IDP = "idp-authentik"
OTHER = "idp-other"


def oidc(value, claim="groups", idp=IDP):
    return {"oidc": {"claim_name": claim, "claim_value": value, "identity_provider_id": idp}}


def user(groups=("sre",), email="akadmin@example.org", idp=IDP, **claims):
    return Identity(email, dict(claims, groups=list(groups), email=email), idp, "authentik")


def policy(name="P", decision="allow", include=(), exclude=(), require=(), precedence=None):
    out = {"name": name, "decision": decision, "include": list(include), "exclude": list(exclude),
           "require": list(require)}
    if precedence is not None:
        out["precedence"] = precedence
    return out


@pytest.mark.parametrize("rule, expected", [
    ({"everyone": {}}, True),
    ({"email": {"email": "AKADMIN@example.org"}}, True),
    ({"email": {"email": "other@example.org"}}, False),
    ({"email_domain": {"domain": "Example.org"}}, True),
    ({"email_domain": {"domain": "example.com"}}, False),
    ({"login_method": {"id": IDP}}, True),
    ({"login_method": {"id": OTHER}}, False),
    (oidc("sre"), True),
    (oidc("Sre"), False),                       # claim values are compared exactly
    (oidc("sre", idp=OTHER), False),             # the claim must come from the login method used
    (oidc("x", claim="missing"), False),
    ({"group": {"id": "access-group"}}, None),   # cannot be decided from an ID token
    ({"ip": {"ip": "192.0.2.0/24"}}, None),
])
def test_match_rule(rule, expected):
    assert match_rule(rule, user())[0] is expected


def test_scalar_and_boolean_claims():
    ident = Identity("a@b.c", {"department": "ops", "admin": True}, IDP)
    assert match_rule(oidc("ops", claim="department"), ident)[0] is True
    assert match_rule(oidc("true", claim="admin"), ident)[0] is True


def test_include_is_or_require_is_and_exclude_is_not():
    pol = policy(include=[oidc("admins"), oidc("sre")], require=[{"email_domain": {"domain": "example.org"}}],
                 exclude=[{"email": {"email": "intern@example.org"}}])
    assert evaluate_policy(pol, user())[0] is True
    assert evaluate_policy(pol, user(groups=["staff"]))[0] is False
    ok, why = evaluate_policy(pol, user(email="akadmin@example.com"))
    assert ok is False and "require rule e-mail domain is example.org failed" in why
    ok, why = evaluate_policy(pol, user(email="intern@example.org"))
    assert ok is False and "excluded by e-mail is intern@example.org" in why


def test_no_include_rule_names_what_was_missing():
    ok, why = evaluate_policy(policy(include=[oidc("sre")]), user(groups=["staff"]))
    assert ok is False
    assert "groups claim is 'sre'" in why and "['staff']" in why


def test_unknown_rules_make_the_policy_undecided_not_a_guess():
    assert evaluate_policy(policy(include=[{"group": {"id": "g"}}]), user())[0] is None
    assert evaluate_policy(policy(include=[oidc("sre")], require=[{"ip": {"ip": "10.0.0.0/8"}}]), user())[0] is None
    # An include rule that matches for certain decides, even next to an unknown one.
    assert evaluate_policy(policy(include=[{"group": {"id": "g"}}, oidc("sre")]), user())[0] is True


def test_order_bypass_first_then_precedence():
    pols = [policy("deny-all", "deny", [{"everyone": {}}], precedence=2),
            policy("sre", "allow", [oidc("sre")], precedence=1),
            policy("open", "bypass", [{"email_domain": {"domain": "nowhere.example"}}], precedence=3),
            policy("svc", "non_identity", [{"everyone": {}}], precedence=4)]
    assert [p["name"] for p in ordered_policies(pols)] == ["open", "svc", "sre", "deny-all"]
    app = {"name": "Grafana", "domain": "grafana.example.com"}
    verdict = evaluate_application(app, pols, user())
    assert verdict["verdict"] == ALLOWED and verdict["policy"] == "sre"
    verdict = evaluate_application(app, pols, user(groups=["staff"]))
    assert verdict["verdict"] == DENIED and verdict["policy"] == "deny-all"
    assert sentence(verdict).startswith("denied, because policy 'deny-all' matched")


def test_a_deny_before_an_allow_wins():
    pols = [policy("no-interns", "deny", [{"email": {"email": "akadmin@example.org"}}], precedence=1),
            policy("sre", "allow", [oidc("sre")], precedence=2)]
    assert evaluate_application({"name": "A"}, pols, user())["verdict"] == DENIED


def test_bypass_lets_in_without_sign_in():
    verdict = evaluate_application({"name": "A"}, [policy("open", "bypass", [{"everyone": {}}])], user(groups=[]))
    assert verdict["verdict"] == ALLOWED and "bypass" in verdict["reason"]


def test_no_matching_policy_and_no_policy_at_all():
    verdict = evaluate_application({"name": "A"}, [policy("sre", "allow", [oidc("sre")])], user(groups=["staff"]))
    assert verdict["verdict"] == DENIED and verdict["reason"].startswith("no policy lets the user in")
    verdict = evaluate_application({"name": "A"}, [], user())
    assert verdict["verdict"] == DENIED and "no policy" in verdict["reason"]


def test_allowed_idps_without_the_login_method_denies():
    app = {"name": "A", "allowed_idps": [OTHER]}
    verdict = evaluate_application(app, [policy("all", "allow", [{"everyone": {}}])], user())
    assert verdict["verdict"] == DENIED and "allowed_idps" in verdict["reason"]


def test_undecided_earlier_policy_makes_the_verdict_unknown():
    pols = [policy("grp", "deny", [{"group": {"id": "g"}}], precedence=1),
            policy("sre", "allow", [oidc("sre")], precedence=2)]
    assert evaluate_application({"name": "A"}, pols, user())["verdict"] == UNKNOWN


def test_expectations():
    verdicts = [{"application": "Grafana", "domain": "grafana.example.com", "verdict": ALLOWED, "reason": "r"},
                {"application": "Vault", "domain": "vault.example.com", "verdict": DENIED, "reason": "no"}]
    assert expectations(verdicts, ["Grafana"], ["vault.example.com"]) == []
    problems = expectations(verdicts, ["Vault", "Nope"], ["Grafana"])
    assert problems == ["Vault: expected allowed, got denied, because no", "Nope: no such application was evaluated",
                        "Grafana: expected denied, got allowed (r)"]
