"""The Cloudflare test server's people: Access users, sessions, last seen identity, failed logins, seats,
revoke_user, the access-request log, the sign-in control (with real ID tokens from the authentik test
server) and the planting control, over real HTTP on 127.0.0.1. Answers are held to the SDK 5.9 models."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests

from tests.servers._control import Server
from tests.servers.authentik.app import AuthentikApp
from tests.servers.cloudflare.app import CloudflareApp
from tests.servers.test_authentik_oidc import CALLBACK, TOKEN as AK_TOKEN, Setup, code_of

TOKEN = "cf-test-token-people-0123456789abcdefghij"


@pytest.fixture(scope="module")
def servers():
    cf_srv = Server(CloudflareApp(token=TOKEN, page_size=2)).start()
    ak_srv = Server(AuthentikApp(token=AK_TOKEN, page_size=100)).start()
    yield cf_srv, ak_srv
    cf_srv.stop()
    ak_srv.stop()


class Cf:
    """Calls to the Cloudflare test server's account API and its control interface."""

    def __init__(self, server: Server):
        self.server = server
        self.app: CloudflareApp = server.app
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + TOKEN
        self.base = server.url + "/client/v4/accounts/%s/" % self.app.account_id

    def __call__(self, method, path, **kwargs):
        return self.session.request(method, self.base + path, timeout=10, **kwargs)

    def control(self, action, body):
        return self.session.post(self.server.url + "/_test/" + action, json=body, timeout=10)

    def ok(self, method, path, **kwargs):
        resp = self(method, path, **kwargs)
        assert resp.status_code in (200, 201), resp.text
        return resp.json()

    def requests(self):
        return self.session.get(self.server.url + "/_test/requests", timeout=5).json()


@pytest.fixture
def env(servers):
    cf_srv, ak_srv = servers
    ak = Setup(ak_srv)  # resets authentik; a provider bound to application sample-app
    cf = Cf(cf_srv)
    cf.session.post(cf_srv.url + "/_test/reset", timeout=5).raise_for_status()
    idp = cf.ok("POST", "access/identity_providers", json={
        "name": "authentik", "type": "oidc",
        "config": {"client_id": ak.client_id, "client_secret": ak.secret,
                   "auth_url": ak.url + "/application/o/authorize/", "token_url": ak.url + "/application/o/token/",
                   "certs_url": ak.url + "/application/o/sample-app/jwks/", "claims": ["groups"],
                   "scopes": ["openid", "email", "profile"]}})["result"]
    pol = cf.ok("POST", "access/policies", json={
        "name": "engineers", "decision": "allow",
        "include": [{"oidc": {"claim_name": "groups", "claim_value": "engineering", "identity_provider_id": idp["id"]}}]})["result"]
    apps = {}
    for name in ("grafana", "wiki"):
        apps[name] = cf.ok("POST", "access/apps", json={
            "name": name, "domain": "%s.example.com" % name, "type": "self_hosted", "session_duration": "8h",
            "allowed_idps": [idp["id"]], "policies": [{"id": pol["id"], "precedence": 1}]})["result"]
    cf.idp, cf.policy, cf.apps, cf.ak = idp, pol, apps, ak
    return cf


def id_token(ak: Setup, username=None, password=None) -> str:
    ak.browser.cookies.clear()
    code = code_of(ak.log_in(username, password))
    resp = ak.token(code)
    assert resp.status_code == 200, resp.text
    return resp.json()["id_token"]


def signin(cf: Cf, token: str, domain="grafana.example.com", **extra) -> dict:
    resp = cf.control("access/signin", dict({"id_token": token, "app_domain": domain}, **extra))
    assert resp.status_code == 200, resp.text
    return resp.json()


def sdk_model(path: str, name: str):
    module = pytest.importorskip("cloudflare.types.zero_trust." + path)
    return getattr(module, name)


