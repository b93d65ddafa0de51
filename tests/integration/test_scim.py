"""SCIM provisioning, end to end through real ansible-playbook runs: the role (cloudflare_access_scim) and
the SCIM modules against both test servers, the authentik one really pushing to the Cloudflare one."""

from __future__ import annotations

import time

import pytest
import requests

# part of the suite tests/run runs on every ansible-core (docs/development.md, "Test matrix")
pytestmark = pytest.mark.representative

ROLE = "idpbridge.authentik_cloudflare.cloudflare_access"
NAME = "CF SCIM"
LOGIN_METHOD = "authentik (CF SCIM)"
SCIM_PROVIDER = "CF SCIM SCIM"
BINDINGS = [{"group": "engineering"}]


def role(**extra):
    role_vars = {"cloudflare_access_name": NAME, "cloudflare_access_bindings": BINDINGS, "cloudflare_access_scim": True}
    role_vars.update(extra)
    return {"name": "Run the role", "ansible.builtin.include_role": {"name": ROLE}, "vars": role_vars}


def login_method(api):
    for scope, items in api.cloudflare.state()["identity_providers"].items():
        if api.info["account_id"] in scope:
            for item in items:
                if item["name"] == LOGIN_METHOD:
                    return item
    return None


def cf_scim(api):
    """The SCIM users and groups Cloudflare holds for the login method (test-server state, members included)."""
    idp = login_method(api)
    return api.cloudflare.state()["scim"].get(idp["id"], {"users": {}, "groups": {}}) if idp else {"users": {}, "groups": {}}


def scim_provider(api):
    found = [p for p in api.authentik.state()["scim_providers"] if p["name"] == SCIM_PROVIDER]
    return found[0] if found else None


def engineering_usernames(api):
    group = api.authentik.call("GET", "/core/groups/", params={"name": "engineering"}).json()["results"][0]
    return sorted(u["username"] for u in group["users_obj"]), group["pk"]


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_role_scim_first_sync_rerun_changes_deprovisioning_and_teardown(api, play):
    first = play([role()], verbosity=4, diff=True)
    assert first.rc == 0, first.output[-3000:]
    idp = login_method(api)
    assert idp["scim_config"]["enabled"] is True and idp["scim_config"]["user_deprovision"] is True
    secret = idp["scim_secret"]
    provider = scim_provider(api)
    assert provider["token"] == secret
    assert provider["url"] == "%s/populations/%s/scim/v2" % (api.info["cloudflare_url"].split("/client/v4")[0], idp["id"])
    assert provider["assigned_backchannel_application_slug"] == "cf-scim"
    assert secret not in first.output, "the SCIM secret leaked at -vvvv"
    # the first sync finished before the role went on: Cloudflare lists the bound group's members, and only them
    wanted, group_pk = engineering_usernames(api)
    pushed = sorted(u["userName"] for u in cf_scim(api)["users"].values())
    assert pushed == wanted and "akadmin" not in pushed
    check = [c for c in first.task("Test the login method")["checks"] if c["name"] == "scim"][0]
    assert check["status"] == "passed", check
    assert first.task("Wait for the SCIM sync to finish")["finished"] is True

    # a rerun writes nothing and rotates nothing
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    second = play([role()])
    assert second.rc == 0, second.output[-3000:]
    assert second.changed == 0, [r["task"] for r in second.results if r["result"].get("changed")]
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []
    assert login_method(api)["scim_secret"] == secret

    # the scim check of the login-method test names a user Cloudflare lost
    lost = [u for u in cf_scim(api)["users"].values() if u["userName"] == "alice"][0]
    assert requests.delete(provider["url"] + "/Users/" + lost["id"], headers={"Authorization": "Bearer " + secret},
                           timeout=10).status_code == 204
    broken = play([role()])
    assert broken.rc != 0
    check = [c for c in broken.task("Test the login method")["checks"] if c["name"] == "scim"][0]
    assert check["status"] == "failed" and "missing in Cloudflare: alice" in check["reason"], check

    # a user deactivated in authentik shows inactive in Cloudflare after the next sync
    alice = api.authentik.call("GET", "/core/users/", params={"username": "alice"}).json()["results"][0]
    assert api.authentik.call("PATCH", "/core/users/%d/" % alice["pk"], json={"is_active": False}).status_code == 200
    sync = play([{"name": "Sync", "idpbridge.authentik_cloudflare.authentik_provider_scim": {
        "name": SCIM_PROVIDER, "start_sync": True}, "register": "started"},
        {"name": "Wait", "idpbridge.authentik_cloudflare.authentik_provider_scim_info": {
            "name": SCIM_PROVIDER, "wait": True, "since": "{{ started.sync_since }}", "wait_timeout": 30}}])
    assert sync.rc == 0, sync.output[-3000:]
    assert sync.task("Wait")["finished"] is True and sync.task("Wait")["errors"] == []
    by_name = dict((u["userName"], u) for u in cf_scim(api)["users"].values())
    assert by_name["alice"]["active"] is False
    listed = api.cloudflare.call("GET", "/accounts/%s/access/identity_providers/%s/scim/users"
                                 % (api.info["account_id"], idp["id"]), params={"idp_resource_id": alice["uid"]})
    assert [u["active"] for u in listed.json()["result"]] == [False]

    # a member removed from a group leaves it (a direct push), and leaves Cloudflare at the next full sync
    alice_id = by_name["alice"]["id"]

    def members():
        group = [g for g in cf_scim(api)["groups"].values() if g["displayName"] == "engineering"][0]
        return [m["value"] for m in group["members"]]
    assert alice_id in members()
    assert api.authentik.call("POST", "/core/groups/%s/remove_user/" % group_pk, json={"pk": alice["pk"]}).status_code == 204
    assert wait_for(lambda: alice_id not in members()), members()
    again = play([{"name": "Sync", "idpbridge.authentik_cloudflare.authentik_provider_scim": {
        "name": SCIM_PROVIDER, "start_sync": True}, "register": "started"},
        {"name": "Wait", "idpbridge.authentik_cloudflare.authentik_provider_scim_info": {
            "name": SCIM_PROVIDER, "wait": True, "since": "{{ started.sync_since }}", "wait_timeout": 30}}])
    assert again.rc == 0, again.output[-3000:]
    assert "alice" not in [u["userName"] for u in cf_scim(api)["users"].values()]

    # disable: the SCIM provider goes, SCIM is switched off
    off = play([role(cloudflare_access_scim=False)])
    assert off.rc == 0, off.output[-3000:]
    assert scim_provider(api) is None and login_method(api)["scim_config"]["enabled"] is False

    # teardown with SCIM on: the SCIM provider is removed first, then the rest. (Switched on again, Cloudflare
    # shows no secret: only the first enabling does, so the role is asked for a new one.)
    assert play([role(cloudflare_access_scim_rotate_secret=True)]).rc == 0
    api.authentik.clear_log()
    gone = play([role(cloudflare_access_state="absent")])
    assert gone.rc == 0, gone.output[-3000:]
    assert scim_provider(api) is None and login_method(api) is None
    deletes = [e["path"] for e in api.authentik.requests() if e["method"] == "DELETE"]
    assert deletes[0].startswith("/api/v3/providers/scim/"), deletes
    assert all(a["slug"] != "cf-scim" for a in api.authentik.state()["applications"])


