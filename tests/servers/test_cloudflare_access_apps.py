"""The Cloudflare test server's Access applications and reusable policies, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import pytest
import requests

from tests.servers._control import Server
from tests.servers.cloudflare import access_contract
from tests.servers.cloudflare.app import CloudflareApp

TOKEN = "cf-test-token-apps-0123456789abcdefghijkl"


@pytest.fixture(scope="module")
def server():
    srv = Server(CloudflareApp(token=TOKEN, page_size=2)).start()
    yield srv
    srv.stop()


@pytest.fixture
def cf(server):
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + TOKEN
    session.post(server.url + "/_test/reset", timeout=5)
    app = server.app
    base = server.url + "/client/v4/accounts/%s/access/" % app.account_id

    def call(method, path, **kwargs):
        return session.request(method, base + path, timeout=5, **kwargs)

    call.app = app
    call.zone = server.url + "/client/v4/zones/%s/access/" % app.zone_id
    call.session = session

    def config(settings):
        answer = session.post(server.url + "/_test/config", json=settings, timeout=5)
        assert answer.status_code in (200, 204), answer.text

    call.config = config
    return call


def policy(cf, name="P", **over):
    body = {"name": name, "decision": "allow", "include": [{"login_method": {"id": cf.app.onetimepin_id}}]}
    body.update(over)
    return cf("POST", "policies", json=body)


def test_policy_create_adds_server_keys_and_pages(cf):
    made = [policy(cf, "P%d" % i).json()["result"] for i in range(5)]
    first = made[0]
    assert first["reusable"] is True and first["app_count"] == 0 and first["id"]
    assert first["exclude"] == [] and first["require"] == [] and first["session_duration"] == "24h"
    page = cf("GET", "policies", params={"page": 3}).json()
    assert [p["name"] for p in page["result"]] == ["P4"]
    assert page["result_info"] == {"page": 3, "per_page": 2, "count": 1, "total_count": 5, "total_pages": 3}


@pytest.mark.parametrize("body, words", [
    ({"name": "x", "decision": "allow", "include": [{"oidc": {"claim_name": "groups"}}]}, "claim_value"),
    ({"name": "x", "decision": "allow", "include": [{"nope": {}}]}, "unknown rule 'nope'"),
    ({"name": "x", "decision": "maybe", "include": [{"everyone": {}}]}, "decision"),
    ({"name": "x", "decision": "allow", "include": [{"everyone": {}}], "color": "red"}, "unknown key 'color'"),
])
def test_policy_contract_errors(cf, body, words):
    resp = cf("POST", "policies", json=body)
    assert resp.status_code == 400 and words in resp.json()["errors"][0]["message"]


def test_policy_rules_must_name_known_login_methods(cf):
    resp = policy(cf, include=[{"oidc": {"claim_name": "groups", "claim_value": "sre", "identity_provider_id": "x"}}])
    assert resp.status_code == 400 and "identity provider x" in resp.json()["errors"][0]["message"]


def test_application_create_links_policies_and_refuses_conflicts(cf):
    pol = policy(cf).json()["result"]
    body = {"name": "G", "domain": "g.example", "type": "self_hosted", "allowed_idps": [cf.app.onetimepin_id],
            "auto_redirect_to_identity": True, "policies": [{"id": pol["id"], "precedence": 1}]}
    resp = cf("POST", "apps", json=body)
    assert resp.status_code == 201
    app = resp.json()["result"]
    assert app["aud"] and app["self_hosted_domains"] == ["g.example"]
    assert app["destinations"] == [{"type": "public", "uri": "g.example"}]
    assert app["policies"][0]["name"] == "P" and app["policies"][0]["precedence"] == 1
    assert cf("GET", "policies/" + pol["id"]).json()["result"]["app_count"] == 1

    again = cf("POST", "apps", json=dict(body, name="Other"))
    assert again.status_code == 409 and "already used by application" in again.json()["errors"][0]["message"]
    redirect = cf("POST", "apps", json=dict(body, domain="h.example", allowed_idps=[]))
    assert redirect.status_code == 400 and "exactly one" in redirect.json()["errors"][0]["message"]
    unknown = cf("POST", "apps", json=dict(body, domain="i.example", allowed_idps=["nope"], auto_redirect_to_identity=False))
    assert unknown.status_code == 400 and "identity provider nope" in unknown.json()["errors"][0]["message"]
    in_use = cf("DELETE", "policies/" + pol["id"])
    assert in_use.status_code == 409 and "in use" in in_use.json()["errors"][0]["message"]
    assert cf("DELETE", "apps/" + app["id"]).status_code == 202
    assert cf("DELETE", "policies/" + pol["id"]).status_code == 200
    assert cf("GET", "apps/" + app["id"]).status_code == 404


def test_application_list_filters(cf):
    for name, domain in (("Grafana", "grafana.example"), ("Grafana two", "g2.example")):
        cf("POST", "apps", json={"name": name, "domain": domain, "type": "self_hosted"})
    exact = cf("GET", "apps", params={"name": "Grafana", "exact": "true"}).json()["result"]
    assert [a["name"] for a in exact] == ["Grafana"]
    loose = cf("GET", "apps", params={"name": "grafana", "per_page": 10}).json()["result"]
    assert sorted(a["name"] for a in loose) == ["Grafana", "Grafana two"]


def test_zone_applications_take_no_reusable_policies(cf):
    pol = policy(cf).json()["result"]
    resp = cf.session.post(cf.zone + "apps", json={"name": "Z", "domain": "z.example", "type": "self_hosted",
                                                   "policies": [pol["id"]]}, timeout=5)
    assert resp.status_code == 400 and "zone-level" in resp.json()["errors"][0]["message"]


def test_the_contract_is_the_sdk():
    assert {"email", "email_domain", "everyone", "login_method", "oidc", "group"} <= access_contract.rule_kinds()
    assert access_contract.check_application({"name": "a", "domain": "a.example", "type": "self_hosted",
                                              "policies": [{"id": "p", "precedence": 1}]}) == []
    assert access_contract.check_application({"domain": "a.example", "type": "self_hosted", "policies": "p"})
    assert access_contract.check_policy({"name": "n", "decision": "allow", "include": [{"everyone": {}}]}, "update") == []


def test_tags_are_made_first_counted_and_kept_while_used(cf):
    app = {"name": "G", "domain": "g.example.com", "type": "self_hosted", "tags": ["team-a"]}
    refused = cf("POST", "apps", json=app)
    assert refused.status_code == 400 and "tag team-a does not exist" in refused.text
    made = cf("POST", "tags", json={"name": "team-a"})
    assert made.status_code == 201 and made.json()["result"]["name"] == "team-a"
    assert cf("POST", "tags", json={"name": "team-a"}).status_code == 409
    assert cf("POST", "tags", json={"name": "x", "color": "red"}).status_code == 400
    created = cf("POST", "apps", json=app).json()["result"]
    assert created["tags"] == ["team-a"]
    tag = cf("GET", "tags/team-a").json()["result"]
    assert tag["app_count"] == 1 and tag["created_at"]
    assert cf("DELETE", "tags/team-a").status_code == 409
    assert cf("DELETE", "apps/" + created["id"]).status_code == 202
    assert cf("DELETE", "tags/team-a").status_code == 202
    assert cf("GET", "tags/team-a").status_code == 404
    assert cf("GET", "tags").json()["result"] == []


def test_the_application_and_policy_lists_cap_per_page(cf):
    for index in range(3):
        assert policy(cf, "P%d" % index).status_code in (200, 201)
    # default: a per_page above access_max_per_page is refused, as the server's other lists do
    cf.config({"access_max_per_page": 2})
    assert cf("GET", "policies", params={"per_page": 3}).status_code == 400
    cf.config({"access_per_page_over": "clamp"})
    page = cf("GET", "policies", params={"per_page": 1000}).json()
    assert len(page["result"]) == 2 and page["result_info"]["per_page"] == 2 and page["result_info"]["total_pages"] == 2
    assert cf("GET", "apps", params={"per_page": 1000}).json()["result_info"]["per_page"] == 2