def assert_fits(model, item: dict, extra: tuple = ()) -> None:
    """``item`` validates against the SDK's response model and has no key the model (or ``extra``) lacks."""
    model.model_validate(item)
    known = set()
    for field_name, field in model.model_fields.items():
        known.add(field.alias or field_name)
    assert set(item) - known - set(extra) == set(), sorted(set(item) - known)


def test_signin_creates_user_session_identity_and_log_row(env):
    cf = env
    out = signin(cf, id_token(cf.ak))
    assert out["allowed"] is True and out["email"] == "idpbridge-tester@example.org", out
    assert "engineers" in out["reason"] and out["idp_id"] == cf.idp["id"]
    users = cf.ok("GET", "access/users")
    assert users["result_info"]["total_count"] == 1
    (user,) = users["result"]
    assert_fits(sdk_model("access.user_list_response", "UserListResponse"), user)
    assert user["id"] == out["user_id"] and user["access_seat"] is True and user["seat_uid"]
    assert user["last_successful_login"]
    sessions = cf.ok("GET", "access/users/%s/active_sessions" % user["id"])["result"]
    assert len(sessions) == 1
    assert_fits(sdk_model("access.users.active_session_list_response", "ActiveSessionListResponse"), sessions[0])
    meta = sessions[0]["metadata"]
    assert meta["nonce"] == out["nonce"] and meta["ttl"] == 8 * 3600
    assert meta["apps"] == {cf.apps["grafana"]["id"]: {"hostname": "grafana.example.com", "name": "grafana",
                                                       "type": "self_hosted", "uid": cf.apps["grafana"]["id"]}}
    identity = cf.ok("GET", "access/users/%s/last_seen_identity" % user["id"])["result"]
    assert_fits(sdk_model("access.users.identity", "Identity"), identity, extra=("name", "amr", "oidc_fields"))
    assert identity["idp"] == {"id": cf.idp["id"], "type": "oidc"}
    assert identity["email"] == "idpbridge-tester@example.org"
    assert identity["oidc_fields"] == {"groups": ["engineering"]}  # only the claims the login method lists
    one = cf.ok("GET", "access/users/%s/active_sessions/%s" % (user["id"], out["nonce"]))["result"]
    assert_fits(sdk_model("access.users.active_session_get_response", "ActiveSessionGetResponse"), one,
                extra=("name", "amr", "oidc_fields"))
    assert one["isActive"] is True
    logs = cf.ok("GET", "access/logs/access_requests")["result"]
    assert len(logs) == 1
    assert_fits(sdk_model("access.logs.access_request", "AccessRequest"), logs[0])
    assert logs[0]["allowed"] is True and logs[0]["app_uid"] == cf.apps["grafana"]["id"]
    assert logs[0]["user_email"] == "idpbridge-tester@example.org" and logs[0]["connection"] == "oidc"
    # a second application in the same session: one nonce covers both
    again = signin(cf, id_token(cf.ak), "wiki.example.com")
    assert again["nonce"] == out["nonce"]
    sessions = cf.ok("GET", "access/users/%s/active_sessions" % user["id"])["result"]
    assert sorted(sessions[0]["metadata"]["apps"]) == sorted([cf.apps["grafana"]["id"], cf.apps["wiki"]["id"]])
    # the JWKS was fetched from authentik, nothing was logged at Cloudflare by the control calls
    assert [r["path"] for r in cf.requests() if "/_test/" in r["path"]] == []


def test_signin_blocked_by_policy_writes_a_blocked_row_and_a_failed_login(env):
    cf = env
    ak_app = cf.ak.app
    ak_app.add_user("carol", "Carol", "carol@example.org", ["contractors"], "pw-carol-123456")
    out = signin(cf, id_token(cf.ak, "carol", "pw-carol-123456"))
    assert out["allowed"] is False and out["nonce"] is None and "no policy" in out["reason"]
    assert cf.ok("GET", "access/users")["result"] == []
    row = cf.ok("GET", "access/logs/access_requests")["result"][0]
    assert row["allowed"] is False and row["user_email"] == "carol@example.org"
    # once Access knows the person, a blocked sign-in is also a failed login
    planted = cf.control("access/sessions", {"email": "carol@example.org", "idp_id": cf.idp["id"],
                                             "apps": ["wiki.example.com"]}).json()["people"][0]
    signin(cf, id_token(cf.ak, "carol", "pw-carol-123456"))
    failed = cf.ok("GET", "access/users/%s/failed_logins" % planted["user_id"])["result"]
    assert len(failed) == 1
    assert_fits(sdk_model("access.users.failed_login_list_response", "FailedLoginListResponse"), failed[0])
    assert failed[0]["metadata"]["user_email"] == "carol@example.org"


