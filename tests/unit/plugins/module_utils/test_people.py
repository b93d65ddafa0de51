"""Leavers and the review: who may enter from directory data, who is a leaver, the review's rows, flags and
renderings (pure parts, no request)."""

from __future__ import annotations

import csv
import datetime
import io
import json

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _people, _people_client, _review

IDP = "0b1c2d3e-0000-4000-8000-000000000001"
OTHER = "0b1c2d3e-0000-4000-8000-000000000002"
LOGIN_METHOD = {"id": IDP, "name": "authentik", "config": {"claims": ["groups"], "email_claim_name": "email"}}
NOW = datetime.datetime(2026, 12, 3, 12, 0, 0, tzinfo=_people.UTC)


def sre_app(app_id="app-grafana", domain="grafana.example.com", name="Grafana", idps=(IDP,), **extra):
    app = {"id": app_id, "uid": app_id, "name": name, "domain": domain, "allowed_idps": list(idps),
           "policies": [{"name": "sre", "decision": "allow", "include": [
               {"oidc": {"claim_name": "groups", "claim_value": "sre", "identity_provider_id": IDP}}]}]}
    app.update(extra)
    return app


def ak_user(username, groups=("sre",), active=True, pk=1):
    return _people.person({"pk": pk, "username": username, "name": username.title(), "email": "%s@example.org" % username,
                           "is_active": active, "groups_obj": [{"name": g} for g in groups], "type": "internal"})


def session(app):
    return {"expiration": 1, "name": "s", "metadata": {"apps": {app["uid"]: {
        "hostname": app["domain"], "name": app["name"], "type": "self_hosted", "uid": app["uid"]}}}}


@pytest.mark.parametrize("text, seconds", [
    ("24h", 86400), ("1h30m", 5400), ("30m", 1800), ("0s", 0), ("1.5h", 5400), ("", None), ("soon", None), ("24hx", None),
])
def test_duration_seconds(text, seconds):
    assert _people.duration_seconds(text) == seconds


@pytest.mark.parametrize("text, expected", [
    ("2026-12-03T10:00:00Z", datetime.datetime(2026, 12, 3, 10, tzinfo=_people.UTC)),
    ("2026-12-03T10:00:00.123456Z", datetime.datetime(2026, 12, 3, 10, 0, 0, 123456, tzinfo=_people.UTC)),
    ("2026-12-03T12:00:00+02:00", datetime.datetime(2026, 12, 3, 10, tzinfo=_people.UTC)),
    ("yesterday", None), (None, None),
])
def test_parse_time(text, expected):
    assert _people.parse_time(text) == expected


def test_session_window_is_organization_plus_longest_session():
    apps = [sre_app(session_duration="8h"), sre_app(app_id="b", session_duration="30h")]
    window = _people.session_window(apps, {"session_duration": "24h"})
    assert window == datetime.timedelta(hours=54) + _people.CLOCK_SLACK
    assert _people.session_window([sre_app(session_duration="forever")], {}) is None


def test_may_hold_session():
    window = datetime.timedelta(hours=49)
    assert _people.may_hold_session({"last_successful_login": "2026-12-02T12:00:00Z"}, window, NOW)
    assert not _people.may_hold_session({"last_successful_login": "2026-11-01T12:00:00Z"}, window, NOW)
    assert not _people.may_hold_session({}, window, NOW)  # never signed in: no session
    assert _people.may_hold_session({"last_successful_login": "garbled"}, window, NOW)  # unreadable: look
    assert _people.may_hold_session({"last_successful_login": "2020-01-01T00:00:00Z"}, None, NOW)


def test_claims_follow_the_login_method():
    alice = ak_user("alice", groups=("sre", "dev"))
    assert _people.claims_for(alice, LOGIN_METHOD) == {"email": "alice@example.org", "groups": ["dev", "sre"]}
    bare = {"id": IDP, "config": {"claims": [], "email_claim_name": "mail"}}
    assert _people.claims_for(alice, bare) == {"email": "alice@example.org", "mail": "alice@example.org"}


