"""Access applications and policies: friendly rules, comparable forms and the bodies sent."""

from __future__ import annotations

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import (
    application_body,
    build_rules,
    check_duration,
    normalize_application,
    normalize_policy,
    normalize_rules,
    policy_body,
    policy_links,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import differences

IDS = {"authentik": "idp-1", "One-time PIN login": "idp-otp"}


def resolve(ref):
    return IDS.get(ref, ref)


def test_friendly_rules_become_api_rules():
    rules = build_rules({"emails": ["a@example.org"], "email_domains": ["example.com"], "everyone": True,
                         "login_methods": ["One-time PIN login"], "authentik_groups": ["sre"],
                         "oidc_claims": [{"claim_name": "department", "claim_value": "ops", "login_method": None}],
                         "rules": [{"group": {"id": "g-1"}}]}, resolve, "authentik")
    assert rules == [
        {"email": {"email": "a@example.org"}},
        {"email_domain": {"domain": "example.com"}},
        {"everyone": {}},
        {"login_method": {"id": "idp-otp"}},
        {"oidc": {"claim_name": "department", "claim_value": "ops", "identity_provider_id": "idp-1"}},
        {"oidc": {"claim_name": "groups", "claim_value": "sre", "identity_provider_id": "idp-1"}},
        {"group": {"id": "g-1"}},
    ]


@pytest.mark.parametrize("spec, words", [
    ({"emails": ["nobody"]}, "not an e-mail address"),
    ({"email_domains": ["@example.com"]}, "without @"),
    ({"authentik_groups": ["sre"]}, "need the login method"),
    ({"rules": [{"a": {}, "b": {}}]}, "one key"),
])
def test_bad_friendly_rules_say_what_to_fix(spec, words):
    with pytest.raises(ValueError, match=words):
        build_rules(spec, resolve, None)


def test_rule_order_and_repeats_do_not_count():
    one = [{"email": {"email": "a@x.y"}}, {"everyone": {}}]
    assert normalize_rules(one) == normalize_rules(list(reversed(one)) + [{"everyone": {}}])


def test_policy_compare_ignores_server_keys_and_rule_order():
    server = {"id": "p", "name": "G", "decision": "allow", "include": [{"everyone": {}}, {"email": {"email": "a@x.y"}}],
              "exclude": [], "require": [], "session_duration": "24h", "app_count": 2, "reusable": True,
              "created_at": "t"}
    want = {"name": "G", "decision": "allow", "include": normalize_rules([{"email": {"email": "a@x.y"}}, {"everyone": {}}])}
    assert differences(normalize_policy(server), want) == {}


def test_policy_body_carries_the_current_policy_over():
    current = {"id": "p", "name": "G", "decision": "allow", "include": [{"everyone": {}}],
               "exclude": [{"email": {"email": "x@y.z"}}], "session_duration": "8h", "app_count": 1}
    body = policy_body(current, {"include": [{"email": {"email": "a@x.y"}}]})
    assert body == {"name": "G", "decision": "allow", "include": [{"email": {"email": "a@x.y"}}],
                    "exclude": [{"email": {"email": "x@y.z"}}], "session_duration": "8h"}


def test_application_policies_are_compared_in_precedence_order():
    app = {"name": "G", "domain": "g.example", "type": "self_hosted",
           "policies": [{"id": "b", "precedence": 2, "name": "B"}, {"id": "a", "precedence": 1, "name": "A"}],
           "allowed_idps": ["y", "x"], "destinations": [{"type": "public", "uri": "g.example"}], "aud": "123"}
    assert policy_links(app) == ["a", "b"]
    norm = normalize_application(app)
    assert norm["allowed_idps"] == ["x", "y"] and norm["destinations"] == ["g.example"]
    assert differences(norm, {"policies": ["a", "b"], "allowed_idps": ["x", "y"]}) == {}
    assert differences(norm, {"policies": ["b", "a"]}) == {"policies": ["b", "a"]}


def test_application_body_links_policies_and_keeps_the_rest():
    current = {"id": "1", "aud": "z", "name": "G", "domain": "g.example", "type": "self_hosted", "session_duration": "8h",
               "policies": [{"id": "a", "precedence": 1, "name": "A", "include": []}], "app_launcher_visible": False,
               "destinations": [{"type": "public", "uri": "g.example"}], "self_hosted_domains": ["g.example"]}
    body = application_body(current, {"name": "G", "domain": "g.example", "type": "self_hosted",
                                      "destinations": ["extra.example", "g.example"]})
    assert body["policies"] == [{"id": "a", "precedence": 1}]
    assert body["destinations"] == [{"type": "public", "uri": "g.example"}, {"type": "public", "uri": "extra.example"}]
    assert body["session_duration"] == "8h" and body["app_launcher_visible"] is False
    assert "aud" not in body and "id" not in body and "self_hosted_domains" not in body
    body = application_body(current, {"policies": ["b", "a"]})
    assert body["policies"] == [{"id": "b", "precedence": 1}, {"id": "a", "precedence": 2}]


@pytest.mark.parametrize("value, ok", [("24h", True), ("2h45m", True), ("300ms", True), ("8 hours", False),
                                       ("h", False), (None, True)])
def test_durations(value, ok):
    if ok:
        check_duration(value, "session_duration")
    else:
        with pytest.raises(ValueError, match="session_duration"):
            check_duration(value, "session_duration")