@pytest.mark.parametrize("knob, words", [
    ({"id_token_signing": "foreign"}, "signature"),
    ({"id_token_expired": True}, "expired"),
    ({"id_token_omit_claims": ["email"]}, "no e-mail"),
])
def test_signin_verifies_the_token_against_the_login_method(env, knob, words):
    cf = env
    cf.ak.admin.post(cf.ak.url + "/_test/config", json=knob, timeout=5).raise_for_status()
    out = signin(cf, id_token(cf.ak))
    assert out["allowed"] is False and words in out["reason"], out
    row = cf.ok("GET", "access/logs/access_requests")["result"][0]
    assert row["allowed"] is False
    assert row["user_email"] == ""  # a refused token, or one without an e-mail, names nobody


def test_signin_needs_a_login_method_with_the_tokens_audience(env):
    cf = env
    token = id_token(cf.ak)
    idp = cf.ok("GET", "access/identity_providers/" + cf.idp["id"])["result"]
    body = {"name": idp["name"], "type": "oidc", "config": dict(idp["config"], client_id="someone-else")}
    body["config"].pop("redirect_url")
    cf.ok("PUT", "access/identity_providers/" + cf.idp["id"], json=body)
    out = signin(cf, token)
    assert out["allowed"] is False and "aud" in out["reason"]
    unknown = cf.control("access/signin", {"id_token": token, "app_domain": "nowhere.example.com"})
    assert unknown.status_code == 404


def test_revoke_user_ends_every_session_and_keeps_the_user(env):
    cf = env
    out = signin(cf, id_token(cf.ak))
    resp = cf("POST", "access/organizations/revoke_user", json={"email": "IDPBRIDGE-tester@example.org"})
    assert resp.status_code == 200 and resp.json()["result"] is True
    assert cf.ok("GET", "access/users/%s/active_sessions" % out["user_id"])["result"] == []
    assert cf.ok("GET", "access/users")["result_info"]["total_count"] == 1
    # unknown people: true as well; zone scope too; a read-only token may not
    assert cf("POST", "access/organizations/revoke_user", json={"email": "nobody@example.org"}).json()["result"] is True
    zone = cf.session.post(cf.server.url + "/client/v4/zones/%s/access/organizations/revoke_user" % cf.app.zone_id,
                           json={"email": "x@example.org"}, timeout=5)
    assert zone.status_code == 200
    ro = requests.post(cf.base + "access/organizations/revoke_user", json={"email": "x@example.org"}, timeout=5,
                       headers={"Authorization": "Bearer " + cf.app.readonly_token})
    assert ro.status_code == 403


@pytest.mark.parametrize("body, words", [
    ({}, "email"),
    ({"email": "a@example.org", "reason": "left"}, "unknown key 'reason'"),
    ({"email": "a@example.org", "devices": "yes"}, "body_devices"),
])
def test_revoke_user_contract(env, body, words):
    resp = env("POST", "access/organizations/revoke_user", json=body)
    assert resp.status_code == 400 and words in str(resp.json()["errors"]), resp.text
    assert env.requests()[-1]["contract_errors"]