def test_protected_applications():
    mine, other = sre_app(), sre_app(app_id="x", domain="x.example.com", name="X", idps=(OTHER,))
    open_app = sre_app(app_id="o", domain="o.example.com", name="Open", idps=())
    unrelated = {"id": "u", "name": "U", "domain": "u.example.com", "policies": [{"decision": "allow", "include": [
        {"everyone": {}}]}]}
    assert _people.protected_applications([mine, other, open_app, unrelated], IDP) == [mine, open_app]
    assert _people.protected_applications([mine, other], IDP, ["x.example.com"]) == [other]
    with pytest.raises(LookupFailed, match="option applications"):
        _people.protected_applications([mine], IDP, ["nope"])


def test_judge_reasons():
    app = sre_app()
    people = {"alice": [ak_user("alice")], "bob": [ak_user("bob", active=False)], "carol": [ak_user("carol", groups=())]}
    assert _people.judge("alice@example.org", people["alice"], [session(app)], [app], LOGIN_METHOD) is None
    assert _people.judge("alice@example.org", people["alice"], [], [app], LOGIN_METHOD) is None
    bob = _people.judge("bob@example.org", people["bob"], [session(app)], [app], LOGIN_METHOD)
    assert bob["reason"] == _people.INACTIVE and bob["applications"] == ["Grafana"] and "deactivated" in bob["why"]
    gone = _people.judge("dave@example.org", [], [session(app)], [app], LOGIN_METHOD)
    assert gone["reason"] == _people.GONE
    carol = _people.judge("carol@example.org", people["carol"], [session(app)], [app], LOGIN_METHOD)
    assert carol["reason"] == _people.NOT_ALLOWED and "Grafana no longer lets carol in" in carol["why"]


def test_an_undecidable_policy_keeps_the_session():
    app = sre_app()
    app["policies"] = [{"name": "office", "decision": "allow", "include": [{"ip": {"ip": "10.0.0.0/8"}}]}]
    assert _people.judge("carol@example.org", [ak_user("carol", groups=())], [session(app)], [app], LOGIN_METHOD) is None


def test_an_active_duplicate_counts_before_an_inactive_one():
    people = [ak_user("old", active=False, pk=1), ak_user("old", active=True, pk=2)]
    assert _people.admission(people) == (None, people[1])


def test_candidates_come_from_the_log():
    grafana, admin = sre_app(), sre_app(app_id="app-admin", domain="admin.example.com", name="Admin")
    admin["policies"][0]["include"][0]["oidc"]["claim_value"] = "admins"
    alice = ak_user("alice")
    signed = _people.sign_ins([{"allowed": True, "user_email": "Alice@example.org", "app_uid": "app-grafana",
                                "app_domain": "grafana.example.com"}])
    # denied by Admin, but never signed in there: not a candidate
    assert not _people.denied_where_signed_in(alice, [grafana, admin], LOGIN_METHOD, signed)
    signed.add(("alice@example.org", "admin.example.com"))
    assert _people.denied_where_signed_in(alice, [grafana, admin], LOGIN_METHOD, signed)
    # without a log: any application offering the login method
    assert _people.denied_where_signed_in(alice, [grafana, admin], LOGIN_METHOD, None)


# ---- the review ------------------------------------------------------------------------------------
def review(revoked=()):
    grafana = sre_app()
    directory = [ak_user("alice", pk=1), ak_user("bob", active=False, pk=2), ak_user("carol", groups=(), pk=3),
                 ak_user("erin", pk=4)]
    users = [
        {"id": "u-alice", "email": "alice@example.org", "access_seat": True, "last_successful_login": "2026-12-03T09:00:00Z"},
        {"id": "u-bob", "email": "bob@example.org", "access_seat": True, "last_successful_login": "2026-12-03T09:00:00Z"},
        {"id": "u-carol", "email": "carol@example.org", "access_seat": True, "last_successful_login": "2026-12-01T09:00:00Z"},
        {"id": "u-gone", "email": "gone@example.org", "access_seat": True, "last_successful_login": "2026-12-03T09:00:00Z"},
    ]
    sessions = {"u-alice": [session(grafana)], "u-bob": [session(grafana)], "u-gone": [session(grafana)]}
    identities = {"u-alice": {"idp": {"id": IDP, "type": "oidc"}}, "u-bob": {"idp": {"id": IDP, "type": "oidc"}},
                  "u-gone": {"idp": {"id": IDP, "type": "oidc"}}}
    log = [
        {"allowed": True, "user_email": "alice@example.org", "app_uid": "app-grafana", "created_at": "2026-12-03T09:00:00Z"},
        {"allowed": True, "user_email": "carol@example.org", "app_domain": "grafana.example.com",
         "created_at": "2026-12-01T09:00:00Z"},
        {"allowed": False, "user_email": "carol@example.org", "app_uid": "app-grafana", "created_at": "2026-12-02T09:00:00Z"},
    ]
    return _review.build(LOGIN_METHOD, [grafana], directory, users, sessions, identities, log, 30, revoked=revoked)


