"""The authentik test server's release profiles against the stored client field sets, per-release
contract checks, and the 2026.11 profile (client secrets in Secret objects)."""

from __future__ import annotations

import pytest
import requests

from tests.servers._control import Server
from tests.servers.authentik import contract
from tests.servers.authentik.app import AuthentikApp
from tests.servers.authentik.versions import KNOWN_VERSIONS, UNRELEASED_VERSIONS, Profile

TOKEN = "test-token-versions"
CALLBACK = "https://team.cloudflareaccess.com/cdn-cgi/access/callback"

# profile table -> (request model, response model) in the stored client field sets
TABLES = {
    "oauth2": ("OAuth2ProviderRequest", "OAuth2Provider"),
    "application": ("ApplicationRequest", "Application"),
    "binding": ("PolicyBindingRequest", "PolicyBinding"),
    "redirect_uri": ("RedirectURIRequest", None),
    "scim": ("SCIMProviderRequest", "SCIMProvider"),
}
# The real 2026.2.2 server returns the SCIM token in clear (the captured samples); the 2026.2 field
# set comes from the 2026.2.7 client, where it is write-only.
RESPONSE_EXCEPTIONS = {("2026.2.2", "scim"): {"token"}}


@pytest.mark.parametrize("version", KNOWN_VERSIONS + UNRELEASED_VERSIONS)
def test_profile_tables_agree_with_the_client_release(version):
    profile = Profile(version)
    models = contract.field_set(profile)["models"]
    for table, (request_model, response_model) in TABLES.items():
        assert set(profile.writable(table)) == set(models[request_model]), (version, table)
        if response_model:
            expected = set(models[response_model]) | RESPONSE_EXCEPTIONS.get((version, table), set())
            assert set(profile.fields(table)) == expected, (version, table)


def test_field_sets_pick_the_series_of_the_release():
    assert contract.field_set(Profile("2024.10.5"))["client"].startswith("2024.10.")
    assert contract.field_set(Profile("2025.12.4"))["client"] == "2025.12.6"
    assert contract.field_set(Profile("2026.8.5"))["client"] == "2026.8.5"
    assert contract.field_set(Profile("2025.3.1"))["series"] == "2025.2"  # not stored: the nearest older series
    derived = contract.field_set(Profile("2026.11.0"))
    assert derived["client"] is None and "0039_managed_secrets" in derived["derived"]
    assert "client_secret_ref" in derived["models"]["OAuth2ProviderRequest"]
    assert "client_secret" not in derived["models"]["OAuth2ProviderRequest"]


class Client:
    def __init__(self, server: Server):
        self.app: AuthentikApp = server.app
        self.url = server.url
        self.api = server.url + "/api/v3"
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + TOKEN

    def call(self, method: str, path: str, body=None) -> requests.Response:
        return self.session.request(method, self.api + path, json=body, timeout=5)

    def control(self, method: str, action: str, body=None):
        resp = self.session.request(method, self.url + "/_test/" + action, json=body, timeout=5)
        assert resp.status_code < 300, resp.text
        return resp.json() if resp.content else None

    def provider_body(self, **extra) -> dict:
        body = {
            "name": "versioned",
            "authorization_flow": self.app.flow_pk("default-provider-authorization-implicit-consent"),
            "invalidation_flow": self.app.flow_pk("default-provider-invalidation-flow"),
            "redirect_uris": [{"matching_mode": "strict", "url": CALLBACK}],
        }
        if self.app.profile.has("oauth2.grant_types"):
            body["grant_types"] = ["authorization_code", "refresh_token"]
        body.update(extra)
        return body

    def errors(self) -> list[str]:
        return self.control("GET", "requests")[-1]["contract_errors"]


@pytest.fixture(scope="module")
def server():
    running = Server(AuthentikApp(token=TOKEN, page_size=100)).start()
    yield running
    running.stop()


@pytest.fixture
def ak(server):
    client = Client(server)
    client.control("POST", "reset")
    return client


def test_older_releases_are_checked_with_their_own_client(ak):
    ak.control("POST", "config", {"version": "2024.10.5"})
    resp = ak.call("POST", "/providers/oauth2/", ak.provider_body(jwt_federation_sources=[]))
    assert resp.status_code == 400
    assert ak.errors() == ["jwt_federation_sources: unknown field for authentik 2024.10.5 (authentik-client "
                           "2024.10.4.post1732236734 has no such field; that release ignores it)"]
    # types and enums come from the stored field set (authentik itself would coerce "true")
    assert ak.call("POST", "/providers/oauth2/", ak.provider_body(include_claims_in_id_token="true")).status_code == 400
    assert ak.errors() == ["include_claims_in_id_token: Input should be a valid boolean"]
    assert ak.call("POST", "/providers/oauth2/", ak.provider_body(jwks_sources=[])).status_code == 201
    assert ak.control("GET", "state")["contract_fields"] == {
        "series": "2024.10", "client": "2024.10.4.post1732236734", "derived": None}

    ak.control("POST", "config", {"version": "2025.8.4"})
    body = ak.provider_body(name="logout", logout_uri="https://app.example/logout")
    assert ak.call("POST", "/providers/oauth2/", body).status_code == 400
    assert ak.errors()[0].startswith("logout_uri: unknown field for authentik 2025.8.4 (authentik-client 2025.8.6")

    # 2026.5 had no token-exchange grant yet (the 2026.8 client added it)
    ak.control("POST", "config", {"version": "2026.5.3"})
    body = ak.provider_body(name="exchange", grant_types=["urn:ietf:params:oauth:grant-type:token-exchange"])
    assert ak.call("POST", "/providers/oauth2/", body).status_code == 400
    assert ak.errors()[0].startswith("grant_types.0: Input should be 'authorization_code' or")
    app = ak.call("POST", "/core/applications/", {"name": "a", "slug": "a", "meta_hide": "yes"})
    assert app.status_code == 400 and ak.errors() == ["meta_hide: Input should be a valid boolean"]
    patched = ak.call("PATCH", "/core/applications/a/", {"pbm_uuid": "x"})
    assert patched.status_code == 404  # the application was not created; the check runs on existing ones below
    assert ak.call("POST", "/core/applications/", {"name": "a", "slug": "a"}).status_code == 201
    assert ak.call("PATCH", "/core/applications/a/", {"meta_hide": True}).status_code == 200
    assert ak.call("PATCH", "/core/applications/a/", {"pbm_uuid": "x"}).status_code == 400
    assert ak.errors() == ["pbm_uuid: unknown field (not in PatchedApplicationRequest; authentik ignores it)"]


