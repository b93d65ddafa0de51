"""The authentik test server's SCIM provider pushing to the Cloudflare test server's SCIM service, over
real HTTP on 127.0.0.1 (the facts of the captured authentik 2026.2.2 samples, 30-scim-*)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.servers._control import Server
from tests.servers.authentik.app import AuthentikApp
from tests.servers.authentik.scim import GROUP_MAPPING, USER_MAPPING
from tests.servers.cloudflare.app import CloudflareApp

AK_TOKEN = "ak-scim-test-token"
CF_TOKEN = "cf-scim-test-token-0123456789abcdef"
ACCOUNT = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.fixture(scope="module")
def servers():
    ak = Server(AuthentikApp(AK_TOKEN, version="2026.2.2")).start()
    cf = Server(CloudflareApp(CF_TOKEN, account_id=ACCOUNT)).start()
    yield ak, cf
    ak.stop()
    cf.stop()


class Env:
    def __init__(self, ak: Server, cf: Server):
        self.ak, self.cf = ak, cf
        self.ak_session = requests.Session()
        self.ak_session.headers["Authorization"] = "Bearer " + AK_TOKEN
        self.cf_session = requests.Session()
        self.cf_session.headers["Authorization"] = "Bearer " + CF_TOKEN
        for srv, session in ((ak, self.ak_session), (cf, self.cf_session)):
            assert session.post(srv.url + "/_test/reset", timeout=5).status_code == 204

    def api(self, method, path, body=None, **kwargs):
        return self.ak_session.request(method, self.ak.url + "/api/v3" + path, json=body, timeout=10, **kwargs)

    def cf_api(self, method, path, body=None):
        return self.cf_session.request(method, self.cf.url + "/client/v4/accounts/%s%s" % (ACCOUNT, path), json=body,
                                       timeout=10)

    def login_method(self):
        body = {"name": "authentik", "type": "oidc", "scim_config": {"enabled": True, "user_deprovision": True},
                "config": {"client_id": "c", "client_secret": "s", "auth_url": "http://a.example/auth",
                           "token_url": "http://a.example/token", "certs_url": "http://a.example/jwks"}}
        resp = self.cf_api("POST", "/access/identity_providers", body)
        assert resp.status_code == 201, resp.text
        return resp.json()["result"]

    def mappings(self):
        found = self.api("GET", "/propertymappings/provider/scim/", params={"managed": [USER_MAPPING, GROUP_MAPPING]})
        return dict((m["managed"], m["pk"]) for m in found.json()["results"])

    def cf_users(self, idp_id):
        return self.cf_api("GET", "/access/identity_providers/%s/scim/users" % idp_id).json()["result"]

    def wait_idle(self, provider_pk, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tasks = self.ak_session.get(self.ak.url + "/_test/state", timeout=5).json()
            status = self.api("GET", "/providers/scim/%d/sync/status/" % provider_pk).json()
            direct = [t for t in self.api("GET", "/tasks/tasks/", params={"rel_obj_id": str(provider_pk)}).json()["results"]
                      if t["state"] in ("queued", "consumed")]
            if not status["is_running"] and not direct and tasks is not None:
                return status
            time.sleep(0.1)
        raise AssertionError("sync still running")


@pytest.fixture()
def env(servers):
    return Env(*servers)


def setup_provider(env, bind_group=None, **extra):
    idp = env.login_method()
    maps = env.mappings()
    body = {"name": "cf-scim", "url": idp["scim_config"]["scim_base_url"], "token": idp["scim_config"]["secret"],
            "property_mappings": [maps[USER_MAPPING]], "property_mappings_group": [maps[GROUP_MAPPING]]}
    body.update(extra)
    resp = env.api("POST", "/providers/scim/", body)
    assert resp.status_code == 201, resp.text
    assert resp.headers["Location"] == body["url"]
    provider = resp.json()
    app = env.api("POST", "/core/applications/", {"name": "cf", "slug": "cf", "backchannel_providers": [provider["pk"]]})
    assert app.status_code == 201, app.text
    assert app.json()["backchannel_providers_obj"][0]["assigned_backchannel_application_slug"] == "cf"
    if bind_group:
        group = env.api("GET", "/core/groups/", params={"name": bind_group}).json()["results"][0]
        assert env.api("POST", "/policies/bindings/", {"target": app.json()["pk"], "group": group["pk"],
                                                       "order": 0}).status_code == 201
    return idp, provider


def send_schedule(env, provider_pk):
    schedules = env.api("GET", "/tasks/schedules/", params={"rel_obj_id": str(provider_pk)}).json()["results"]
    assert len(schedules) == 1 and schedules[0]["actor_name"] == "authentik.providers.scim.tasks.scim_sync"
    resp = env.api("POST", "/tasks/schedules/%s/send/" % schedules[0]["id"])
    assert resp.status_code == 200 and resp.json() == {}
    return schedules[0]


def test_create_needs_name_and_url_and_maps_are_not_filled_in(env):
    resp = env.api("POST", "/providers/scim/", {})
    assert resp.status_code == 400 and resp.json() == {"name": ["This field is required."], "url": ["This field is required."]}
    created = env.api("POST", "/providers/scim/", {"name": "bare", "url": "http://127.0.0.1:9/scim"}).json()
    assert created["property_mappings"] == [] and created["dry_run"] is False and created["token"] == ""


def test_without_binding_every_user_is_pushed_and_groups_are_not_limited(env):
    idp, provider = setup_provider(env)
    env.wait_idle(provider["pk"])
    names = sorted(u["displayName"] for u in env.cf_users(idp["id"]))
    assert "authentik Default Admin" in names and len(names) == len(env.ak.app.users)
    groups = env.cf_api("GET", "/access/identity_providers/%s/scim/groups" % idp["id"]).json()["result"]
    assert sorted(g["displayName"] for g in groups) == sorted(g["name"] for g in env.ak.app.groups.values())
    seen = env.cf_session.get(env.cf.url + "/_test/requests", timeout=5).json()
    pushed = [(e["method"], e["path"].split("/scim/v2")[1]) for e in seen if "/populations/" in e["path"]]
    assert pushed[0] == ("GET", "/ServiceProviderConfig")
    assert [m for m, p in pushed if p == "/Users"] == ["POST"] * len(names)


def test_binding_limits_users_rerun_sends_no_user_writes_and_changes_flow(env):
    idp, provider = setup_provider(env, bind_group="engineering")
    env.wait_idle(provider["pk"])
    users = dict((u["displayName"], u) for u in env.cf_users(idp["id"]))
    assert "Alice Example" in users and "authentik Default Admin" not in users and "Bob Example" not in users
    status = env.api("GET", "/providers/scim/%d/sync/status/" % provider["pk"]).json()
    assert status["last_sync_status"] == "done" and status["last_successful_sync"]

    env.cf_session.delete(env.cf.url + "/_test/requests", timeout=5)
    send_schedule(env, provider["pk"])
    env.wait_idle(provider["pk"])
    seen = env.cf_session.get(env.cf.url + "/_test/requests", timeout=5).json()
    assert not [e for e in seen if "/Users" in e["path"]]  # nothing changed: no user request at all
    assert all(e["method"] == "GET" for e in seen if "/Groups" in e["path"])

    alice = env.ak.app.user_pk("alice")
    assert env.api("PATCH", "/core/users/%d/" % alice, {"is_active": False}).status_code == 200
    env.wait_idle(provider["pk"])
    assert dict((u["displayName"], u["active"]) for u in env.cf_users(idp["id"]))["Alice Example"] is False

    engineering = env.ak.app.group_pk("engineering")
    alice_scim = next(link["scim_id"] for key, link in env.ak.app.scim_links.items() if key[1:] == ("user", alice))
    state = env.cf_session.get(env.cf.url + "/_test/state", timeout=5).json()["scim"][idp["id"]]["groups"]
    assert {"value": alice_scim} in next(g for g in state.values() if g["displayName"] == "engineering")["members"]
    assert env.api("POST", "/core/groups/%s/remove_user/" % engineering, {"pk": alice}).status_code == 204
    env.wait_idle(provider["pk"])
    state = env.cf_session.get(env.cf.url + "/_test/state", timeout=5).json()["scim"][idp["id"]]["groups"]
    assert {"value": alice_scim} not in next(g for g in state.values() if g["displayName"] == "engineering")["members"]


def test_wrong_token_shows_only_in_the_tasks(env):
    idp, provider = setup_provider(env, token="not-the-secret")
    env.wait_idle(provider["pk"])
    assert env.cf_users(idp["id"]) == []
    status = env.api("GET", "/providers/scim/%d/sync/status/" % provider["pk"]).json()
    assert status["last_sync_status"] == "done"  # as the real server: the status hides the failures
    schedule = env.api("GET", "/tasks/schedules/", params={"rel_obj_id": str(provider["pk"])}).json()["results"][0]
    tasks = env.api("GET", "/tasks/tasks/", params={"rel_obj_id": schedule["id"]}).json()["results"]
    warnings = [entry["event"] for t in tasks for entry in t["logs"] if entry["log_level"] == "warning"]
    assert warnings and "due to transient error" in warnings[0] and "401" in warnings[0]


def test_dry_run_sends_gets_only_and_application_delete_cascades(env):
    idp, provider = setup_provider(env, dry_run=True)
    env.wait_idle(provider["pk"])
    assert env.cf_users(idp["id"]) == []
    assert env.api("DELETE", "/core/applications/cf/").status_code == 204
    assert env.api("GET", "/providers/scim/%d/" % provider["pk"]).status_code == 404
    assert env.api("GET", "/tasks/schedules/", params={"rel_obj_id": str(provider["pk"])}).json()["results"] == []


def test_token_is_write_only_from_2026_2_7(env):
    env.ak_session.post(env.ak.url + "/_test/config", json={"version": "2026.8.5"}, timeout=5)
    try:
        created = env.api("POST", "/providers/scim/", {"name": "wo", "url": "http://127.0.0.1:9/scim", "token": "t"}).json()
        assert "token" not in created and "group_filters" in created
        env.ak_session.post(env.ak.url + "/_test/config", json={"version": "2025.8.4"}, timeout=5)
        resp = env.api("POST", "/providers/scim/", {"name": "old", "url": "http://127.0.0.1:9/scim"})
        assert resp.status_code == 400 and "token" in resp.json()
        assert env.api("GET", "/providers/scim/%d/" % created["pk"]).json()["filter_group"] is None
    finally:
        env.ak_session.post(env.ak.url + "/_test/reset", timeout=5)