def rows_by_email(data):
    return dict((row["email"], row) for row in data["rows"])


def test_review_rows_and_flags():
    data = review(revoked=[{"email": "bob@example.org", "reason": "inactive"}])
    rows = rows_by_email(data)
    assert data["schema_version"] == 1 and data["people"] == 5
    alice, bob, carol, erin, gone = (rows[e + "@example.org"] for e in ("alice", "bob", "carol", "erin", "gone"))
    assert alice["may_enter"] == "allowed" and alice["flags"] == [] and alice["allowed_sign_ins"] == 1
    assert alice["active_session"] is True and alice["last_seen_login_method"] == "authentik"
    assert bob["flags"] == ["leaver_with_session", "revoked_this_run"] and "deactivated" in bob["why_not"]
    assert carol["may_enter"] == "denied" and carol["flags"] == ["signed_in_not_allowed", "blocked_attempts"]
    assert carol["active_session"] is False and carol["blocked_sign_ins"] == 1
    assert erin["flags"] == ["granted_unused"] and erin["access_user"] is None and erin["seat"] is None
    assert gone["in_authentik"] is False and gone["flags"] == ["leaver_with_session"]
    assert data["flag_counts"]["leaver_with_session"] == 2


def test_review_renderings():
    data = review()
    parsed = json.loads(_review.render_json(data))
    assert parsed == json.loads(json.dumps(data))
    table = list(csv.DictReader(io.StringIO(_review.render_csv(data))))
    assert [r["email"] for r in table] == [r["email"] for r in data["rows"]]
    assert table[2]["flags"] == "signed_in_not_allowed blocked_attempts"
    markdown = _review.render_markdown(dict(data, generated_at="2026-12-03T12:00:00Z"))
    assert "| carol | carol@example.org |" in markdown and "Generated at 2026-12-03T12:00:00Z." in markdown
    assert "| leaver_with_session | 2 |" in markdown


def test_only_the_stamp_changing_is_no_change():
    data = review()
    first = _review.render_json(dict(data, generated_at="2026-12-01T00:00:00Z"))
    second = _review.render_json(dict(data, generated_at="2026-12-03T00:00:00Z"))
    assert _review.without_stamp(first, ".json") == _review.without_stamp(second, ".json")
    md1 = _review.render_markdown(dict(data, generated_at="a"))
    md2 = _review.render_markdown(dict(data, generated_at="b"))
    assert _review.without_stamp(md1, ".md") == _review.without_stamp(md2, ".md")
    changed = _review.render_markdown(review(["bob@example.org"]))
    assert _review.without_stamp(md1, ".md") != _review.without_stamp(changed, ".md")


@pytest.mark.parametrize("method, path, needed", [
    ("GET", "/accounts/a/access/users", "Access: Audit Logs Read"),
    ("GET", "/accounts/a/access/users/u/active_sessions", "Access: Audit Logs Read"),
    ("GET", "/accounts/a/access/logs/access_requests", "Access: Audit Logs Read"),
    ("POST", "/accounts/a/access/organizations/revoke_user", "Access: Organizations Revoke"),
    ("PATCH", "/accounts/a/access/seats", "Zero Trust: Seats Write"),
    ("GET", "/accounts/a/access/apps", None),
])
def test_permission_hints(method, path, needed):
    found = _people_client.permission_for(method, path)
    assert (found is None) if needed is None else (needed in found)
