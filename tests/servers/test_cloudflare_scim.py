"""Tests of the Cloudflare test server's SCIM side (scim.py), over real HTTP on 127.0.0.1."""

from __future__ import annotations

import pytest
import requests

from tests.servers.test_cloudflare_server import Client, assert_failure, oidc_body, server  # noqa: F401 pylint: disable=unused-import

SCIM_JSON = "application/scim+json"


@pytest.fixture()
def cf(server):  # noqa: F811 pylint: disable=redefined-outer-name
    client = Client(server)
    client.control("POST", "reset")
    return client


def scim_idp(cf):
    body = oidc_body()
    body["scim_config"] = {"enabled": True}
    created = cf.create(body)
    return created, created["scim_config"]["scim_base_url"], created["scim_config"]["secret"]


def scim(method, url, secret, **kwargs):
    headers = {"Authorization": "Bearer " + secret, "Content-Type": SCIM_JSON, "Accept": SCIM_JSON}
    return requests.request(method, url, headers=headers, timeout=5, **kwargs)


def user_body(username, active=True, external="ext-1"):
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": username, "active": active,
            "displayName": username.title(), "name": {"givenName": username, "familyName": " ", "formatted": username},
            "emails": [{"value": username + "@example.com", "type": "other", "primary": True}], "externalId": external}


def test_base_url_points_at_the_server_and_secret_authenticates(cf):
    idp, base, secret = scim_idp(cf)
    assert base == "%s/populations/%s/scim/v2" % (cf.srv.url, idp["id"])
    resp = scim("GET", base + "/ServiceProviderConfig", secret)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == SCIM_JSON
    assert resp.json()["patch"]["supported"] is True and resp.json()["bulk"]["maxOperations"] == 0
    assert scim("GET", base + "/Users", "wrong").status_code == 401
    assert scim("GET", base + "/Users", cf.app.token).status_code == 401  # the API token is not the SCIM secret
    cf.control("POST", "config", json={"scim_base_url": "team_domain"})
    got = cf.call("GET", cf.idps() + "/" + idp["id"]).json()["result"]
    assert got["scim_config"]["scim_base_url"].startswith("https://idpbridge-test.cloudflareaccess.com/populations/")
    cf.control("POST", "config", json={"scim_base_url": "absent"})
    assert "scim_base_url" not in cf.call("GET", cf.idps() + "/" + idp["id"]).json()["result"]["scim_config"]


def test_refresh_gives_a_new_secret_once_and_the_old_one_stops_working(cf):
    idp, base, secret = scim_idp(cf)
    resp = cf.call("POST", cf.idps() + "/" + idp["id"] + "/refresh_scim_secret")
    assert resp.status_code == 200, resp.text
    fresh = resp.json()["result"]["scim_config"]["secret"]
    assert fresh and fresh != secret
    assert scim("GET", base + "/Users", secret).status_code == 401
    assert scim("GET", base + "/Users", fresh).status_code == 200
    assert "secret" not in cf.call("GET", cf.idps() + "/" + idp["id"]).json()["result"]["scim_config"]
    plain = cf.create(oidc_body(name="no-scim"))
    assert_failure(cf.call("POST", cf.idps() + "/" + plain["id"] + "/refresh_scim_secret"), 400, 12130)


def test_users_and_groups_round_trip_and_the_account_lists(cf):
    idp, base, secret = scim_idp(cf)
    resp = scim("POST", base + "/Users", secret, json=user_body("alice", external="uid-a"))
    assert resp.status_code == 201, resp.text
    alice = resp.json()
    assert scim("POST", base + "/Users", secret, json=user_body("alice")).status_code == 409
    found = scim("GET", base + "/Users", secret, params={"filter": 'userName eq "alice"'}).json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == alice["id"]
    bob = scim("POST", base + "/Users", secret, json=user_body("bob", external="uid-b")).json()
    group = scim("POST", base + "/Groups", secret, json={"displayName": "eng", "externalId": "g-1",
                                                         "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]}).json()
    op = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
          "Operations": [{"op": "add", "path": "members", "value": [{"value": alice["id"]}, {"value": bob["id"]}]}]}
    assert scim("PATCH", base + "/Groups/" + group["id"], secret, json=op).status_code == 200
    op["Operations"][0].update(op="remove", value=[{"value": bob["id"]}])
    assert scim("PATCH", base + "/Groups/" + group["id"], secret, json=op).json()["members"] == [{"value": alice["id"]}]
    put = scim("PUT", base + "/Users/" + alice["id"], secret, json=dict(user_body("alice", False, "uid-a"), id=alice["id"]))
    assert put.status_code == 200 and put.json()["active"] is False
    assert scim("DELETE", base + "/Users/" + bob["id"], secret).status_code == 204
    assert scim("PUT", base + "/Users/" + bob["id"], secret, json=user_body("bob")).status_code == 404

    users = cf.call("GET", cf.idps() + "/" + idp["id"] + "/scim/users").json()
    assert [(u["externalId"], u["active"], u["displayName"]) for u in users["result"]] == [("uid-a", False, "Alice")]
    assert users["result_info"]["total_count"] == 1
    assert cf.call("GET", cf.idps() + "/" + idp["id"] + "/scim/users", params={"idp_resource_id": "nope"}).json()["result"] == []
    groups = cf.call("GET", cf.idps() + "/" + idp["id"] + "/scim/groups").json()["result"]
    assert [(g["displayName"], g["externalId"]) for g in groups] == [("eng", "g-1")] and "members" not in groups[0]
    state = cf.control("GET", "state")["scim"][idp["id"]]
    assert state["groups"][group["id"]]["members"] == [{"value": alice["id"]}]
    assert [e["path"] for e in cf.control("GET", "requests") if "/populations/" in e["path"]][0].endswith("/Users")
