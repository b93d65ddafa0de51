"""Tests of the authentik API test server, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import time

import pytest
import requests

from tests.servers._control import Server
from tests.servers.authentik import contract
from tests.servers.authentik.app import AuthentikApp
from tests.servers.authentik.versions import DEFAULT_VERSION, Profile

TOKEN = "test-token-0123456789"
CALLBACK = "https://team.cloudflareaccess.com/cdn-cgi/access/callback"
IMPLICIT = "default-provider-authorization-implicit-consent"
INVALIDATION = "default-provider-invalidation-flow"
SELF_SIGNED = "authentik Self-signed Certificate"
JSON_UTF8 = "application/json; charset=utf-8"

# Key order of a provider answer (sample 05, authentik 2025.12.4)
PROVIDER_KEYS_2025_12 = [
    "pk", "name", "authentication_flow", "authorization_flow", "invalidation_flow", "property_mappings", "component",
    "assigned_application_slug", "assigned_application_name", "assigned_backchannel_application_slug",
    "assigned_backchannel_application_name", "verbose_name", "verbose_name_plural", "meta_model_name", "client_type",
    "client_id", "client_secret", "access_code_validity", "access_token_validity", "refresh_token_validity",
    "refresh_token_threshold", "include_claims_in_id_token", "signing_key", "encryption_key", "redirect_uris",
    "logout_uri", "logout_method", "sub_mode", "issuer_mode", "jwt_federation_sources", "jwt_federation_providers",
]
# Key order of an application answer (sample 11)
APPLICATION_KEYS_2025_12 = [
    "pk", "name", "slug", "provider", "provider_obj", "backchannel_providers", "backchannel_providers_obj",
    "launch_url", "open_in_new_tab", "meta_launch_url", "meta_icon", "meta_icon_url", "meta_icon_themed_urls",
    "meta_description", "meta_publisher", "policy_engine_mode", "group",
]
BINDING_KEYS_2025_12 = [
    "pk", "policy", "group", "user", "policy_obj", "group_obj", "user_obj", "target", "negate", "enabled", "order",
    "timeout", "failure_result",
]


class Client:
    """One running server plus a token-carrying session."""

    def __init__(self, server: Server):
        self.server = server
        self.app: AuthentikApp = server.app
        self.url = server.url
        self.api = server.url + "/api/v3"
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + TOKEN

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.api + path, timeout=5, **kwargs)

    def post(self, path: str, body=None, **kwargs) -> requests.Response:
        return self.session.post(self.api + path, json=body, timeout=5, **kwargs)

    def patch(self, path: str, body=None) -> requests.Response:
        return self.session.patch(self.api + path, json=body, timeout=5)

    def put(self, path: str, body=None) -> requests.Response:
        return self.session.put(self.api + path, json=body, timeout=5)

    def delete(self, path: str) -> requests.Response:
        return self.session.delete(self.api + path, timeout=5)

    def control(self, method: str, action: str, body=None) -> requests.Response:
        resp = self.session.request(method, self.url + "/_test/" + action, json=body, timeout=5)
        assert resp.status_code < 300, resp.text
        return resp

    def config(self, **settings) -> None:
        self.control("POST", "config", settings)

    def log(self) -> list[dict]:
        return self.control("GET", "requests").json()

    def provider_body(self, **extra) -> dict:
        body = {
            "name": "sample-provider",
            "authorization_flow": self.app.flow_pk(IMPLICIT),
            "invalidation_flow": self.app.flow_pk(INVALIDATION),
            "redirect_uris": [{"matching_mode": "strict", "url": CALLBACK}],
            "signing_key": self.app.keypair_pk(SELF_SIGNED),
            "property_mappings": [self.app.scope_mapping_pk(s) for s in ("email", "openid", "profile")],
        }
        if Profile(self.app.version).has("oauth2.grant_types"):
            body["grant_types"] = ["authorization_code", "refresh_token"]
        body.update(extra)
        return body

    def make_provider(self, **extra) -> dict:
        resp = self.post("/providers/oauth2/", self.provider_body(**extra))
        assert resp.status_code == 201, resp.text
        return resp.json()

    def make_app(self, slug: str, provider: int | None = None, **extra) -> dict:
        resp = self.post("/core/applications/", dict({"name": slug, "slug": slug, "provider": provider}, **extra))
        assert resp.status_code == 201, resp.text
        return resp.json()


@pytest.fixture(scope="module")
def server():
    running = Server(AuthentikApp(token=TOKEN, page_size=100)).start()
    yield running
    running.stop()


@pytest.fixture
def ak(server):
    client = Client(server)
    client.control("POST", "reset")
    client.config(page_size=100)
    return client


def test_auth_failures_are_403_with_drf_details(ak):
    path = ak.api + "/core/users/me/"
    cases = [
        ({}, "Authentication credentials were not provided."),
        ({"Authorization": "Token " + TOKEN}, "Authentication credentials were not provided."),
        ({"Authorization": "Basic YWthZG1pbjp3cm9uZw=="}, "Authentication credentials were not provided."),
        ({"Authorization": "Bearer this-is-not-a-valid-token"}, "Token invalid/expired"),
    ]
    for headers, detail in cases:
        resp = requests.get(path, headers=headers, timeout=5)
        assert resp.status_code == 403
        assert resp.headers["Content-Type"] == JSON_UTF8
        assert resp.json() == {"detail": detail}
    assert ak.get("/core/users/me/").json()["user"]["username"] == "akadmin"
    # the control interface wants the token as well
    assert requests.get(ak.url + "/_test/requests", timeout=5).status_code == 403


def test_unknown_routes_and_methods(ak):
    resp = ak.get("/no/such/thing/")
    assert (resp.status_code, resp.json()) == (404, {"detail": "Not found."})
    assert requests.get(ak.api + "/no/such/thing/", timeout=5).status_code == 404
    resp = ak.session.delete(ak.api + "/flows/instances/", timeout=5)
    assert (resp.status_code, resp.json()) == (405, {"detail": 'Method "DELETE" not allowed.'})
    assert requests.delete(ak.api + "/flows/instances/", timeout=5).status_code == 403
    resp = ak.session.post(ak.api + "/providers/oauth2/", data="name=x", timeout=5)
    assert resp.status_code == 415
    resp = ak.session.post(ak.api + "/providers/oauth2/", data="{", headers={"Content-Type": "application/json"}, timeout=5)
    assert resp.status_code == 400 and resp.json()["detail"].startswith("JSON parse error")
    assert ak.post("/core/applications/", [1]).json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_version_endpoint(ak):
    resp = ak.get("/admin/version/")
    assert resp.status_code == 200
    assert resp.json() == {"version_current": DEFAULT_VERSION, "version_latest": "0.0.0", "version_latest_valid": False,
                           "build_hash": "", "outdated": False, "outpost_outdated": False}


def test_pagination_walks_every_page(ak):
    ak.config(page_size=2)
    first = ak.get("/flows/instances/").json()
    assert set(first) == {"pagination", "results", "autocomplete"} and first["autocomplete"] == {}
    assert first["pagination"] == {"next": 2, "previous": 0, "count": 14, "current": 1, "total_pages": 7,
                                   "start_index": 1, "end_index": 2}
    slugs, page = [], 1
    while page:
        body = ak.get("/flows/instances/", params={"page": page}).json()
        assert len(body["results"]) <= 2
        slugs += [f["slug"] for f in body["results"]]
        page = body["pagination"]["next"]
    assert len(slugs) == 14 and slugs == sorted(slugs) and IMPLICIT in slugs
    second = ak.get("/flows/instances/", params={"page": 2}).json()  # sample 20
    assert second["pagination"] == {"next": 3, "previous": 1, "count": 14, "current": 2, "total_pages": 7,
                                    "start_index": 3, "end_index": 4}
    assert [f["slug"] for f in second["results"]] == ["default-authenticator-totp-setup",
                                                      "default-authenticator-webauthn-setup"]
    last = ak.get("/flows/instances/", params={"page": 7}).json()["pagination"]
    assert (last["next"], last["previous"], last["end_index"]) == (0, 6, 14)
    for bad in (8, 0, "x"):
        resp = ak.get("/flows/instances/", params={"page": bad})
        assert (resp.status_code, resp.json()) == (404, {"detail": "Invalid page."})
    assert ak.get("/flows/instances/", params={"page_size": 5}).json()["pagination"]["total_pages"] == 3
    empty = ak.get("/flows/instances/", params={"slug": "nope"}).json()["pagination"]
    assert empty == {"next": 0, "previous": 0, "count": 0, "current": 1, "total_pages": 1, "start_index": 0,
                     "end_index": 0}
    # every list pages the same way
    scopes = ak.get("/propertymappings/provider/scope/", params={"page": 3}).json()
    assert scopes["pagination"]["total_pages"] == 3 and len(scopes["results"]) == 2


def test_seeded_lookups(ak):
    flows = ak.get("/flows/instances/", params={"slug": INVALIDATION, "designation": "invalidation"}).json()
    assert [f["pk"] for f in flows["results"]] == ["b18b8a3e-f03d-408a-9e33-367e56d66be9"]
    assert ak.get("/flows/instances/%s/" % IMPLICIT).json()["designation"] == "authorization"
    assert ak.get("/flows/instances/", params={"designation": "bogus"}).status_code == 400
    keys = ak.get("/crypto/certificatekeypairs/", params={"name": SELF_SIGNED, "has_key": "true"}).json()["results"]
    assert len(keys) == 1 and keys[0]["private_key_available"] is True and keys[0]["key_type"] == "rsa"
    assert keys[0]["managed"] is None
    all_keys = ak.get("/crypto/certificatekeypairs/").json()["results"]
    assert {k["name"] for k in all_keys} >= {SELF_SIGNED, "authentik Internal JWT Certificate"}
    assert any(not k["private_key_available"] for k in all_keys)
    assert len(ak.get("/crypto/certificatekeypairs/", params={"has_key": "true"}).json()["results"]) == 2
    jwt = ak.get("/crypto/certificatekeypairs/", params={"managed": "goauthentik.io/crypto/jwt-managed"}).json()
    assert [k["name"] for k in jwt["results"]] == ["authentik Internal JWT Certificate"]
    managed = ["goauthentik.io/providers/oauth2/scope-" + s for s in ("openid", "email", "profile")]
    scopes = ak.get("/propertymappings/provider/scope/", params={"managed": managed}).json()["results"]
    assert [s["scope_name"] for s in scopes] == ["email", "openid", "profile"]  # sample 04 order
    every = ak.get("/propertymappings/provider/scope/").json()["results"]
    assert {s["scope_name"] for s in every} == {"openid", "email", "profile", "offline_access", "entitlements",
                                                "goauthentik.io/api"}
    resp = ak.get("/propertymappings/provider/scope/", params={"managed": "goauthentik.io/providers/oauth2/scope-nope"})
    assert resp.status_code == 400 and "managed" in resp.json()
    group = ak.get("/core/groups/", params={"name": "authentik Admins", "include_users": "false"}).json()
    assert group["results"][0]["is_superuser"] is True and group["results"][0]["users_obj"] is None
    assert group["autocomplete"]["current_model"] == "authentik_core.group"
    user = ak.get("/core/users/", params={"username": "akadmin"}).json()["results"][0]
    assert user["pk"] == 3 and user["is_superuser"] is True
    assert len(ak.get("/core/users/").json()["results"]) >= 3
    assert len(ak.get("/core/groups/").json()["results"]) >= 3
    expr = ak.get("/policies/expression/", params={"name": "idpbridge-deny-all"}).json()["results"]
    assert len(expr) == 1 and expr[0]["expression"] == "return False"
    # /policies/all/ has no name filter in authentik: ?name= is ignored, search works
    everything = ak.get("/policies/all/").json()["results"]
    assert len(ak.get("/policies/all/", params={"name": "idpbridge-deny-all"}).json()["results"]) == len(everything) > 1
    assert [p["name"] for p in ak.get("/policies/all/", params={"search": "deny-all"}).json()["results"]] == [
        "idpbridge-deny-all"]


def test_provider_lifecycle(ak):
    ak.app.profile = Profile("2025.12.4")  # compare with the captured key order
    body = ak.provider_body()
    resp = ak.post("/providers/oauth2/", body)
    assert resp.status_code == 201 and resp.headers["Content-Type"] == JSON_UTF8
    created = resp.json()
    assert list(created) == PROVIDER_KEYS_2025_12
    assert isinstance(created["pk"], int)
    assert len(created["client_id"]) == 40 and created["client_id"].isalnum()
    assert len(created["client_secret"]) == 128 and created["client_secret"].isalnum()
    # listed in creation order of the mappings, not in request order (sample note 9)
    assert created["property_mappings"] == [ak.app.scope_mapping_pk(s) for s in ("openid", "email", "profile")]
    assert created["property_mappings"] != body["property_mappings"]
    assert (created["access_token_validity"], created["refresh_token_validity"]) == ("hours=1", "days=30")
    pk = created["pk"]
    assert ak.get("/providers/oauth2/%d/" % pk).json() == created
    listed = ak.get("/providers/oauth2/", params={"name": "sample-provider"}).json()
    assert [p["pk"] for p in listed["results"]] == [pk]
    assert ak.get("/providers/oauth2/", params={"client_id": created["client_id"]}).json()["results"][0]["pk"] == pk
    patched = ak.patch("/providers/oauth2/%d/" % pk, {"access_token_validity": "hours=2"}).json()
    assert patched["access_token_validity"] == "hours=2" and patched["client_secret"] == created["client_secret"]
    patched = ak.patch("/providers/oauth2/%d/" % pk,
                       {"redirect_uris": [{"matching_mode": "strict", "url": "https://other.example/cb"}]}).json()
    assert patched["redirect_uris"] == [{"matching_mode": "strict", "url": "https://other.example/cb"}]
    patched = ak.patch("/providers/oauth2/%d/" % pk, {"property_mappings": [ak.app.scope_mapping_pk("email")]}).json()
    assert patched["property_mappings"] == [ak.app.scope_mapping_pk("email")]
    resp = ak.put("/providers/oauth2/%d/" % pk, {"name": "sample-provider"})  # sample 09b
    assert resp.status_code == 400
    assert resp.json() == {"authorization_flow": ["This field is required."],
                           "invalidation_flow": ["This field is required."],
                           "redirect_uris": ["This field is required."]}
    put = ak.put("/providers/oauth2/%d/" % pk, ak.provider_body(name="renamed", client_id="my-client"))
    assert put.status_code == 200, put.text
    assert (put.json()["name"], put.json()["client_id"]) == ("renamed", "my-client")
    assert put.json()["access_token_validity"] == "hours=2"  # omitted on PUT: unchanged
    assert ak.app.provider_secret("renamed") == created["client_secret"]
    resp = ak.delete("/providers/oauth2/%d/" % pk)
    assert resp.status_code == 204 and resp.content == b""
    resp = ak.get("/providers/oauth2/%d/" % pk)
    assert (resp.status_code, resp.json()) == (404, {"detail": "No OAuth2Provider matches the given query."})
    second = ak.make_provider(name="next")
    assert second["pk"] == pk + 1  # one sequence, never reused


def test_provider_validation_errors(ak):
    first = ak.make_provider()
    resp = ak.post("/providers/oauth2/", ak.provider_body())
    assert (resp.status_code, resp.json()) == (400, {"name": ["provider with this name already exists."]})
    resp = ak.post("/providers/oauth2/", ak.provider_body(name="x", client_id=first["client_id"]))
    assert resp.json() == {"client_id": ["OAuth2/OpenID Provider with this Client ID already exists."]}
    missing = "00000000-0000-4000-8000-000000000000"
    resp = ak.post("/providers/oauth2/", ak.provider_body(name="x", authorization_flow=missing))
    assert resp.json() == {"authorization_flow": ['Invalid pk "%s" - object does not exist.' % missing]}
    resp = ak.post("/providers/oauth2/", ak.provider_body(name="x", invalidation_flow=ak.app.flow_pk(IMPLICIT)))
    assert list(resp.json()) == ["invalidation_flow"]  # wrong designation
    resp = ak.post("/providers/oauth2/", ak.provider_body(name="x", redirect_uris=CALLBACK))  # sample 07
    assert resp.json() == {"redirect_uris": {"non_field_errors": ['Expected a list of items but got type "str".']}}
    resp = ak.post("/providers/oauth2/", ak.provider_body(
        name="x", redirect_uris=[{"matching_mode": "strict", "url": CALLBACK}, {"matching_mode": "exact", "url": "u"}]))
    assert resp.json() == {"redirect_uris": [{}, {"matching_mode": ['"exact" is not a valid choice.']}]}
    broken = [{"matching_mode": "regex", "url": "https://(broken"}]
    resp = ak.post("/providers/oauth2/", ak.provider_body(name="x", redirect_uris=broken))
    assert resp.json() == {"redirect_uris": ["Invalid Regex Pattern: https://(broken"]}
    body = ak.provider_body(name="x")
    del body["invalidation_flow"]
    assert ak.post("/providers/oauth2/", body).json() == {"invalidation_flow": ["This field is required."]}
    resp = ak.post("/providers/oauth2/", ak.provider_body(name="x", access_token_validity="forever"))
    assert resp.json() == {"access_token_validity": ["forever is not in the correct format of 'hours=3;minutes=1'."]}
    resp = ak.post("/providers/oauth2/", ak.provider_body(name="x", client_type="secret", sub_mode="nope"))
    assert set(resp.json()) == {"client_type", "sub_mode"}
    resp = ak.post("/providers/oauth2/", ak.provider_body(name="x", signing_key="not-a-uuid"))
    assert resp.json() == {"signing_key": ["\u201cnot-a-uuid\u201d is not a valid UUID."]}
    resp = ak.post("/providers/oauth2/", ak.provider_body(name="x", grant_types=["authorization_code", "magic"]))
    assert resp.json() == {"grant_types": {"1": ['"magic" is not a valid choice.']}}
    assert len(ak.control("GET", "state").json()["providers"]) == 1


def test_setup_urls_follow_the_request_host(ak):
    provider = ak.make_provider()
    path = "/providers/oauth2/%d/setup_urls/" % provider["pk"]
    unbound = ak.get(path, headers={"Host": "authentik.example"}).json()
    assert unbound == {"issuer": None, "authorize": "http://authentik.example/application/o/authorize/",
                       "token": "http://authentik.example/application/o/token/",
                       "user_info": "http://authentik.example/application/o/userinfo/",
                       "provider_info": None, "logout": None, "dcr_registration": None}
    ak.make_app("sample-app", provider["pk"])
    bound = ak.get(path, headers={"Host": "authentik.example", "X-Forwarded-Proto": "https"}).json()
    base = "https://authentik.example/application/o/"
    assert bound["issuer"] == base + "sample-app/"
    assert bound["provider_info"] == base + "sample-app/.well-known/openid-configuration"
    assert bound["logout"] == base + "sample-app/end-session/" and bound["jwks"] == base + "sample-app/jwks/"
    assert list(bound) == ["issuer", "authorize", "token", "user_info", "provider_info", "logout", "jwks",
                           "dcr_registration"]


def test_application_create_and_conflicts(ak):
    ak.app.profile = Profile("2025.12.4")
    provider = ak.make_provider()
    created = ak.make_app("sample-app", provider["pk"], meta_launch_url="https://team.cloudflareaccess.com/")
    assert list(created) == APPLICATION_KEYS_2025_12
    assert created["provider_obj"]["assigned_application_slug"] == "sample-app"
    assert "client_secret" not in created["provider_obj"]
    assert created["launch_url"] == "https://team.cloudflareaccess.com/"
    assert ak.get("/core/applications/sample-app/").json() == created
    assert ak.get("/providers/oauth2/%d/" % provider["pk"]).json()["assigned_application_name"] == "sample-app"
    resp = ak.post("/core/applications/", {"name": "sample-app-2", "slug": "sample-app", "provider": provider["pk"]})
    assert resp.json() == {"slug": ["Application with this slug already exists."],
                           "provider": ["Application with this provider already exists."]}
    resp = ak.post("/core/applications/", {"name": "sample-app-3", "slug": "sample-app-3", "provider": provider["pk"]})
    assert resp.json() == {"provider": ["Application with this provider already exists."]}
    resp = ak.post("/core/applications/", {"name": "sample-app-4", "slug": "Has Spaces", "provider": None})
    assert resp.json() == {"slug": ["Enter a valid \u201cslug\u201d consisting of letters, numbers, underscores or hyphens."]}
    resp = ak.post("/core/applications/", {"name": "x", "slug": "x", "provider": 999})
    assert resp.json() == {"provider": ['Invalid pk "999" - object does not exist.']}
    other = ak.make_provider(name="other")
    plain = ak.make_app("plain")
    assert plain["launch_url"] is None and plain["provider_obj"] is None
    patched = ak.patch("/core/applications/plain/", {"provider": other["pk"]}).json()
    assert patched["launch_url"] == "https://team.cloudflareaccess.com"  # derived from the first redirect URI
    resp = ak.get("/core/applications/nope/")
    assert (resp.status_code, resp.json()) == (404, {"detail": "No Application matches the given query."})


def test_application_list_cache_gotcha(ak):
    ak.make_app("sample-app-a")
    ak.make_app("sample-app-b")
    first = ak.get("/core/applications/", params={"slug": "sample-app-a"}).json()
    assert [a["slug"] for a in first["results"]] == ["sample-app-a"]
    stale = ak.get("/core/applications/", params={"slug": "sample-app-b"}).json()  # sample 12e
    assert [a["slug"] for a in stale["results"]] == ["sample-app-a"]
    unknown = ak.get("/core/applications/", params={"slug": "no-such-slug"}).json()  # sample 12e2
    assert unknown["pagination"]["count"] == 0 and [a["slug"] for a in unknown["results"]] == ["sample-app-a"]
    full = ak.get("/core/applications/", params={"slug": "sample-app-b", "superuser_full_list": "true"}).json()
    assert [a["slug"] for a in full["results"]] == ["sample-app-b"]
    searched = ak.get("/core/applications/", params={"slug": "sample-app-b", "search": "sample"}).json()
    assert [a["slug"] for a in searched["results"]] == ["sample-app-b"]
    ak.patch("/core/applications/sample-app-a/", {"meta_publisher": "x"})  # an update keeps the cache
    assert [a["slug"] for a in ak.get("/core/applications/", params={"slug": "sample-app-b"}).json()["results"]] == [
        "sample-app-a"]
    # saving a binding clears it; a group binding akadmin is not in hides the app from the list (12g/12h)
    app_b = ak.get("/core/applications/sample-app-b/").json()
    resp = ak.post("/policies/bindings/", {"target": app_b["pk"], "group": ak.app.group_pk("engineering"), "order": 0})
    assert resp.status_code == 201
    hidden = ak.get("/core/applications/", params={"slug": "sample-app-b"}).json()
    assert hidden["pagination"]["count"] == 1 and hidden["results"] == []
    assert ak.get("/core/applications/sample-app-b/").status_code == 200
    ak.make_app("sample-app-c")  # creating clears it too
    assert [a["slug"] for a in ak.get("/core/applications/", params={"slug": "sample-app-c"}).json()["results"]] == [
        "sample-app-c"]


def test_policy_bindings(ak):
    ak.app.profile = Profile("2025.12.4")
    application = ak.make_app("sample-app")
    admins = ak.app.group_pk("authentik Admins")
    body = {"group": admins, "target": application["pk"], "order": 10}
    resp = ak.post("/policies/bindings/", body)
    assert resp.status_code == 201
    binding = resp.json()
    assert list(binding) == BINDING_KEYS_2025_12
    assert binding["group_obj"] == {"pk": admins, "num_pk": 58013, "name": "authentik Admins", "is_superuser": True,
                                    "attributes": {}}
    assert (binding["negate"], binding["enabled"], binding["timeout"], binding["failure_result"]) == (False, True, 30, False)
    again = ak.post("/policies/bindings/", body)  # sample 15b: an identical second binding is accepted
    assert again.status_code == 201 and again.json()["pk"] != binding["pk"]
    resp = ak.post("/policies/bindings/", dict(body, user=3, order=20))  # sample 15c
    assert resp.json() == {"non_field_errors": ["Only one of 'group', 'policy', 'user' can be set."]}
    resp = ak.post("/policies/bindings/", {"target": application["pk"], "order": 1})
    assert resp.json() == {"non_field_errors": ["One of 'group', 'policy', 'user' must be set."]}
    resp = ak.post("/policies/bindings/", {"target": application["pk"], "group": admins})
    assert resp.json() == {"order": ["This field is required."]}
    resp = ak.post("/policies/bindings/", {"target": "00000000-0000-4000-8000-000000000001", "group": admins, "order": 1})
    assert list(resp.json()) == ["target"]
    user_binding = ak.post("/policies/bindings/", {"target": application["pk"], "user": 4, "order": 5}).json()
    assert user_binding["user_obj"]["username"] == "alice"
    policy = ak.app.policy_pk("idpbridge-deny-all")
    policy_binding = ak.post("/policies/bindings/", {"target": application["pk"], "policy": policy, "order": 7}).json()
    assert policy_binding["policy_obj"]["name"] == "idpbridge-deny-all"
    resp = ak.post("/policies/bindings/", {"target": application["pk"], "policy": policy, "order": 7})
    assert resp.json() == {"non_field_errors": ["The fields policy, target, order must make a unique set."]}
    listed = ak.get("/policies/bindings/", params={"target": application["pk"]}).json()
    assert [b["order"] for b in listed["results"]] == [5, 7, 10, 10]
    # authentik has no group/user filter on this list: the parameters are ignored
    assert len(ak.get("/policies/bindings/", params={"target": application["pk"], "group": admins}).json()["results"]) == 4
    assert ak.get("/policies/bindings/", params={"target": "00000000-0000-4000-8000-000000000001"}).status_code == 400
    patched = ak.patch("/policies/bindings/%s/" % binding["pk"], {"order": 30, "negate": True}).json()
    assert (patched["order"], patched["negate"], patched["group"]) == (30, True, admins)
    assert ak.patch("/policies/bindings/%s/" % binding["pk"], {"user": 3}).status_code == 400
    resp = ak.delete("/policies/bindings/%s/" % binding["pk"])
    assert resp.status_code == 204 and ak.get("/policies/bindings/%s/" % binding["pk"]).status_code == 404


def test_application_delete_cascades(ak):
    provider = ak.make_provider()
    application = ak.make_app("sample-app", provider["pk"])
    for order in (1, 2):
        ak.post("/policies/bindings/", {"target": application["pk"], "group": ak.app.group_pk("engineering"),
                                        "order": order})
    other = ak.make_app("other")
    ak.post("/policies/bindings/", {"target": other["pk"], "user": 5, "order": 0})
    assert ak.delete("/core/applications/sample-app/").status_code == 204
    state = ak.control("GET", "state").json()
    assert [b["target"] for b in state["bindings"]] == [other["pk"]]
    unbound = ak.get("/providers/oauth2/%d/" % provider["pk"]).json()
    assert unbound["assigned_application_slug"] is None and unbound["assigned_application_name"] is None
    assert ak.get("/providers/oauth2/%d/setup_urls/" % provider["pk"]).json()["issuer"] is None
    # and deleting a provider unbinds it from its application
    ak.patch("/core/applications/other/", {"provider": provider["pk"]})
    assert ak.delete("/providers/oauth2/%d/" % provider["pk"]).status_code == 204
    assert ak.get("/core/applications/other/").json()["provider"] is None


def test_discovery_and_jwks(ak):
    provider = ak.make_provider()
    ak.make_app("sample-app", provider["pk"])
    headers = {"Host": "authentik.example"}
    resp = requests.get(ak.url + "/application/o/sample-app/.well-known/openid-configuration", headers=headers, timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    doc = resp.json()
    assert doc["issuer"] == "http://authentik.example/application/o/sample-app/"
    assert doc["jwks_uri"] == "http://authentik.example/application/o/sample-app/jwks/"
    assert doc["authorization_endpoint"] == "http://authentik.example/application/o/authorize/"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["scopes_supported"] == ["openid", "email", "profile"]
    assert {"email", "groups", "preferred_username"} <= set(doc["claims_supported"])
    resp = requests.get(ak.url + "/application/o/sample-app/jwks/", timeout=5)
    assert resp.headers["Content-Type"] == "application/json"
    keys = resp.json()["keys"]
    material = ak.app.signing_key
    assert len(keys) == 1 and keys[0]["kid"] == material.kid and len(material.kid) == 32
    assert (keys[0]["alg"], keys[0]["kty"], keys[0]["use"], keys[0]["e"]) == ("RS256", "RSA", "sig", "AQAB")
    modulus = int.from_bytes(base64.urlsafe_b64decode(keys[0]["n"] + "=" * (-len(keys[0]["n"]) % 4)), "big")
    assert modulus == material.public_key.public_numbers().n
    assert base64.b64decode(keys[0]["x5c"][0]) == material.certificate_der
    # without a signing key: JWKS {} and HS256 (samples 19b, 19c), on the very next request
    ak.patch("/providers/oauth2/%d/" % provider["pk"], {"signing_key": None})
    assert requests.get(ak.url + "/application/o/sample-app/jwks/", timeout=5).json() == {}
    doc = requests.get(ak.url + "/application/o/sample-app/.well-known/openid-configuration", timeout=5).json()
    assert doc["id_token_signing_alg_values_supported"] == ["HS256"]
    # a key pair without a private key cannot sign either
    nokey = next(pk for pk, k in ak.app.keypairs.items() if not k["has_key"])
    ak.patch("/providers/oauth2/%d/" % provider["pk"], {"signing_key": nokey})
    assert requests.get(ak.url + "/application/o/sample-app/jwks/", timeout=5).json() == {}
    resp = requests.get(ak.url + "/application/o/sample-no-such-app/.well-known/openid-configuration", timeout=5)
    assert resp.status_code == 404 and resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Not Found" in resp.text


def test_contract_check_rejects_and_records(ak):
    ak.control("DELETE", "requests")
    resp = ak.post("/providers/oauth2/", ak.provider_body(include_claims_in_id_token="true"))
    assert resp.status_code == 400  # authentik itself would take "true"; the client model would not
    assert list(resp.json()) == ["include_claims_in_id_token"]
    resp = ak.post("/providers/oauth2/", ak.provider_body(redirect_uri=CALLBACK))  # a typo authentik would ignore
    assert resp.status_code == 400 and "redirect_uri" in resp.json()
    resp = ak.post("/core/applications/", {"name": "a", "slug": "a", "provider": "3"})
    assert resp.status_code == 400 and list(resp.json()) == ["provider"]
    good = ak.make_provider()
    resp = ak.patch("/providers/oauth2/%d/" % good["pk"], {"name": 5})
    assert resp.status_code == 400
    # bodies authentik rejects keep authentik's answer, with the contract errors recorded as well
    body = ak.provider_body(name="x")
    del body["redirect_uris"]
    assert ak.post("/providers/oauth2/", body).json() == {"redirect_uris": ["This field is required."]}
    log = [e for e in ak.log() if e["write"]]
    errors = [e["contract_errors"] for e in log]
    assert any("include_claims_in_id_token" in m for m in errors[0])
    assert any(m.startswith("redirect_uri: unknown field") for m in errors[1])
    assert any(m.startswith("provider:") for m in errors[2])
    assert errors[3] == []  # the good create
    assert any(m.startswith("name:") for m in errors[4])
    assert any(m.startswith("redirect_uris:") for m in errors[5])
    assert [e["status"] for e in log] == [400, 400, 400, 201, 400, 400]
    assert len(ak.control("GET", "state").json()["providers"]) == 1


def test_contract_record_mode_answers_like_authentik(ak):
    ak.config(contract="record")
    resp = ak.post("/providers/oauth2/", ak.provider_body(this_key_does_not_exist="x", client_type="confidential"))
    assert resp.status_code == 201 and "this_key_does_not_exist" not in resp.json()  # sample 07d
    assert ak.log()[-1]["contract_errors"] == [
        "this_key_does_not_exist: unknown field (not in OAuth2ProviderRequest; authentik ignores it)"]
    ak.control("POST", "reset")
    assert ak.post("/providers/oauth2/", ak.provider_body(bogus=1)).status_code == 400


def test_contract_check_without_the_client_package(ak, monkeypatch):
    monkeypatch.setitem(contract._STATE, "models", None)
    resp = ak.post("/providers/oauth2/", ak.provider_body())
    assert resp.status_code == 400
    assert resp.json() == {"non_field_errors": ["contract: " + contract.NOT_INSTALLED]}
    assert ak.log()[-1]["contract_errors"] == [contract.NOT_INSTALLED]
    assert ak.get("/flows/instances/").status_code == 200  # reads are unaffected


def test_faults(ak):
    ak.control("POST", "faults", {"path": "^/api/v3/flows/", "status": 429, "retry_after": 2, "count": 2})
    for attempt in range(2):
        resp = ak.get("/flows/instances/")
        assert resp.status_code == 429, attempt
        assert resp.headers["Retry-After"] == "2" and "detail" in resp.json()
    assert ak.get("/flows/instances/").status_code == 200
    ak.control("POST", "faults", {"method": "POST", "path": "/providers/oauth2/", "status": 503})
    assert ak.post("/providers/oauth2/", ak.provider_body()).status_code == 503
    assert ak.get("/providers/oauth2/").status_code == 200  # only POST was meant
    assert ak.post("/providers/oauth2/", ak.provider_body()).status_code == 201
    ak.control("POST", "faults", {"path": "/admin/version/", "delay": 0.3})
    started = time.monotonic()
    assert ak.get("/admin/version/").status_code == 200
    assert time.monotonic() - started >= 0.3
    ak.control("POST", "faults", {"path": "/admin/version/", "drop": True})
    with pytest.raises(requests.ConnectionError):
        requests.get(ak.api + "/admin/version/", headers={"Authorization": "Bearer " + TOKEN}, timeout=5)
    assert ak.get("/admin/version/").status_code == 200
    notes = [e.get("fault") for e in ak.log()]
    assert notes.count("injected") == 3 and notes.count("dropped") == 1


def test_reset_restores_the_seed(ak):
    provider = ak.make_provider()
    ak.make_app("sample-app", provider["pk"])
    ak.config(version="2025.12.4")
    ak.control("POST", "reset")
    state = ak.control("GET", "state").json()
    assert (state["providers"], state["applications"], state["bindings"]) == ([], [], [])
    assert state["version"] == DEFAULT_VERSION and ak.log() == []
    assert ak.make_provider()["pk"] == 1


def test_policy_engine_and_users(ak):
    application = ak.make_app("sample-app")
    carol = ak.app.add_user("carol", "Carol", "carol@example.org", groups=["engineering"], password="pw")
    assert ak.app.check_password("carol@example.org", "pw")["pk"] == carol["pk"]
    assert ak.app.check_password("carol", "wrong") is None
    assert ak.app.passes_policies(application["pk"], carol["pk"])  # no bindings: open to everyone
    ak.post("/policies/bindings/", {"target": application["pk"], "group": ak.app.group_pk("engineering"), "order": 0})
    assert ak.app.passes_policies(application["pk"], carol["pk"])
    assert not ak.app.passes_policies(application["pk"], ak.app.user_pk("bob"))
    ak.post("/policies/bindings/", {"target": application["pk"], "user": ak.app.user_pk("bob"), "order": 1})
    assert ak.app.passes_policies(application["pk"], ak.app.user_pk("bob"))  # mode any
    ak.patch("/core/applications/sample-app/", {"policy_engine_mode": "all"})
    assert not ak.app.passes_policies(application["pk"], ak.app.user_pk("bob"))
    assert [u["username"] for u in ak.get("/core/users/", params={"username": "carol"}).json()["results"]] == ["carol"]


def test_state_dump_has_secrets(ak):
    provider = ak.make_provider()
    ak.make_app("sample-app", provider["pk"])
    state = ak.control("GET", "state").json()
    assert state["providers"][0]["client_secret"] == ak.app.provider_secret(provider["pk"]) == provider["client_secret"]
    assert state["applications"][0]["slug"] == "sample-app"
    assert ak.app.provider_by_client_id(provider["client_id"])["pk"] == provider["pk"]
    assert state["contract_models"] == "2026.8.5"


def test_version_2024_10(ak):
    ak.config(version="2024.10.5")
    assert ak.get("/admin/version/").json()["version_current"] == "2024.10.5"
    provider = ak.make_provider()
    for key in ("grant_types", "refresh_token_threshold", "logout_uri", "logout_method", "jwt_federation_sources"):
        assert key not in provider
    assert provider["jwks_sources"] == [] and provider["redirect_uris"] == [{"matching_mode": "strict", "url": CALLBACK}]
    resp = ak.post("/providers/oauth2/", ak.provider_body(name="x", grant_types=["authorization_code"]))
    assert resp.status_code == 400 and "unknown field for authentik 2024.10.5" in resp.json()["grant_types"][0]
    resp = ak.post("/providers/oauth2/", ak.provider_body(
        name="x", redirect_uris=[{"matching_mode": "strict", "url": CALLBACK, "redirect_uri_type": "authorization"}]))
    assert resp.status_code == 400 and "redirect_uris" in resp.json()
    application = ak.make_app("sample-app", provider["pk"])
    for key in ("meta_icon_url", "meta_icon_themed_urls", "meta_hide", "pbm_uuid"):
        assert key not in application
    assert application["meta_icon"] is None
    assert ak.post("/core/applications/", {"name": "x", "slug": "x", "meta_icon": "a.png"}).status_code == 400
    resp = ak.post("/core/applications/sample-app/set_icon_url/", {"url": "https://icons.example/a.png"})
    assert (resp.status_code, resp.json()) == (200, {})
    assert ak.get("/core/applications/sample-app/").json()["meta_icon"] == "https://icons.example/a.png"
    resp = ak.post("/core/applications/", {"name": "x", "slug": "s" * 51})
    assert resp.json() == {"slug": ["Ensure this field has no more than 50 characters."]}


def test_versions_2025_8_and_2025_10(ak):
    ak.config(version="2025.8.4")
    provider = ak.make_provider(backchannel_logout_uri="https://app.example/logout")
    assert provider["backchannel_logout_uri"] == "https://app.example/logout"
    assert "logout_uri" not in provider and "refresh_token_threshold" not in provider
    ak.config(version="2025.10.3")
    again = ak.get("/providers/oauth2/%d/" % provider["pk"]).json()
    assert (again["logout_uri"], again["logout_method"], again["refresh_token_threshold"]) == (
        "https://app.example/logout", "backchannel", "seconds=0")
    assert "backchannel_logout_uri" not in again and "grant_types" not in again
    resp = ak.post("/providers/oauth2/", ak.provider_body(name="y", backchannel_logout_uri="https://a.example/"))
    assert resp.status_code == 400 and "backchannel_logout_uri" in resp.json()


def test_version_2025_12(ak):
    ak.config(version="2025.12.4")
    provider = ak.make_provider()
    assert list(provider) == PROVIDER_KEYS_2025_12
    application = ak.make_app("sample-app", provider["pk"], meta_icon="https://icons.example/a.png")
    assert list(application) == APPLICATION_KEYS_2025_12
    assert application["meta_icon"] == application["meta_icon_url"] == "https://icons.example/a.png"
    resp = ak.post("/core/applications/sample-app/set_icon_url/", {"url": "https://icons.example/b.png"})
    assert (resp.status_code, resp.json()) == (405, {"detail": 'Method "POST" not allowed.'})
    assert ak.make_app("s" * 60)["slug"] == "s" * 60  # no 50-char limit any more
    setup = ak.get("/providers/oauth2/%d/setup_urls/" % provider["pk"]).json()
    assert "dcr_registration" not in setup


def test_version_2026_5(ak):
    ak.config(version="2026.5.3")
    body = ak.provider_body()
    del body["grant_types"]
    resp = ak.post("/providers/oauth2/", body)
    assert resp.status_code == 201 and resp.json()["grant_types"] == []  # omitted -> []
    provider = resp.json()
    keys = list(provider)
    assert keys.index("grant_types") == keys.index("client_type") + 1
    assert provider["redirect_uris"] == [{"matching_mode": "strict", "url": CALLBACK, "redirect_uri_type": "authorization"}]
    patched = ak.patch("/providers/oauth2/%d/" % provider["pk"], {"redirect_uris": [
        {"matching_mode": "strict", "url": CALLBACK},
        {"matching_mode": "regex", "url": "https://app\\.example/.*", "redirect_uri_type": "logout"}]}).json()
    assert [e["redirect_uri_type"] for e in patched["redirect_uris"]] == ["authorization", "logout"]
    application = ak.make_app("sample-app", provider["pk"], meta_hide=True)
    assert application["meta_hide"] is True and "pbm_uuid" not in application
    binding = ak.post("/policies/bindings/", {"target": application["pk"], "user": 3, "order": 0}).json()
    assert "expires" not in binding


def test_version_2026_8(ak):
    provider = ak.make_provider()
    assert provider["grant_types"] == ["authorization_code", "refresh_token"]
    application = ak.make_app("sample-app", provider["pk"])
    assert application["pbm_uuid"] == application["pk"]
    binding = ak.post("/policies/bindings/", {"target": application["pk"], "user": 3, "order": 0}).json()
    assert (binding["expires"], binding["expiring"]) == (None, False)
    assert ak.get("/providers/oauth2/%d/setup_urls/" % provider["pk"]).json()["dcr_registration"] is None
    # a provider made before 2026.5 shows every grant type (the 2026.5 migration enabled them all)
    ak.config(version="2025.12.4")
    old = ak.make_provider(name="old")
    ak.config(version="2026.8.5")
    assert "authorization_code" in ak.get("/providers/oauth2/%d/" % old["pk"]).json()["grant_types"]


def test_unsupported_versions_are_refused(ak):
    resp = ak.session.post(ak.url + "/_test/config", json={"version": "2024.8.3"}, timeout=5)
    assert resp.status_code == 400
    with pytest.raises(ValueError):
        AuthentikApp(token=TOKEN, version="2024.6.0")
    assert Profile("2025.12").has("app.meta_icon_writable") and not Profile("2025.10.3").has("app.meta_icon_writable")