def test_role_check_mode_with_scim_sends_no_write(api, play):
    checked = play([role()], check=True)
    assert checked.rc == 0, checked.output[-3000:]
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []
    real = play([role()])
    assert real.rc == 0, real.output[-3000:]
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    again = play([role()], check=True)
    assert again.rc == 0 and again.changed == 0, [r["task"] for r in again.results if r["result"].get("changed")]
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []


def test_role_refuses_scim_without_bindings_and_says_why(api, play):
    refused = play([role(cloudflare_access_bindings=[])])
    assert refused.rc != 0
    assert "EVERY user" in refused.output and "cloudflare_access_scim_allow_all_users" in refused.output
    assert scim_provider(api) is None
    assert login_method(api)["scim_config"]["enabled"] is False


def test_lost_scim_secret_is_recovered_with_one_variable(api, play):
    assert play([role()]).rc == 0
    old = login_method(api)["scim_secret"]
    # the authentik side lost it: the provider is gone, and Cloudflare will not show the secret again
    assert api.authentik.call("DELETE", "/providers/scim/%d/" % scim_provider(api)["pk"]).status_code == 204
    stuck = play([role()])
    assert stuck.rc != 0 and "cloudflare_access_scim_rotate_secret" in stuck.output
    rotated = play([role(cloudflare_access_scim_rotate_secret=True)], verbosity=4)
    assert rotated.rc == 0, rotated.output[-3000:]
    new = login_method(api)["scim_secret"]
    assert new != old and scim_provider(api)["token"] == new
    assert new not in rotated.output and old not in rotated.output
    assert cf_scim(api)["users"], "the first sync with the new secret pushed nobody"


def test_module_refuses_to_hand_out_the_scim_secret_without_no_log(api, play):
    assert play([role(cloudflare_access_scim=None)]).rc == 0
    api.cloudflare.clear_log()
    bare = play([{"name": "SCIM on", "idpbridge.authentik_cloudflare.cloudflare_access_identity_provider": {
        "name": LOGIN_METHOD, "client_secret": "unused-secret-value", "scim_enabled": True}}])
    assert bare.rc != 0 and "no_log: true" in bare.output
    assert login_method(api)["scim_config"]["enabled"] is False
    assert api.cloudflare.writes() == []