def test_secrets_api_is_not_there_before_2026_11(ak):
    assert ak.call("GET", "/secrets/secrets/").status_code == 404
    provider = ak.call("POST", "/providers/oauth2/", ak.provider_body()).json()
    assert provider["client_secret"] and "client_secret_ref" not in provider


def test_2026_11_client_secret_is_a_secret_reference(ak):
    ak.control("POST", "config", {"version": "2026.11.0"})
    resp = ak.call("POST", "/providers/oauth2/", ak.provider_body(client_secret="x" * 40))
    assert resp.status_code == 400  # the field is gone; a real server would ignore it
    assert ak.errors()[0].startswith("client_secret: unknown field for authentik 2026.11.0 (the 2026.11 field set")

    provider = ak.call("POST", "/providers/oauth2/", ak.provider_body()).json()
    assert "client_secret" not in provider
    ref = provider["client_secret_ref"]
    secret = ak.call("GET", "/secrets/secrets/%s/" % ref).json()
    assert sorted(secret) == ["created", "last_updated", "managed", "name", "pk", "type"]  # never the value
    assert (secret["name"], secret["type"]) == ("versioned client secret", "text")
    value = ak.call("GET", "/secrets/secrets/%s/view_value/" % ref).json()["value"]
    assert len(value) == 128 and value == ak.app.provider_secret(provider["pk"])

    # a value set through the Secret is the provider's client secret
    assert ak.call("PATCH", "/secrets/secrets/%s/" % ref, {"value": "chosen-secret"}).status_code == 200
    assert ak.call("GET", "/secrets/secrets/%s/view_value/" % ref).json() == {"value": "chosen-secret"}
    assert ak.app.provider_secret("versioned") == "chosen-secret"
    assert ak.call("PATCH", "/secrets/secrets/%s/" % ref, {"value": ""}).status_code == 200  # "" keeps it
    assert ak.app.provider_secret("versioned") == "chosen-secret"

    # an existing secret can be referenced; names are unique; the type is fixed
    own = ak.call("POST", "/secrets/secrets/", {"name": "shared", "value": "shared-value"})
    assert own.status_code == 201 and "value" not in own.json()
    assert ak.call("POST", "/secrets/secrets/", {"name": "shared"}).json() == {
        "name": ["secret with this name already exists."]}
    assert ak.call("PATCH", "/secrets/secrets/%s/" % own.json()["pk"], {"type": "file"}).status_code == 400
    other = ak.call("POST", "/providers/oauth2/", ak.provider_body(name="other", client_secret_ref=own.json()["pk"]))
    assert other.status_code == 201 and ak.app.provider_secret("other") == "shared-value"
    listed = ak.call("GET", "/secrets/secrets/?name=shared").json()["results"]
    assert [x["pk"] for x in listed] == [own.json()["pk"]]

    # in use: the Secret stays until no provider references it; rotation makes a new value
    assert ak.call("DELETE", "/secrets/secrets/%s/" % own.json()["pk"]).status_code == 400
    rotated = ak.call("POST", "/secrets/secrets/%s/rotate/" % ref).json()["value"]
    assert rotated != "chosen-secret" and ak.app.provider_secret("versioned") == rotated
    assert ak.call("DELETE", "/providers/oauth2/%d/" % other.json()["pk"]).status_code == 204
    assert ak.call("DELETE", "/secrets/secrets/%s/" % own.json()["pk"]).status_code == 204
    assert ak.call("GET", "/secrets/secrets/%s/view_value/" % own.json()["pk"]).status_code == 404
    assert ak.errors() == []


def test_upgrade_to_2026_11_moves_client_secrets_into_secrets(ak):
    old = ak.call("POST", "/providers/oauth2/", ak.provider_body(client_secret="kept-across-the-upgrade")).json()
    ak.control("POST", "config", {"version": "2026.11.0"})
    upgraded = ak.call("GET", "/providers/oauth2/%d/" % old["pk"]).json()
    value = ak.call("GET", "/secrets/secrets/%s/view_value/" % upgraded["client_secret_ref"]).json()
    assert value == {"value": "kept-across-the-upgrade"}
    ak.call("PATCH", "/secrets/secrets/%s/" % upgraded["client_secret_ref"], {"value": "rotated-after"})
    ak.control("POST", "config", {"version": "2026.8.5"})  # a downgrade keeps the newest value
    assert ak.call("GET", "/providers/oauth2/%d/" % old["pk"]).json()["client_secret"] == "rotated-after"
    state = ak.control("GET", "state")
    assert state["providers"][0]["client_secret"] == "rotated-after"
    assert [x["name"] for x in state["secrets"]] == ["versioned client secret"]
