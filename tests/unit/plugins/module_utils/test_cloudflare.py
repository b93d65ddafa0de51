"""The Cloudflare resource layer: options, scope, credentials, errors and hints, the envelope,
pagination stop rules, the team domain and the login method's comparable form and bodies.

HTTP is replaced by a fake ``requests`` session that answers from a script, so every request the
client sends is visible and countable.
"""

from __future__ import annotations

import json

import pytest
import requests
import yaml
from requests.structures import CaseInsensitiveDict

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.doc_fragments._cloudflare import ModuleDocFragment
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _cloudflare as cf
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _login_method as lm

ACCOUNT = "0123456789abcdef0123456789abcdef"
ZONE = "fedcba9876543210fedcba9876543210"
TOKEN = "tok-" + "A" * 36
BASE = "https://api.example.test/client/v4"


# ---- a scripted session ---------------------------------------------------------------------------
def envelope(result=None, result_info=None, success=True, errors=None):
    body = {"success": success, "errors": errors or [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def response(status, body=None, headers=None):
    resp = requests.Response()
    resp.status_code = status
    resp.headers = CaseInsensitiveDict(headers or {})
    if body is None:
        resp._content = b""
    elif isinstance(body, (dict, list)):
        resp._content = json.dumps(body).encode()
    else:
        resp._content = str(body).encode()
    return resp


class FakeSession:
    """Answers requests from ``handler(method, url, body)`` and records them."""

    def __init__(self, handler):
        self.handler = handler
        self.sent = []
        self.headers = {}
        self.verify = True

    def request(self, method, url, json=None, **kwargs):
        self.sent.append((method, url, json))
        return self.handler(method, url, json)


def client_with(handler, scope=None, auth_kind="token", retries=0):
    warnings = []
    client = lm.LoginMethodClient(BASE, {"Authorization": "Bearer " + TOKEN}, scope or cf.Scope("account", ACCOUNT),
                                  auth_kind=auth_kind, retries=retries, warn=warnings.append)
    client.session = FakeSession(handler)
    client.warnings = warnings
    return client


def pages_of(items, per_page, info="full"):
    """A handler serving ``items`` in pages; ``info`` picks which result_info keys are sent."""
    def handler(method, url, body):
        query = dict(part.split("=") for part in url.split("?", 1)[1].split("&"))
        page = int(query["page"])
        size = int(query.get("per_page", per_page))
        chunk = items[(page - 1) * size: page * size]
        result_info = {"page": page, "per_page": size, "count": len(chunk), "total_count": len(items),
                       "total_pages": -(-len(items) // size)}
        if info == "none":
            result_info = None
        elif info == "page-only":
            result_info = {"page": page, "per_page": size}
        elif info == "no-totals":
            result_info = {"page": page, "per_page": size, "count": len(chunk)}
        return response(200, envelope(chunk, result_info))
    return handler


def pages_asked(client):
    return [url.split("page=")[1].split("&")[0] for _m, url, _b in client.session.sent]


# ---- options -------------------------------------------------------------------------------------
def test_argument_spec_matches_the_doc_fragment():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    documented.update(yaml.safe_load(ModuleDocFragment.ZONE)["options"])
    spec = cf.cloudflare_argument_spec(zone=True)
    assert sorted(spec) == sorted(documented)
    for name, option in spec.items():
        assert option["type"] == documented[name]["type"], name
        assert option.get("default") == documented[name].get("default"), name
    assert spec["api_token"]["no_log"] and spec["api_key"]["no_log"]
    assert "zone_id" not in cf.cloudflare_argument_spec()


def test_scope_account_zone_and_environment():
    assert cf.scope_from_params({"account_id": ACCOUNT}, {}) == cf.Scope("account", ACCOUNT)
    assert cf.scope_from_params({}, {"CLOUDFLARE_ACCOUNT_ID": ACCOUNT.upper()}) == cf.Scope("account", ACCOUNT)
    zone = cf.scope_from_params({"zone_id": ZONE}, {"CLOUDFLARE_ACCOUNT_ID": ACCOUNT})
    assert zone == cf.Scope("zone", ZONE) and zone.path == "/zones/" + ZONE and str(zone) == "zone " + ZONE
    assert cf.Scope("account", ACCOUNT).path == "/accounts/" + ACCOUNT


@pytest.mark.parametrize("params, env, words", [
    ({"account_id": ACCOUNT, "zone_id": ZONE}, {}, "not both"),
    ({}, {}, "Give account_id"),
    ({"account_id": "my account"}, {}, "32 hexadecimal characters"),
    ({}, {"CLOUDFLARE_ACCOUNT_ID": "../../user"}, "account_id (CLOUDFLARE_ACCOUNT_ID)"),
    ({"zone_id": "example.com"}, {}, "Zone ID"),
])
def test_scope_errors(params, env, words):
    with pytest.raises(ValueError) as err:
        cf.scope_from_params(params, env)
    assert words in str(err.value)


def test_auth_headers():
    assert cf.auth_headers({"api_token": " %s\n" % TOKEN}) == ({"Authorization": "Bearer " + TOKEN}, "token", [])
    headers, kind, warnings = cf.auth_headers({"api_token": TOKEN, "api_email": "a@b.example", "api_key": "k" * 37})
    assert kind == "token" and "using api_token" in warnings[0]
    assert cf.auth_headers({"api_email": "a@b.example", "api_key": "k" * 37}) == (
        {"X-Auth-Email": "a@b.example", "X-Auth-Key": "k" * 37}, "legacy", [])


@pytest.mark.parametrize("params, words", [
    ({}, "No Cloudflare credentials"),
    ({"api_email": "a@b.example"}, "needs both api_email"),
    ({"api_key": "k" * 37}, "needs both api_email"),
    ({"api_token": "two words"}, "white space"),
])
def test_auth_header_errors(params, words):
    with pytest.raises(ValueError) as err:
        cf.auth_headers(params)
    assert words in str(err.value)


def test_api_base_url():
    assert cf.api_base_url("https://api.cloudflare.com") == "https://api.cloudflare.com/client/v4"
    assert cf.api_base_url("https://api.cloudflare.com/") == "https://api.cloudflare.com/client/v4"
    assert cf.api_base_url("http://127.0.0.1:8080/client/v4/") == "http://127.0.0.1:8080/client/v4"
    with pytest.raises(ValueError):
        cf.api_base_url("api.cloudflare.com")


def test_check_url():
    cf.check_url("https://auth.example.com/application/o/token/", "token_url")
    cf.check_url("http://127.0.0.1:9000/x", "token_url")
    for bad in ("ftp://auth.example.com/", "/application/o/token/", "https://", "https://a b/", ""):
        with pytest.raises(ValueError):
            cf.check_url(bad, "token_url")


# ---- errors and hints ----------------------------------------------------------------------------
def test_format_errors_with_a_chain():
    text, codes = cf.format_errors([
        {"code": 6003, "message": "Invalid request headers",
         "error_chain": [{"code": 6111, "message": "Invalid format for Authorization header"}]},
        {"code": 7000, "message": "No route for that URI"},
    ])
    assert text == ("[6003] Invalid request headers ([6111] Invalid format for Authorization header); "
                    "[7000] No route for that URI")
    assert codes == [6003, 6111, 7000]


def failing(status, *errors, headers=None):
    return lambda method, url, body: response(status, envelope(None, success=False, errors=list(errors)), headers)


def error_of(handler, method="GET", auth_kind="token"):
    client = client_with(handler, auth_kind=auth_kind)
    with pytest.raises(ApiError) as err:
        client.call(method, "/accounts/%s/access/identity_providers" % ACCOUNT, what="do it")
    return err.value


def test_403_10000_names_the_permission_and_the_account():
    err = error_of(failing(403, {"code": 10000, "message": "Authentication error"}), method="POST")
    assert err.status == 403 and err.codes == [10000]
    assert "Could not do it: POST /accounts/%s/access/identity_providers returned HTTP 403" % ACCOUNT in err.message
    assert "[10000] Authentication error" in err.message
    assert "'Access: Organizations, Identity Providers, and Groups Write'" in err.message
    assert "for account " + ACCOUNT in err.message
    read = error_of(failing(403, {"code": 10000, "message": "Authentication error"}), method="GET")
    assert "Groups Read' (or 'Access: Organizations, Identity Providers, and Groups Write')" in read.message
    legacy = error_of(failing(403, {"code": 10000, "message": "Authentication error"}), auth_kind="legacy")
    assert "global API key" in legacy.message


@pytest.mark.parametrize("status, errors, words", [
    (403, [{"code": 9109, "message": "Invalid access token"}], "Check the API token"),
    (401, [{"code": 1000, "message": "Invalid API Token"}], "Check the API token"),
    (400, [{"code": 6003, "message": "Invalid request headers",
            "error_chain": [{"code": 6111, "message": "Invalid format for Authorization header"}]}], "Check the API token"),
    (400, [{"code": 6003, "message": "Invalid request headers",
            "error_chain": [{"code": 9106, "message": "Missing X-Auth-Key"}]}], "No credentials reached Cloudflare"),
    (403, [{"code": 9999, "message": "access.api.error.not_enabled: Access is not enabled for this account"}],
     "Zero Trust was never set up on account " + ACCOUNT),
    (404, [{"code": 7003, "message": "Could not route"}, {"code": 7000, "message": "No route for that URI"}],
     "Check account_id and api_url"),
    (429, [{"code": 971, "message": "Please wait"}], "rate limit"),
    (500, [{"code": 10001, "message": "Internal server error"}], "cloudflarestatus.com"),
])
def test_hints(status, errors, words):
    assert words in error_of(failing(status, *errors)).message


def test_legacy_credentials_hint():
    err = error_of(failing(403, {"code": 9103, "message": "Unknown X-Auth-Key or X-Auth-Email"}), auth_kind="legacy")
    assert "Check api_email and api_key" in err.message


def test_error_messages_never_show_the_token():
    err = error_of(failing(400, {"code": 6003, "message": "Invalid header Bearer " + TOKEN}))
    assert TOKEN not in err.message and TOKEN not in err.api_message
    assert "********" in err.message


def test_a_non_envelope_answer_points_at_api_url():
    err = error_of(lambda m, u, b: response(200, "<html><title>Login</title></html>"))
    assert "not a Cloudflare API envelope" in err.message and "Check api_url" in err.message


def test_success_false_with_2xx_is_an_error():
    err = error_of(lambda m, u, b: response(200, envelope(None, success=False,
                                                          errors=[{"code": 12130, "message": "bad"}])))
    assert "[12130] bad" in err.message


def test_call_unwraps_the_envelope_and_returns_ok_statuses():
    client = client_with(lambda m, u, b: response(201, envelope({"id": "x"}, {"page": 1})))
    assert client.call("POST", "/x", body={}) == (201, {"id": "x"}, {"page": 1})
    missing = client_with(failing(404, {"code": 12135, "message": "access.api.error.not_found"}))
    assert missing.call("GET", "/x", ok_statuses=(404,)) == (404, None, None)


def test_429_is_retried_after_retry_after(monkeypatch):
    answers = [response(429, envelope(None, success=False, errors=[{"code": 971, "message": "wait"}]),
                        {"Retry-After": "2"}), response(200, envelope([], {"count": 0}))]
    waits = []
    monkeypatch.setattr("time.sleep", waits.append)
    client = client_with(lambda m, u, b: answers.pop(0), retries=3)
    assert client.paginate("/x") == []
    assert waits == [2.0]
    assert "HTTP 429; retrying in 2.0 s (retry 1 of 3)" in client.warnings[0]


# ---- pagination -----------------------------------------------------------------------------------
ITEMS = [{"id": "id-%d" % n, "name": "n%d" % n} for n in range(7)]


@pytest.mark.parametrize("count, per_page, info, asked", [
    (7, 2, "full", ["1", "2", "3", "4"]),          # page 4 short: total_pages says last
    (8, 2, "full", ["1", "2", "3", "4"]),          # page 4 full, but total_pages = 4
    (7, 2, "no-totals", ["1", "2", "3", "4"]),     # page 4 holds 1 of 2: short page is the last
    (8, 2, "no-totals", ["1", "2", "3", "4", "5"]),  # page 4 full, nothing says last: one empty page
    (7, 2, "page-only", ["1", "2", "3", "4"]),     # per_page known, len(result) < per_page
    (7, 2, "none", ["1", "2", "3", "4", "5"]),     # no result_info at all: walk to an empty page, as the SDK
    (0, 20, "full", ["1"]),
    (3, 20, "full", ["1"]),
])
def test_pagination_stop_rules(count, per_page, info, asked):
    items = [{"id": "id-%d" % n} for n in range(count)]
    client = client_with(pages_of(items, per_page, info))
    assert client.paginate("/list") == items
    assert pages_asked(client) == asked


def test_pagination_sends_per_page_only_when_asked():
    client = client_with(pages_of(ITEMS, 20))
    client.paginate("/list")
    assert "per_page" not in client.session.sent[0][1]
    client = client_with(pages_of(ITEMS, 20))
    assert client.paginate("/list", per_page=5) == ITEMS
    assert [u.split("?")[1] for _m, u, _b in client.session.sent] == ["page=1&per_page=5", "page=2&per_page=5"]


def test_pagination_skips_items_seen_on_an_earlier_page():
    shifted = [[ITEMS[0], ITEMS[1]], [ITEMS[1], ITEMS[2]], []]
    client = client_with(lambda m, u, b: response(200, envelope(shifted.pop(0), {"per_page": 2, "count": 2})))
    assert client.paginate("/list") == ITEMS[:3]


def test_is_last_page_direct():
    assert cf.is_last_page([], None, 1, None, 0)
    assert cf.is_last_page([1], {"total_pages": 1}, 1, None, 1)
    assert not cf.is_last_page([1, 2], {"total_pages": 2}, 1, None, 2)
    assert cf.is_last_page([1, 2], {"total_count": 4}, 2, None, 4)
    assert cf.is_last_page([1], {"per_page": 2, "count": 1}, 3, None, 5)
    assert not cf.is_last_page([1, 2], {"per_page": 2, "count": 2}, 3, None, 6)
    assert cf.is_last_page([1], {}, 1, 50, 1)
    assert not cf.is_last_page([1], {}, 1, None, 1)
    assert not cf.is_last_page([1], {"total_pages": 0, "per_page": "x"}, 1, None, 1)


def test_login_methods_are_listed_once_per_run():
    client = client_with(pages_of(ITEMS, 20))
    client.identity_providers_named("n1")
    client.identity_providers_named("n2")
    assert len(client.session.sent) == 1


def test_duplicate_names_list_the_ids():
    twins = [{"id": "a-1", "name": "twin", "type": "oidc"}, {"id": "b-2", "name": "twin", "type": "github"}]
    client = client_with(pages_of(twins + ITEMS, 20))
    with pytest.raises(LookupFailed) as err:
        client.unique_identity_provider("twin")
    assert "2 login methods in account %s are named 'twin': a-1 (oidc), b-2 (github)" % ACCOUNT in str(err.value)
    assert client.unique_identity_provider("nobody") is None
    assert client.unique_identity_provider("n3")["id"] == "id-3"


# ---- organization and team domain -------------------------------------------------------------------
def test_organization_is_read_once():
    org = {"name": "Team", "auth_domain": "myteam.cloudflareaccess.com"}
    client = client_with(lambda m, u, b: response(200, envelope(org)))
    assert client.organization() == org
    assert client.organization() == org
    assert client.team_domain() == "myteam.cloudflareaccess.com"
    assert [u for _m, u, _b in client.session.sent] == [BASE + "/accounts/%s/access/organizations" % ACCOUNT]


def test_organization_without_a_team_domain_is_not_enabled():
    client = client_with(lambda m, u, b: response(200, envelope(None)))
    with pytest.raises(LookupFailed) as err:
        client.organization()
    assert "Zero Trust was never set up on account " + ACCOUNT in str(err.value)


def test_team_domain_from_redirect_url_needs_no_request():
    client = client_with(lambda m, u, b: pytest.fail("no request expected"))
    idp = {"config": {"redirect_url": "https://myteam.cloudflareaccess.com/cdn-cgi/access/callback"}}
    assert client.team_domain([{"config": {}}, idp]) == "myteam.cloudflareaccess.com"


def test_team_domain_unreadable_is_a_warning_or_an_error():
    client = client_with(failing(403, {"code": 10000, "message": "Authentication error"}))
    assert client.team_domain([{"config": {"redirect_url": "https://evil.example/other"}}]) is None
    assert "test_url and callback_url are left out" in client.warnings[0]
    with pytest.raises(ApiError):
        client.team_domain(optional=False)


def test_urls():
    assert cf.callback_url("t.cloudflareaccess.com") == "https://t.cloudflareaccess.com/cdn-cgi/access/callback"
    assert lm.idp_test_url("t.cloudflareaccess.com", "a-b") == "https://t.cloudflareaccess.com/cdn-cgi/access/test-idp/a-b"
    assert cf.clean_auth_domain("https://t.cloudflareaccess.com/x") == "t.cloudflareaccess.com"
    assert cf.clean_auth_domain(" t.cloudflareaccess.com. ") == "t.cloudflareaccess.com"
    assert cf.clean_auth_domain("") is None
    assert cf.auth_domain_from_identity_provider({"config": {"redirect_url": "http://t.example/cdn-cgi/access/callback"}}) is None
    assert cf.auth_domain_from_identity_provider({"config": None}) is None


# ---- the login method's comparable form and bodies -----------------------------------------------------
CURRENT = {
    "id": "idp-1", "uid": "idp-1", "name": "authentik", "type": "oidc", "read_only": False, "version": "v1",
    "config": {"client_id": "cid", "client_secret": "*" * 34, "auth_url": "https://a/authorize",
               "token_url": "https://a/token", "certs_url": "https://a/jwks", "scopes": ["openid", "email", "profile"],
               "claims": ["groups"], "email_claim_name": None, "pkce_enabled": False,
               "redirect_url": "https://t.cloudflareaccess.com/cdn-cgi/access/callback"},
    "scim_config": {"enabled": True, "user_deprovision": False, "seat_deprovision": False,
                    "identity_update_behavior": "no_action", "secret": "********", "scim_base_url": "https://t/scim"},
}


def test_normalize_identity_provider():
    norm = lm.normalize_identity_provider(CURRENT)
    assert norm == {
        "name": "authentik", "type": "oidc",
        "config": {"client_id": "cid", "auth_url": "https://a/authorize", "token_url": "https://a/token",
                   "certs_url": "https://a/jwks", "scopes": ["email", "openid", "profile"], "claims": ["groups"],
                   "email_claim_name": None, "pkce_enabled": False},
        "scim_config": {"enabled": True, "user_deprovision": False, "seat_deprovision": False,
                        "identity_update_behavior": "no_action"},
    }
    assert lm.normalize_config({"scopes": ["b", "a", "b"]}) == {"scopes": ["a", "b"]}
    assert "scim_config" not in lm.normalize_identity_provider({"name": "x", "type": "onetimepin", "config": {}})


def test_present_identity_provider_drops_the_secret_only():
    shown = lm.present_identity_provider(CURRENT)
    assert "client_secret" not in shown["config"] and shown["config"]["client_id"] == "cid"
    assert CURRENT["config"]["client_secret"] == "*" * 34, "the input is not modified"
    assert lm.present_identity_provider(None) == {}


def test_put_body_carries_the_current_settings_the_wanted_ones_and_the_secret():
    desired = {"name": "authentik", "type": "oidc", "config": {"claims": ["groups", "email"], "client_id": "new"},
               "scim_config": {"user_deprovision": True}}
    body = lm.put_body(CURRENT, desired, "the-secret")
    assert body == {
        "name": "authentik", "type": "oidc",
        "config": {"client_id": "new", "client_secret": "the-secret", "auth_url": "https://a/authorize",
                   "token_url": "https://a/token", "certs_url": "https://a/jwks",
                   "scopes": ["openid", "email", "profile"], "claims": ["groups", "email"], "pkce_enabled": False},
        "scim_config": {"enabled": True, "user_deprovision": True, "seat_deprovision": False,
                        "identity_update_behavior": "no_action"},
    }
    # Without a secret none is sent (the module refuses such a PUT for types with a secret).
    assert "client_secret" not in lm.put_body(CURRENT, desired, None)["config"]


def test_put_body_for_another_type_starts_from_scratch():
    body = lm.put_body(CURRENT, {"name": "x", "type": "github", "config": {"client_id": "gh"}}, "s")
    assert body["config"] == {"client_id": "gh", "client_secret": "s"}


def test_create_body():
    desired = {"name": "a", "type": "oidc", "config": {"client_id": "c", "client_secret": "stale"}}
    assert lm.create_body(desired, "s") == {"name": "a", "type": "oidc", "config": {"client_id": "c", "client_secret": "s"}}
    with_scim = dict(desired, scim_config={"enabled": True})
    assert lm.create_body(with_scim, None) == {"name": "a", "type": "oidc", "config": {"client_id": "c"},
                                               "scim_config": {"enabled": True}}