def test_seats_patch_frees_a_seat(env):
    cf = env
    out = signin(cf, id_token(cf.ak))
    user = cf.ok("GET", "access/users/" + out["user_id"])["result"]
    resp = cf("PATCH", "access/seats", json=[{"seat_uid": user["seat_uid"], "access_seat": False, "gateway_seat": False}])
    assert resp.status_code == 200, resp.text
    (seat,) = resp.json()["result"]
    assert_fits(sdk_model("seat", "Seat"), seat)
    assert seat["access_seat"] is False
    assert cf.ok("GET", "access/users/" + out["user_id"])["result"]["access_seat"] is False
    bad = cf("PATCH", "access/seats", json=[{"seat_uid": user["seat_uid"], "access_seat": False}])
    assert bad.status_code == 400 and "gateway_seat" in bad.text
    assert cf("PATCH", "access/seats", json=[{"seat_uid": "nope", "access_seat": False,
                                              "gateway_seat": False}]).status_code == 404


def test_users_list_pages_and_filters(env):
    cf = env
    people = [{"email": "p%d@example.org" % i, "name": "Person %d" % i, "idp_id": cf.idp["id"]} for i in range(5)]
    assert cf.control("access/sessions", {"people": people}).status_code == 200
    first = cf.ok("GET", "access/users")
    assert first["result_info"] == {"page": 1, "per_page": 2, "count": 2, "total_count": 5, "total_pages": 3}
    assert cf.ok("GET", "access/users", params={"page": 4})["result"] == []
    assert [u["email"] for u in cf.ok("GET", "access/users", params={"per_page": 50})["result"]] == \
        ["p%d@example.org" % i for i in range(5)]
    assert [u["name"] for u in cf.ok("GET", "access/users", params={"email": "P3@example.org"})["result"]] == ["Person 3"]
    assert [u["email"] for u in cf.ok("GET", "access/users", params={"name": "person 1"})["result"]] == ["p1@example.org"]
    assert cf.ok("GET", "access/users", params={"search": "person", "per_page": 10})["result_info"]["total_count"] == 5
    bad = cf("GET", "access/users", params={"sort": "email"})
    assert bad.status_code == 400 and "unknown parameter 'sort'" in bad.text
    assert cf("GET", "access/users/nope").status_code == 404


def test_planting_1000_people_is_quick_and_sessions_expire(env):
    cf = env
    people = [{"email": "u%04d@example.org" % i, "idp_id": cf.idp["id"], "apps": ["grafana.example.com"],
               "claims": {"groups": ["engineering"]}} for i in range(1000)]
    started = time.monotonic()
    resp = cf.control("access/sessions", {"people": people})
    assert resp.status_code == 200 and time.monotonic() - started < 5
    planted = resp.json()["people"]
    assert len(planted) == 1000 and all(p["nonce"] for p in planted)
    assert cf.ok("GET", "access/users", params={"per_page": 1000})["result_info"]["total_count"] == 1000
    old = cf.control("access/sessions", {"email": "old@example.org", "idp_id": cf.idp["id"],
                                         "apps": ["wiki.example.com"], "expires_in": -60}).json()["people"][0]
    assert cf.ok("GET", "access/users/%s/active_sessions" % old["user_id"])["result"] == []
    assert cf.ok("GET", "access/users/%s/last_seen_identity" % old["user_id"])["result"]["idp"]["id"] == cf.idp["id"]


