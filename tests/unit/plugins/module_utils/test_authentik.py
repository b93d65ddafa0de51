"""authentik resources: error flattening, hints, versions, endpoint URLs (pure logic)."""

from __future__ import annotations

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import (
    AuthentikClient,
    _flatten_errors,
    authentik_argument_spec,
    oidc_endpoints,
    version_tuple,
)
from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.fake_module import FakeModule


def connection(**params):
    """A module with the connection options of an authentik module."""
    return FakeModule(dict(url="https://auth.example.com/api/v3/", token="t0ken-value-123456", validate_certs=True,
                           ca_path=None, timeout=5, retries=0), **params)


@pytest.fixture
def client():
    return AuthentikClient.from_module(connection())


# ---- errors -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ({"name": ["provider with this name already exists."]}, ["name: provider with this name already exists."]),
    ({"slug": ["Application with this slug already exists."], "provider": ["Application with this provider already exists."]},
     ["slug: Application with this slug already exists.", "provider: Application with this provider already exists."]),
    ({"non_field_errors": ["Only one of 'group', 'policy', 'user' can be set."]},
     ["Only one of 'group', 'policy', 'user' can be set."]),
    ({"redirect_uris": {"non_field_errors": ['Expected a list of items but got type "str".']}},
     ['redirect_uris: Expected a list of items but got type "str".']),
    ({"redirect_uris": [{}, {"matching_mode": ['"exact" is not a valid choice.']}]},
     ['redirect_uris[1].matching_mode: "exact" is not a valid choice.']),
    ({"detail": "Token invalid/expired", "code": "authentication_failed"}, ["Token invalid/expired"]),
    ({"field": ["one.", "two."]}, ["field: one. two."]),
    (["plain list"], ["plain list"]),
])
def test_flatten_errors(body, expected):
    assert _flatten_errors(body) == expected


def test_parse_error_shapes(client):
    assert client.parse_error(400, {"name": ["bad."], "code": "invalid"}) == ("name: bad.", [])
    assert client.parse_error(400, {}) == ("no details in the answer", [])
    assert client.parse_error(502, "<html><title> 502 Bad Gateway </title></html>")[0] == \
        "an HTML page titled '502 Bad Gateway' (is the url option pointing at authentik?)"
    assert client.parse_error(500, "  plain text  ") == ("plain text", [])
    assert client.parse_error(500, None) == ("no details in the answer", [])


@pytest.mark.parametrize("status, message, expected", [
    (403, "Token invalid/expired", "Check the authentik token"),
    (403, "Authentication credentials were not provided.", "Give an authentik API token"),
    (403, "You do not have permission to perform this action.", "lacks a permission"),
    (405, 'Method "POST" not allowed.', "does not offer this call"),
    (429, "Request was throttled.", "rate-limited"),
    (500, "boom", "internal error"),
    (404, "an HTML page titled 'Not Found'", "Check the url option"),
    (400, "name: bad.", None),
])
def test_hints(client, status, message, expected):
    hint = client.hint_for(status, message, [], "GET", "/x/")
    if expected is None:
        assert hint is None
    else:
        assert expected in hint


# ---- client set-up ------------------------------------------------------------------------------------

def test_client_strips_the_api_prefix_and_masks_the_token():
    client = AuthentikClient.from_module(connection())
    assert client.root_url == "https://auth.example.com"
    assert client.base_url == "https://auth.example.com/api/v3"
    assert client.redact("Bearer t0ken-value-123456") == "********"


def test_client_rejects_a_bad_url():
    with pytest.raises(SystemExit) as info:
        AuthentikClient.from_module(connection(url="auth.example.com"))
    assert "must be an absolute http(s) URL" in str(info.value)


def test_argument_spec_reads_the_environment():
    spec = authentik_argument_spec()
    assert spec["token"]["no_log"] is True and spec["token"]["required"] is True
    assert spec["url"]["fallback"][1] == ["AUTHENTIK_URL"]
    assert spec["validate_certs"]["default"] is True


# ---- versions -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2025.12.4", (2025, 12, 4)), ("2026.5", (2026, 5, 0)), ("2024.10.0-rc1", (2024, 10, 0)), ("", (0, 0, 0)),
    (None, (0, 0, 0)), ("2026.8.5.post1750000000", (2026, 8, 5)),
])
def test_version_tuple(text, expected):
    assert version_tuple(text) == expected


def test_version_and_at_least_from_the_cache(client):
    client._cache["version"] = (2025, 12, 4)
    assert client.at_least(2025, 12) and client.at_least(2025, 12, 4)
    assert not client.at_least(2026, 5)


