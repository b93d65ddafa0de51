"""Tests of the Cloudflare API test server, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import time

import pytest
import requests

from tests.servers._control import Server
from tests.servers.cloudflare import contract
from tests.servers.cloudflare.app import CloudflareApp

TOKEN = "cf-test-token-0123456789abcdefghijklmnopqrs"
ACCOUNT = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def oidc_body(name="authentik", secret="s3cret-value", **config):
    cfg = {
        "client_id": "cf-client",
        "client_secret": secret,
        "auth_url": "http://127.0.0.1:9000/application/o/authorize/",
        "token_url": "http://127.0.0.1:9000/application/o/token/",
        "certs_url": "http://127.0.0.1:9000/application/o/cf/jwks/",
        "scopes": ["openid", "email", "profile"],
        "claims": ["groups"],
        "pkce_enabled": True,
    }
    cfg.update(config)
    return {"name": name, "type": "oidc", "config": cfg}


@pytest.fixture(scope="module")
def server():
    srv = Server(CloudflareApp(token=TOKEN, page_size=20, account_id=ACCOUNT)).start()
    yield srv
    srv.stop()


class Client:
    def __init__(self, srv: Server):
        self.srv = srv
        self.app: CloudflareApp = srv.app
        self.api = srv.url + "/client/v4"
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + TOKEN

    def call(self, method, path, headers=None, auth=True, **kwargs):
        hdrs = dict(self.session.headers if auth else {})
        if not auth:
            hdrs.pop("Authorization", None)
        hdrs.update(headers or {})
        return requests.request(method, self.api + path, headers=hdrs, timeout=5, **kwargs)

    def idps(self, scope="account"):
        if scope == "account":
            return "/accounts/%s/access/identity_providers" % self.app.account_id
        return "/zones/%s/access/identity_providers" % self.app.zone_id

    def control(self, method, action, **kwargs):
        resp = self.session.request(method, self.srv.url + "/_test/" + action, timeout=5, **kwargs)
        assert resp.status_code in (200, 204), resp.text
        return resp.json() if resp.status_code == 200 else None

    def create(self, body=None, scope="account"):
        resp = self.call("POST", self.idps(scope), json=body or oidc_body())
        assert resp.status_code == 201, resp.text
        return resp.json()["result"]


@pytest.fixture()
def cf(server):
    client = Client(server)
    client.control("POST", "reset")
    return client


def assert_failure(resp, status, code):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["success"] is False
    assert body["result"] is None
    assert body["messages"] == []
    assert body["errors"] and body["errors"][0]["code"] == code, body
    assert isinstance(body["errors"][0]["message"], str)
    return body


def parse_oidc(result):
    from cloudflare.types.zero_trust.identity_provider import AccessOIDC  # pylint: disable=import-outside-toplevel
    model = AccessOIDC.model_validate(result)
    assert model.type == "oidc"
    return model


# ---- authentication -------------------------------------------------------------------------------
def test_missing_and_malformed_credentials(cf):
    body = assert_failure(cf.call("GET", cf.idps(), auth=False), 400, 6003)
    assert body["errors"][0]["message"] == "Invalid request headers"
    assert body["errors"][0]["error_chain"][0]["code"] == 9106
    body = assert_failure(cf.call("GET", cf.idps(), headers={"Authorization": "Basic abc"}), 400, 6003)
    assert body["errors"][0]["error_chain"] == [{"code": 6111, "message": "Invalid format for Authorization header"}]
    body = assert_failure(cf.call("GET", cf.idps(), headers={"Authorization": "Bearer bad token!"}), 400, 6003)
    assert body["errors"][0]["error_chain"][0]["code"] == 6111


def test_wrong_token_and_other_account(cf):
    body = assert_failure(cf.call("GET", cf.idps(), headers={"Authorization": "Bearer not-the-token"}), 403, 9109)
    assert body["errors"][0]["message"] == "Invalid access token"
    other = "/accounts/%s/access/identity_providers" % cf.app.other_account_id
    body = assert_failure(cf.call("GET", other), 403, 10000)
    assert body["errors"][0]["message"] == "Authentication error"
    assert_failure(cf.call("GET", "/accounts/%s" % cf.app.other_account_id), 403, 10000)
    assert_failure(cf.call("GET", "/zones/%s/access/identity_providers" % ("f" * 32)), 403, 10000)


def test_readonly_token_may_read_but_not_write(cf):
    ro = {"Authorization": "Bearer " + cf.app.readonly_token}
    assert cf.call("GET", cf.idps(), headers=ro).status_code == 200
    assert cf.call("GET", "/accounts/%s/access/organizations" % ACCOUNT, headers=ro).status_code == 200
    assert_failure(cf.call("POST", cf.idps(), headers=ro, json=oidc_body()), 403, 10000)
    idp = cf.create()
    assert_failure(cf.call("PUT", cf.idps() + "/" + idp["id"], headers=ro, json=oidc_body()), 403, 10000)
    assert_failure(cf.call("DELETE", cf.idps() + "/" + idp["id"], headers=ro), 403, 10000)
    assert len(cf.app.identity_providers()) == 3


def test_legacy_key_pair(cf):
    legacy = {"X-Auth-Email": cf.app.legacy_email, "X-Auth-Key": cf.app.legacy_key}
    resp = cf.call("POST", cf.idps(), auth=False, headers=legacy, json=oidc_body())
    assert resp.status_code == 201
    wrong = {"X-Auth-Email": cf.app.legacy_email, "X-Auth-Key": "0" * 37}
    assert_failure(cf.call("GET", cf.idps(), auth=False, headers=wrong), 403, 9103)
    body = assert_failure(cf.call("GET", cf.idps(), auth=False, headers={"X-Auth-Email": "a@b.c", "X-Auth-Key": "short"}), 400, 6003)
    assert body["errors"][0]["error_chain"][0]["code"] == 6103
    assert_failure(cf.call("GET", "/accounts/%s/access/identity_providers" % cf.app.other_account_id, auth=False, headers=legacy), 403, 10000)


def test_token_verify(cf):
    for path in ("/user/tokens/verify", "/accounts/%s/tokens/verify" % ACCOUNT):
        resp = cf.call("GET", path)
        assert resp.status_code == 200
        body = resp.json()
        assert body["success"] is True and body["result"]["status"] == "active" and body["result"]["id"]
        assert body["messages"][0]["message"] == "This API Token is valid and active"
        assert_failure(cf.call("GET", path, headers={"Authorization": "Bearer nope"}), 401, 1000)
    assert_failure(cf.call("GET", "/accounts/%s/tokens/verify" % cf.app.other_account_id), 403, 10000)
    ro = cf.call("GET", "/user/tokens/verify", headers={"Authorization": "Bearer " + cf.app.readonly_token})
    assert ro.status_code == 200


# ---- envelope and CRUD ------------------------------------------------------------------------------
def test_envelope_shapes_and_rate_limit_headers(cf):
    listing = cf.call("GET", cf.idps())
    assert listing.status_code == 200
    body = listing.json()
    assert set(body) == {"success", "errors", "messages", "result", "result_info"}
    assert body["success"] is True and body["errors"] == [] and isinstance(body["result"], list)
    assert set(body["result_info"]) == {"page", "per_page", "count", "total_count", "total_pages"}
    assert listing.headers["Content-Type"] == "application/json"
    assert listing.headers["Ratelimit"].startswith('"default";r=')
    assert listing.headers["Ratelimit-Policy"] == '"default";q=1200;w=300'
    assert "Retry-After" not in listing.headers
    single = cf.call("GET", cf.idps() + "/" + cf.app.onetimepin_id).json()
    assert set(single) == {"success", "errors", "messages", "result"}
    missing = assert_failure(cf.call("GET", cf.idps() + "/00000000-0000-4000-8000-000000000000"), 404, 12135)
    assert set(missing) == {"success", "errors", "messages", "result"}
    assert missing["errors"][0]["message"] == "access.api.error.not_found"
    assert "Ratelimit" in cf.call("GET", cf.idps(), auth=False).headers


def test_create_get_put_delete_lifecycle(cf):
    created = cf.create(oidc_body(secret="first-secret"))
    idp_id = created["id"]
    assert created["uid"] == idp_id and created["read_only"] is False and created["version"]
    assert "client_secret" not in created["config"]
    assert cf.app.stored_secret(idp_id) == "first-secret"

    got = cf.call("GET", cf.idps() + "/" + idp_id).json()["result"]
    assert "client_secret" not in got["config"]
    assert got["config"]["redirect_url"] == "https://idpbridge-test.cloudflareaccess.com/cdn-cgi/access/callback"
    assert got["config"]["pkce_enabled"] is True and got["config"]["claims"] == ["groups"]
    assert got["config"]["email_claim_name"] == "email"
    assert got["scim_config"] == {"enabled": False, "user_deprovision": False, "seat_deprovision": False,
                                  "identity_update_behavior": "no_action"}
    model = parse_oidc(got)
    assert model.config.client_secret is None and model.id == idp_id

    state = cf.control("GET", "state")
    stored = [r for r in state["identity_providers"]["accounts/" + ACCOUNT] if r["id"] == idp_id][0]
    assert stored["config"]["client_secret"] == "first-secret"

    replacement = {"name": "authentik renamed", "type": "oidc", "config": {
        "client_id": "cf-client-2", "client_secret": "second-secret",
        "auth_url": "https://auth.example.com/application/o/authorize/",
        "token_url": "https://auth.example.com/application/o/token/",
        "certs_url": "https://auth.example.com/application/o/cf/jwks/"}}
    resp = cf.call("PUT", cf.idps() + "/" + idp_id, json=replacement)
    assert resp.status_code == 200, resp.text
    updated = resp.json()["result"]
    assert updated["name"] == "authentik renamed" and updated["config"]["client_id"] == "cf-client-2"
    assert updated["config"]["claims"] == [] and updated["config"]["pkce_enabled"] is False  # full replace
    assert updated["config"]["scopes"] == ["openid", "email", "profile"]
    assert updated["version"] != created["version"]
    assert cf.app.stored_secret(idp_id) == "second-secret"
    parse_oidc(updated)

    resp = cf.call("DELETE", cf.idps() + "/" + idp_id)
    assert resp.status_code == 202
    assert resp.json()["result"] == {"id": idp_id}
    assert_failure(cf.call("GET", cf.idps() + "/" + idp_id), 404, 12135)
    assert_failure(cf.call("DELETE", cf.idps() + "/" + idp_id), 404, 12135)
    assert_failure(cf.call("PUT", cf.idps() + "/" + idp_id, json=replacement), 404, 12135)


def test_put_requires_name_type_config(cf):
    idp = cf.create()
    for missing in ("name", "type", "config"):
        body = oidc_body()
        del body[missing]
        resp = assert_failure(cf.call("PUT", cf.idps() + "/" + idp["id"], json=body), 400, 12130)
        assert resp["errors"][0]["message"].startswith("access.api.error.invalid_request: ")


def test_secret_knobs(cf):
    idp = cf.create()
    path = cf.idps() + "/" + idp["id"]
    cf.control("POST", "config", json={"secret_on_read": "null"})
    assert cf.call("GET", path).json()["result"]["config"]["client_secret"] is None
    cf.control("POST", "config", json={"secret_on_read": "masked"})
    assert cf.call("GET", path).json()["result"]["config"]["client_secret"] == "*" * 34
    cf.control("POST", "config", json={"echo_secret_on_write": True})
    assert cf.call("PUT", path, json=oidc_body(secret="echoed")).json()["result"]["config"]["client_secret"] == "echoed"
    no_secret = oidc_body()
    del no_secret["config"]["client_secret"]
    assert cf.call("PUT", path, json=no_secret).status_code == 200  # default: keep
    assert cf.app.stored_secret(idp["id"]) == "echoed"
    cf.control("POST", "config", json={"put_without_secret": "reject"})
    assert_failure(cf.call("PUT", path, json=no_secret), 400, 12130)
    cf.control("POST", "config", json={"put_without_secret": "clear"})
    assert cf.call("PUT", path, json=no_secret).status_code == 200
    assert cf.app.stored_secret(idp["id"]) is None
    cf.control("POST", "config", json={"create_status": 200, "delete_status": 200})
    assert cf.call("POST", cf.idps(), json=oidc_body()).status_code == 200
    assert cf.call("DELETE", path).status_code == 200


def test_list_pagination_walks_to_an_empty_page(cf):
    for index in range(3):
        cf.create(oidc_body(name="idp-%d" % index))
    seen, page = [], 1
    while True:
        body = cf.call("GET", cf.idps(), params={"page": page, "per_page": 2}).json()
        info = body["result_info"]
        assert info["page"] == page and info["per_page"] == 2 and info["total_count"] == 5 and info["total_pages"] == 3
        assert info["count"] == len(body["result"])
        if not body["result"]:
            break
        seen += [item["id"] for item in body["result"]]
        page += 1
    assert page == 4 and len(seen) == len(set(seen)) == 5
    assert cf.call("GET", cf.idps()).json()["result_info"]["per_page"] == 20
    cf.control("POST", "config", json={"page_size": 2})
    assert cf.call("GET", cf.idps()).json()["result_info"]["per_page"] == 2
    assert cf.call("GET", cf.idps(), params={"per_page": 1000}).status_code == 200
    assert_failure(cf.call("GET", cf.idps(), params={"per_page": 1001}), 400, 12130)
    assert_failure(cf.call("GET", cf.idps(), params={"page": 0}), 400, 12130)


def test_duplicate_names_allowed_and_zone_scope_separate(cf):
    first = cf.create(oidc_body(name="same"))
    second = cf.create(oidc_body(name="same"))
    assert first["id"] != second["id"]
    names = [item["name"] for item in cf.call("GET", cf.idps()).json()["result"]]
    assert names.count("same") == 2
    zoned = cf.create(oidc_body(name="zoned"), scope="zone")
    assert [item["id"] for item in cf.call("GET", cf.idps("zone")).json()["result"]] == [zoned["id"]]
    assert_failure(cf.call("GET", cf.idps() + "/" + zoned["id"]), 404, 12135)
    assert cf.call("GET", cf.idps("zone") + "/" + zoned["id"]).status_code == 200


def test_read_only_idp_refuses_writes(cf):
    path = cf.idps() + "/" + cf.app.readonly_idp_id
    got = cf.call("GET", path).json()["result"]
    assert got["read_only"] is True
    body = assert_failure(cf.call("PUT", path, json=oidc_body()), 400, 12130)
    assert "read_only" in body["errors"][0]["message"]
    assert_failure(cf.call("DELETE", path), 400, 12130)
    assert cf.call("GET", path).status_code == 200


def test_onetimepin_only_once(cf):
    assert_failure(cf.call("POST", cf.idps(), json={"name": "pin 2", "type": "onetimepin", "config": {}}), 400, 12130)
    resp = cf.call("POST", cf.idps("zone"), json={"name": "pin", "type": "onetimepin", "config": {}})
    assert resp.status_code == 201


def test_patch_and_unknown_routes(cf):
    idp = cf.create()
    resp = cf.call("PATCH", cf.idps() + "/" + idp["id"], json={"name": "x"})
    body = assert_failure(resp, 405, 7003)
    assert body["errors"][1] == {"code": 7000, "message": "No route for that URI"}
    assert set(resp.headers["Allow"].split(", ")) == {"GET", "PUT", "DELETE"}
    assert_failure(cf.call("GET", "/accounts/%s/access/nothing_here" % ACCOUNT), 404, 7003)
    assert cf.call("GET", cf.idps() + "/" + idp["id"]).json()["result"]["name"] == "authentik"


def test_scim_secret_shown_once(cf):
    body = oidc_body()
    body["scim_config"] = {"enabled": True, "user_deprovision": True}
    created = cf.create(body)
    assert created["scim_config"]["secret"] and created["scim_config"]["scim_base_url"]
    got = cf.call("GET", cf.idps() + "/" + created["id"]).json()["result"]
    assert "secret" not in got["scim_config"] and got["scim_config"]["enabled"] is True
    assert [i["id"] for i in cf.call("GET", cf.idps(), params={"scim_enabled": "true"}).json()["result"]] == [created["id"]]
    body["scim_config"] = {"seat_deprovision": True}
    assert_failure(cf.call("PUT", cf.idps() + "/" + created["id"], json=body), 400, 12130)


# ---- validation and contract checks ----------------------------------------------------------------------
def last_request(cf, method):
    return [entry for entry in cf.control("GET", "requests") if entry["method"] == method][-1]


def test_server_validation_errors(cf):
    cases = [
        (oidc_body(auth_url="ftp://example.com/auth"), "config.auth_url must be a valid http(s) URL"),
        (oidc_body(certs_url="not a url"), "config.certs_url"),
        (oidc_body(client_id=""), "config.client_id is required"),
        (oidc_body(name="  "), "name must be a non-empty string"),
    ]
    for body, reason in cases:
        resp = assert_failure(cf.call("POST", cf.idps(), json=body), 400, 12130)
        assert reason in resp["errors"][0]["message"]
        assert last_request(cf, "POST")["contract_errors"] == []  # well-typed, only semantically wrong
    no_secret = oidc_body()
    del no_secret["config"]["client_secret"]
    assert "client_secret is required" in assert_failure(cf.call("POST", cf.idps(), json=no_secret), 400, 12130)["errors"][0]["message"]
    body = assert_failure(cf.call("POST", cf.idps(), data="{not json", headers={"Content-Type": "application/json"}), 400, 6007)
    assert body["errors"][0]["message"] == "Malformed JSON in request body"


def test_contract_rejects_wrong_types_and_unknown_keys(cf):
    resp = assert_failure(cf.call("POST", cf.idps(), json=oidc_body(scopes="openid")), 400, 12130)
    assert "config.scopes" in resp["errors"][0]["message"]
    errors = last_request(cf, "POST")["contract_errors"]
    assert any("config.scopes" in err for err in errors)

    assert_failure(cf.call("POST", cf.idps(), json=oidc_body(redirect_url="https://x.example/cb")), 400, 12130)
    errors = last_request(cf, "POST")["contract_errors"]
    assert errors == ["config: unknown key 'redirect_url' (not in the SDK's AccessOIDCConfig)"]

    body = oidc_body()
    body["id"] = "abc"
    assert_failure(cf.call("POST", cf.idps(), json=body), 400, 12130)
    assert "body: unknown key 'id'" in last_request(cf, "POST")["contract_errors"][0]

    idp = cf.create()
    assert_failure(cf.call("PUT", cf.idps() + "/" + idp["id"], json=oidc_body(pkce_enabled="true")), 400, 12130)
    assert any("config.pkce_enabled" in err for err in last_request(cf, "PUT")["contract_errors"])

    bad_type = {"name": "x", "type": "ldap", "config": {}}
    assert_failure(cf.call("POST", cf.idps(), json=bad_type), 400, 12130)
    assert any(err.startswith("type:") for err in last_request(cf, "POST")["contract_errors"])

    github = {"name": "gh", "type": "github", "config": {"client_id": "a", "client_secret": "b"}}
    assert cf.call("POST", cf.idps(), json=github).status_code == 201
    assert last_request(cf, "POST")["contract_errors"] == []
    assert cf.app.identity_providers()[-1]["config"]["client_secret"] == "b"


def test_contract_records_missing_sdk(cf, monkeypatch):
    monkeypatch.setitem(contract._CACHE, "sdk", None)  # pylint: disable=protected-access
    assert cf.call("POST", cf.idps(), json=oidc_body()).status_code == 201
    assert last_request(cf, "POST")["contract_errors"] == ["cloudflare SDK not installed"]
    monkeypatch.delitem(contract._CACHE, "sdk")  # pylint: disable=protected-access


def test_every_emitted_result_parses_with_the_sdk_model(cf):
    from cloudflare.types.zero_trust.identity_provider import IdentityProvider  # pylint: disable=import-outside-toplevel
    from pydantic import TypeAdapter  # pylint: disable=import-outside-toplevel
    cf.create()
    for item in cf.call("GET", cf.idps()).json()["result"]:
        if item["type"] == "oidc":
            parse_oidc(item)
        TypeAdapter(IdentityProvider).validate_python(item)


# ---- organization ---------------------------------------------------------------------------------
def test_organization_and_not_enabled(cf):
    for path in ("/accounts/%s/access/organizations" % ACCOUNT, "/zones/%s/access/organizations" % cf.app.zone_id):
        resp = cf.call("GET", path)
        assert resp.status_code == 200
        org = resp.json()["result"]
        assert isinstance(org, dict) and "result_info" not in resp.json()
        assert org["auth_domain"] == "idpbridge-test.cloudflareaccess.com"
        for key in ("name", "auto_redirect_to_identity", "session_duration", "login_design", "is_ui_read_only",
                    "allow_authenticate_via_warp", "created_at", "updated_at"):
            assert key in org

    cf.control("POST", "config", json={"auth_domain": "other-team.cloudflareaccess.com"})
    assert cf.app.auth_domain == "other-team.cloudflareaccess.com"
    got = cf.call("GET", cf.idps() + "/" + cf.app.onetimepin_id).json()["result"]
    assert got["config"]["redirect_url"] == "https://other-team.cloudflareaccess.com/cdn-cgi/access/callback"

    cf.control("POST", "config", json={"organization": None})
    assert cf.app.auth_domain is None
    for method, path in (("GET", "/accounts/%s/access/organizations" % ACCOUNT), ("GET", cf.idps()),
                         ("POST", cf.idps()), ("GET", cf.idps() + "/" + cf.app.onetimepin_id)):
        body = assert_failure(cf.call(method, path, json=oidc_body() if method == "POST" else None), 403, 9999)
        assert body["errors"][0]["message"].startswith("access.api.error.not_enabled")
    assert cf.call("GET", cf.idps("zone")).status_code == 200  # zone organization untouched

    resp = cf.call("POST", "/accounts/%s/access/organizations" % ACCOUNT,
                   json={"name": "new team", "auth_domain": "new-team.cloudflareaccess.com"})
    assert resp.status_code == 201 and resp.json()["result"]["auth_domain"] == "new-team.cloudflareaccess.com"
    resp = cf.call("PUT", "/accounts/%s/access/organizations" % ACCOUNT, json={"auto_redirect_to_identity": True})
    assert resp.status_code == 200 and resp.json()["result"]["auto_redirect_to_identity"] is True
    assert_failure(cf.call("PUT", "/accounts/%s/access/organizations" % ACCOUNT, json={"colour": "red"}), 400, 12130)
    assert last_request(cf, "PUT")["contract_errors"]


# ---- the real SDK against the server -----------------------------------------------------------------
def test_official_sdk_round_trip(cf):
    import cloudflare  # pylint: disable=import-outside-toplevel
    client = cloudflare.Cloudflare(api_token=TOKEN, base_url=cf.api, max_retries=0)
    idps = client.zero_trust.identity_providers
    cf.control("POST", "config", json={"page_size": 2})
    body = oidc_body(secret="sdk-secret")
    created = idps.create(account_id=ACCOUNT, name=body["name"], type="oidc", config=body["config"])
    assert created.id and created.type == "oidc" and created.config.client_secret is None
    assert cf.app.stored_secret(created.id) == "sdk-secret"
    listed = list(idps.list(account_id=ACCOUNT))  # walks page 1, 2, then an empty page 3
    assert [item.id for item in listed][-1] == created.id and len(listed) == 3
    got = idps.get(created.id, account_id=ACCOUNT)
    assert got.config.redirect_url == "https://idpbridge-test.cloudflareaccess.com/cdn-cgi/access/callback"
    assert got.scim_config.identity_update_behavior == "no_action"
    updated = idps.update(created.id, account_id=ACCOUNT, name="via sdk", type="oidc",
                          config=dict(body["config"], client_secret="rotated"))
    assert updated.name == "via sdk" and cf.app.stored_secret(created.id) == "rotated"
    deleted = idps.delete(created.id, account_id=ACCOUNT)
    assert deleted.id == created.id
    with pytest.raises(cloudflare.NotFoundError) as err:
        idps.get(created.id, account_id=ACCOUNT)
    assert err.value.body["errors"][0]["code"] == 12135
    org = client.zero_trust.organizations.list(account_id=ACCOUNT)
    assert org.auth_domain == "idpbridge-test.cloudflareaccess.com"
    assert client.user.tokens.verify().status == "active"
    zoned = idps.create(zone_id=cf.app.zone_id, name="zoned", type="oidc", config=body["config"])
    assert [item.id for item in idps.list(zone_id=cf.app.zone_id)] == [zoned.id]
    readonly = cloudflare.Cloudflare(api_token=cf.app.readonly_token, base_url=cf.api, max_retries=0)
    with pytest.raises(cloudflare.PermissionDeniedError):
        readonly.zero_trust.identity_providers.create(account_id=ACCOUNT, name="x", type="oidc", config=body["config"])
    legacy = cloudflare.Cloudflare(api_email=cf.app.legacy_email, api_key=cf.app.legacy_key, base_url=cf.api, max_retries=0)
    assert len(list(legacy.zero_trust.identity_providers.list(account_id=ACCOUNT))) == 2  # the seed again
    assert all(not entry["contract_errors"] for entry in cf.control("GET", "requests"))


# ---- faults and reset -------------------------------------------------------------------------------
def test_faults(cf):
    cf.control("POST", "faults", json={"path": "/access/identity_providers$", "status": 429, "retry_after": 7, "count": 2})
    for dummy in range(2):
        resp = cf.call("GET", cf.idps())
        body = assert_failure(resp, 429, 971)
        assert body["errors"][0]["message"] == "Please wait and consider throttling your request speed"
        assert resp.headers["Retry-After"] == "7"
    assert cf.call("GET", cf.idps()).status_code == 200

    cf.control("POST", "faults", json={"method": "POST", "status": 503})
    body = assert_failure(cf.call("POST", cf.idps(), json=oidc_body()), 503, 10001)
    assert "Retry-After" not in cf.call("GET", cf.idps()).headers
    assert len(cf.app.identity_providers()) == 2  # the faulted POST did nothing

    cf.control("POST", "faults", json={"status": 500})
    assert_failure(cf.call("GET", cf.idps()), 500, 10001)

    cf.control("POST", "faults", json={"delay": 0.3})
    started = time.monotonic()
    assert cf.call("GET", cf.idps()).status_code == 200
    assert time.monotonic() - started >= 0.3

    cf.control("POST", "faults", json={"drop": True})
    with pytest.raises(requests.ConnectionError):
        cf.call("GET", cf.idps())
    log = cf.control("GET", "requests")
    assert [entry.get("fault") for entry in log if entry.get("fault")] == ["injected"] * 4 + ["delayed", "dropped"]


def test_reset_restores_the_seed(cf):
    cf.create()
    cf.control("POST", "config", json={"organization": None, "page_size": 3, "secret_on_read": "null",
                                       "tokens": [{"token": "extra-token", "write": False}]})
    assert cf.call("GET", "/user/tokens/verify", headers={"Authorization": "Bearer extra-token"}).status_code == 200
    cf.control("POST", "reset")
    assert cf.control("GET", "requests") == []
    ids = [item["id"] for item in cf.call("GET", cf.idps()).json()["result"]]
    assert ids == [cf.app.onetimepin_id, cf.app.readonly_idp_id]
    assert cf.app.page_size == 20 and cf.app.auth_domain == "idpbridge-test.cloudflareaccess.com"
    state = cf.control("GET", "state")
    assert state["settings"]["secret_on_read"] == "absent"
    assert_failure(cf.call("GET", "/user/tokens/verify", headers={"Authorization": "Bearer extra-token"}), 401, 1000)


def test_control_interface_needs_credentials(cf):
    assert requests.get(cf.srv.url + "/_test/state", timeout=5).status_code == 400
    assert requests.get(cf.srv.url + "/_test/state", headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 403
