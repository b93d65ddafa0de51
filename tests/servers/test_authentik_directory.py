"""The authentik test server's directory as an offboarding check reads and changes it: users page by page
with the fields the 2026.x client reads, deactivation, group membership changes and bulk-planted users."""

from __future__ import annotations

import importlib.util

import pytest
import requests

from tests.servers._control import Server
from tests.servers.authentik.contract import import_model
from tests.servers.authentik.app import AuthentikApp
from tests.servers.test_authentik_oidc import TOKEN, Setup, code_of


@pytest.fixture(scope="module")
def server():
    running = Server(AuthentikApp(token=TOKEN, page_size=100)).start()
    yield running
    running.stop()


@pytest.fixture
def ak(server):
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + TOKEN
    session.post(server.url + "/_test/reset", timeout=5).raise_for_status()
    base = server.url + "/api/v3/"

    def call(method, path, **kwargs):
        return session.request(method, (server.url + "/" + path) if path.startswith("_test") else base + path,
                               timeout=10, **kwargs)
    call.app = server.app
    return call


def user_model():
    # through the contract checker's lock: its background preload puts light stand-in packages in
    # place for a moment, and an import racing it would find them gone half-way
    if importlib.util.find_spec("authentik_client") is None:
        pytest.skip("authentik-client is not installed")
    return import_model("PaginatedUserList", "paginated_user_list")


def test_users_page_by_page_with_the_client_fields(ak):
    planted = ak("POST", "_test/users", json={"users": [
        {"username": "u%03d" % i, "email": "u%03d@example.org" % i, "groups": ["sre"] if i % 2 else ["support"]}
        for i in range(250)]})
    assert planted.status_code == 200 and len(planted.json()["users"]) == 250
    seen, page = [], 1
    while page:
        body = ak("GET", "core/users/", params={"page": page, "page_size": 100}).json()
        user_model().from_dict(body)  # the 2026.8 client's model reads every page
        seen += body["results"]
        page = body["pagination"]["next"]
    assert len(seen) == 255 and len({u["pk"] for u in seen}) == 255  # 3 seeded + 2 sign-in users + 250
    one = next(u for u in seen if u["username"] == "u001")
    assert one["is_active"] is True and one["email"] == "u001@example.org"
    assert [g["name"] for g in one["groups_obj"]] == ["sre"] and one["groups"] == [g["pk"] for g in one["groups_obj"]]
    slim = ak("GET", "core/users/", params={"include_groups": "false", "include_roles": "false", "username": "u001"}).json()
    user_model().from_dict(slim)
    assert slim["results"][0]["groups_obj"] is None and slim["results"][0]["roles_obj"] is None
    assert slim["results"][0]["groups"] == one["groups"]
    sre = ak("GET", "core/users/", params={"groups_by_name": "sre", "page_size": 500}).json()
    assert sre["pagination"]["count"] == 125
    assert ak("GET", "core/users/", params={"groups_by_name": "nope"}).status_code == 400
    inactive = ak("GET", "core/users/", params={"is_active": "false"}).json()
    assert inactive["pagination"]["count"] == 0


def test_deactivate_and_change_memberships(ak):
    app = ak.app
    pk = app.user_pk("alice")
    resp = ak("PATCH", "core/users/%d/" % pk, json={"is_active": False})
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    assert ak("GET", "core/users/", params={"is_active": "false"}).json()["results"][0]["username"] == "alice"
    eng = app.group_pk("engineering")
    assert ak("POST", "core/groups/%s/remove_user/" % eng, json={"pk": pk}).status_code == 204
    assert ak("GET", "core/users/%d/" % pk).json()["groups"] == []
    assert ak("POST", "core/groups/%s/add_user/" % eng, json={"pk": pk}).status_code == 204
    assert ak("GET", "core/users/%d/" % pk).json()["groups"] == [eng]
    contractors = app.group_pk("contractors")
    resp = ak("PATCH", "core/users/%d/" % pk, json={"groups": [contractors]})
    assert resp.status_code == 200 and [g["name"] for g in resp.json()["groups_obj"]] == ["contractors"]
    bad = ak("PATCH", "core/users/%d/" % pk, json={"groups": ["00000000-0000-0000-0000-000000000000"]})
    assert bad.status_code == 400 and "does not exist" in bad.text
    assert ak("POST", "core/groups/%s/remove_user/" % eng, json={"pk": 999}).status_code == 400


def test_planted_users_can_be_inactive_and_duplicates_are_refused(ak):
    resp = ak("POST", "_test/users", json={"users": [{"username": "gone", "is_active": False, "groups": ["sre"]}]})
    assert resp.status_code == 200
    body = ak("GET", "core/users/", params={"username": "gone"}).json()["results"][0]
    assert body["is_active"] is False and [g["name"] for g in body["groups_obj"]] == ["sre"]
    assert ak("POST", "_test/users", json={"users": [{"username": "gone"}]}).status_code == 400
    assert ak("POST", "_test/users", json={"users": "x"}).status_code == 400


def test_deactivation_signs_the_user_out(server):
    ak = Setup(server)
    code = code_of(ak.log_in())
    token = ak.token(code).json()["access_token"]
    userinfo = server.url + "/application/o/userinfo/"
    assert requests.get(userinfo, headers={"Authorization": "Bearer " + token}, timeout=5).status_code == 200
    pk = ak.app.user_pk(ak.app.test_username)
    assert ak.admin.patch(ak.url + "/api/v3/core/users/%d/" % pk, json={"is_active": False}, timeout=5).status_code == 200
    assert requests.get(userinfo, headers={"Authorization": "Bearer " + token}, timeout=5).status_code == 401
    again = ak.authorize()  # the browser session is gone: back to the login flow
    assert again.status_code == 302 and "/if/flow/default-authentication-flow/" in again.headers["Location"]