def test_version_too_old_is_refused(client):
    client.request = lambda *a, **k: (200, {"version_current": "2024.8.3"})
    with pytest.raises(LookupFailed, match="older than 2024.10"):
        client.version()


def test_version_unreadable_means_newest(client):
    client.request = lambda *a, **k: (403, {"detail": "You do not have permission"})
    assert client.version() == (9999, 0, 0)


# ---- lookups with a canned list endpoint ---------------------------------------------------------------

def canned(client, answers):
    calls = []

    def paginate(path, params=None, what=None, limit=None):
        calls.append((path, dict(params or {})))
        return list(answers.get(path, []))
    client.paginate = paginate
    return calls


def test_flow_designation_is_checked_on_every_use(client):
    calls = canned(client, {"/flows/instances/": [{"pk": "f1", "slug": "a", "designation": "authorization"}]})
    assert client.flow_pk("a", "authorization") == "f1"
    with pytest.raises(LookupFailed, match="is an authorization flow, not an invalidation flow"):
        client.flow_pk("a", "invalidation")
    assert len(calls) == 1


def test_scope_mappings_prefer_managed_and_fall_back_to_scope_name(client):
    managed = [
        {"pk": "m-openid", "scope_name": "openid", "managed": "goauthentik.io/providers/oauth2/scope-openid"},
        {"pk": "m-api", "scope_name": "goauthentik.io/api", "managed": "goauthentik.io/providers/oauth2/scope-authentik_api"},
    ]
    calls = []

    def paginate(path, params=None, what=None, limit=None):
        calls.append(dict(params))
        if params.get("managed__isnull") is False:
            return managed
        if params.get("scope_name") == "custom":
            return [{"pk": "c1", "scope_name": "custom", "managed": None}]
        if params.get("scope_name") == "twice":
            return [{"pk": "t1", "name": "one", "managed": None}, {"pk": "t2", "name": "two", "managed": None}]
        return []
    client.paginate = paginate
    assert client.scope_mappings(["openid", "goauthentik.io/api", "custom"]) == {
        "openid": "m-openid", "goauthentik.io/api": "m-api", "custom": "c1"}
    assert client.scope_names(["m-openid", "unknown"]) == ["openid", "unknown"]
    with pytest.raises(LookupFailed, match="No authentik scope mapping provides the scope 'nope'"):
        client.scope_mappings(["openid", "nope"])
    with pytest.raises(LookupFailed, match="More than one authentik scope mapping provides the scope 'twice'"):
        client.scope_mappings(["twice"])
    assert [c for c in calls if "managed__isnull" in c] == [{"managed__isnull": False}], "managed list read once"


def test_policy_lookup_searches_and_matches_exactly(client):
    calls = canned(client, {"/policies/all/": [{"pk": "p1", "name": "deny-all-but"}, {"pk": "p2", "name": "deny-all"}]})
    assert client.policy_pk("deny-all") == "p2"
    assert calls == [("/policies/all/", {"search": "deny-all"})]
    with pytest.raises(LookupFailed, match="No authentik policy is named 'deny'"):
        client.policy_pk("deny")


# ---- endpoints ----------------------------------------------------------------------------------------

def test_endpoints_without_an_application_are_the_global_ones():
    urls = oidc_endpoints("https://auth.example.com/", None)
    assert urls == {
        "authorize": "https://auth.example.com/application/o/authorize/",
        "token": "https://auth.example.com/application/o/token/",
        "userinfo": "https://auth.example.com/application/o/userinfo/",
        "revoke": "https://auth.example.com/application/o/revoke/",
        "introspect": "https://auth.example.com/application/o/introspect/",
    }


def test_endpoints_with_an_application():
    urls = oidc_endpoints("https://auth.example.com/api/v3", "cf-access")
    assert urls["issuer"] == "https://auth.example.com/application/o/cf-access/"
    assert urls["jwks"] == "https://auth.example.com/application/o/cf-access/jwks/"
    assert urls["openid_configuration"] == "https://auth.example.com/application/o/cf-access/.well-known/openid-configuration"
    assert urls["end_session"] == "https://auth.example.com/application/o/cf-access/end-session/"
    assert oidc_endpoints("https://auth.example.com", "cf-access", "global")["issuer"] == "https://auth.example.com/"


def test_endpoints_keep_a_path_prefix():
    urls = oidc_endpoints("https://example.com/authentik", "app")
    assert urls["token"] == "https://example.com/authentik/application/o/token/"