def test_access_request_log_filters_and_pages(env):
    cf = env
    now = datetime.now(timezone.utc)

    def stamp(days):
        return (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    for i, days in enumerate((40, 20, 10, 1)):
        cf.control("access/sessions", {"email": "l%d@example.org" % i, "idp_id": cf.idp["id"], "at": stamp(days),
                                       "apps": ["grafana.example.com"], "blocked_apps": ["wiki.example.com"]})
    rows = cf.ok("GET", "access/logs/access_requests", params={"per_page": 100})["result"]
    assert len(rows) == 8 and rows[0]["created_at"] >= rows[-1]["created_at"]  # newest first
    recent = cf.ok("GET", "access/logs/access_requests", params={"since": stamp(30), "per_page": 100})
    assert recent["result_info"]["total_count"] == 6
    asc = cf.ok("GET", "access/logs/access_requests", params={"direction": "asc", "limit": 3})["result"]
    assert [r["user_email"] for r in asc] == ["l0@example.org", "l0@example.org", "l1@example.org"]
    page2 = cf.ok("GET", "access/logs/access_requests", params={"page": 2, "per_page": 3})
    assert page2["result_info"] == {"page": 2, "per_page": 3, "count": 3, "total_count": 8}
    rows = cf.ok("GET", "access/logs/access_requests", params={"per_page": 100, "allowedOp": "eq"})["result"]
    blocked = [r for r in rows if not r["allowed"]]
    assert len(blocked) == 4 and all(r["app_domain"] == "wiki.example.com" for r in blocked)
    one = cf.ok("GET", "access/logs/access_requests", params={"email": "l2@example.org", "email_exact": "true"})
    assert one["result_info"]["total_count"] == 2
    sub = cf.ok("GET", "access/logs/access_requests", params={"email": "@EXAMPLE.org", "per_page": 100})
    assert sub["result_info"]["total_count"] == 8
    neq = cf.ok("GET", "access/logs/access_requests", params={"email": "l2@", "emailOp": "neq", "per_page": 100})
    assert neq["result_info"]["total_count"] == 6
    slim = cf.ok("GET", "access/logs/access_requests", params={"fields": "user_email,allowed", "limit": 1})["result"]
    assert list(slim[0]) == ["user_email", "allowed"]
    for params, words in (({"direction": "up"}, "direction"), ({"since": "yesterday"}, "since"),
                          ({"allowedOp": "gt"}, "allowedOp"), ({"user": "x"}, "unknown parameter 'user'"),
                          ({"allowed": "false"}, "unknown parameter 'allowed'")):
        bad = cf("GET", "access/logs/access_requests", params=params)
        assert bad.status_code == 400 and words in bad.text, (params, bad.text)


@pytest.mark.parametrize("how", ["patch", "put", "delete"])
def test_scim_deactivation_with_user_deprovision_revokes_sessions(env, how):
    cf = env
    idp = cf.ok("GET", "access/identity_providers/" + cf.idp["id"])["result"]
    body = {"name": idp["name"], "type": "oidc", "config": {k: v for k, v in idp["config"].items() if k != "redirect_url"},
            "scim_config": {"enabled": True, "user_deprovision": True, "seat_deprovision": True}}
    secret = cf.ok("PUT", "access/identity_providers/" + cf.idp["id"], json=body)["result"]["scim_config"]["secret"]
    out = signin(cf, id_token(cf.ak))
    scim = requests.Session()
    scim.headers["Authorization"] = "Bearer " + secret
    base = cf.server.url + "/populations/%s/scim/v2/Users" % cf.idp["id"]
    made = scim.post(base, json={"userName": "idpbridge-tester", "active": True,
                                 "emails": [{"value": "idpbridge-tester@example.org", "primary": True}]}, timeout=5)
    assert made.status_code == 201
    assert len(cf.ok("GET", "access/users/%s/active_sessions" % out["user_id"])["result"]) == 1
    item = base + "/" + made.json()["id"]
    if how == "patch":
        done = scim.patch(item, timeout=5, json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                                 "Operations": [{"op": "replace", "value": {"active": False}}]})
    elif how == "put":
        done = scim.put(item, timeout=5, json={"userName": "idpbridge-tester", "active": False,
                                               "emails": [{"value": "idpbridge-tester@example.org", "primary": True}]})
    else:
        done = scim.delete(item, timeout=5)
    assert done.status_code in (200, 204)
    assert cf.app.people.revocations[-1]["why"] == "scim user_deprovision"
    assert cf.ok("GET", "access/users/%s/active_sessions" % out["user_id"])["result"] == []
    assert cf.ok("GET", "access/users/" + out["user_id"])["result"]["access_seat"] is False


def test_scim_deactivation_without_user_deprovision_keeps_sessions(env):
    cf = env
    idp = cf.ok("GET", "access/identity_providers/" + cf.idp["id"])["result"]
    body = {"name": idp["name"], "type": "oidc", "config": {k: v for k, v in idp["config"].items() if k != "redirect_url"},
            "scim_config": {"enabled": True}}
    secret = cf.ok("PUT", "access/identity_providers/" + cf.idp["id"], json=body)["result"]["scim_config"]["secret"]
    out = signin(cf, id_token(cf.ak))
    headers = {"Authorization": "Bearer " + secret}
    base = cf.server.url + "/populations/%s/scim/v2/Users" % cf.idp["id"]
    made = requests.post(base, headers=headers, timeout=5, json={
        "userName": "t", "emails": [{"value": "idpbridge-tester@example.org", "primary": True}]}).json()
    assert requests.delete(base + "/" + made["id"], headers=headers, timeout=5).status_code == 204
    assert len(cf.ok("GET", "access/users/%s/active_sessions" % out["user_id"])["result"]) == 1


def test_deactivated_authentik_user_cannot_get_a_token(env):
    """The authentik side of an offboarding: a deactivated user no longer signs in."""
    ak = env.ak
    pk = ak.app.user_pk(ak.app.test_username)
    resp = ak.admin.patch(ak.url + "/api/v3/core/users/%d/" % pk, json={"is_active": False}, timeout=5)
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    first = ak.authorize()
    url = ak.executor("default-authentication-flow", urlsplit(first.headers["Location"]).query)
    ak.get(url)
    ak.post(url, json={"component": "ak-stage-identification", "uid_field": ak.app.test_username})
    resp = ak.post(url, json={"component": "ak-stage-password", "password": ak.app.test_password})
    assert resp.status_code == 200 and resp.json().get("response_errors"), resp.text
    assert CALLBACK  # the provider's callback stays registered


def test_tokens_limited_to_permission_groups(env):
    cf = env
    audit, revoker = "cf-audit-only-token-0123456789", "cf-revoke-only-token-0123456789"
    resp = cf.session.post(cf.server.url + "/_test/config", timeout=5, json={"tokens": [
        {"token": audit, "permissions": ["Access: Audit Logs Read"]},
        {"token": revoker, "permissions": ["Access: Organizations Revoke"]}]})
    assert resp.status_code == 204

    def as_token(token, method, path, **kwargs):
        return requests.request(method, cf.base + path, headers={"Authorization": "Bearer " + token}, timeout=5, **kwargs)

    assert as_token(audit, "GET", "access/users").status_code == 200
    assert as_token(audit, "GET", "access/logs/access_requests").status_code == 200
    denied = as_token(audit, "POST", "access/organizations/revoke_user", json={"email": "a@example.org"})
    assert denied.status_code == 403 and denied.json()["errors"][0]["code"] == 10000
    assert as_token(audit, "PATCH", "access/seats", json=[{"seat_uid": "x", "access_seat": False,
                                                          "gateway_seat": False}]).status_code == 403
    assert as_token(revoker, "POST", "access/organizations/revoke_user", json={"email": "a@example.org"}).status_code == 200
    assert as_token(revoker, "GET", "access/users").status_code == 403


def test_user_create_and_delete(env):
    cf = env
    made = cf("POST", "access/users", json={"email": "new@example.org", "name": "New"})
    assert made.status_code == 201
    assert_fits(sdk_model("access.user_create_response", "UserCreateResponse"), made.json()["result"])
    assert cf("POST", "access/users", json={"email": "NEW@example.org"}).status_code == 409
    bad = cf("POST", "access/users", json={"email": "x@example.org", "role": "admin"})
    assert bad.status_code == 400 and "unknown key 'role'" in bad.text
    out = signin(cf, id_token(cf.ak))
    assert cf("DELETE", "access/users/" + out["user_id"]).status_code == 200
    assert cf("GET", "access/users/" + out["user_id"]).status_code == 404
    assert cf.app.people.revocations[-1] == dict(cf.app.people.revocations[-1], why="user deleted", sessions=1)
