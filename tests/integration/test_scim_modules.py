"""authentik_provider_scim, authentik_provider_scim_info, backchannel_providers and the SCIM options of
cloudflare_access_identity_provider, each through real ansible-playbook runs against the test servers."""

from __future__ import annotations

import hashlib

from authentik_support import APPLICATION, assert_no_secret, counts, create_application, task, writes

NS = "idpbridge.authentik_cloudflare."
SCIM = NS + "authentik_provider_scim"
SCIM_INFO = NS + "authentik_provider_scim_info"
IDP = NS + "cloudflare_access_identity_provider"
URL = "http://127.0.0.1:9/scim/v2"  # nothing listens: pushes fail, which the info module reports
TOKEN = "scim-token-Zq8Lr3Vw0Kd6Hs2Tb9Xy5Nm1"


def scim_state(api, name="scim"):
    found = [p for p in api.authentik.state()["scim_providers"] if p["name"] == name]
    return found[0] if found else None


def test_provider_check_create_rerun_update_delete(api, play):
    args = {"name": "scim", "scim_url": URL, "scim_token": TOKEN, "group_filters": ["engineering"]}
    checked = play(tasks=[task("create", SCIM, args)], check=True, diff=True)
    assert checked.rc == 0, checked.output
    assert checked.task("create")["changed"] is True and writes(api) == []

    api.authentik.clear_log()
    result = play(tasks=[task("create", SCIM, args), task("again", SCIM, args)], diff=True, verbosity=4)
    assert result.rc == 0, result.output
    created, again = result.task("create"), result.task("again")
    assert created["changed"] is True and again["changed"] is False
    assert created["diff"] == checked.task("create")["diff"]
    sent = writes(api)
    assert [(m, p) for m, p, _b in sent] == [("POST", "/api/v3/providers/scim/")]
    body = sent[0][2]
    assert body["token"] == TOKEN and body["url"] == URL
    # authentik's default mappings, by their managed ids, and the group filter as a list (2026.8)
    mappings = api.authentik.call("GET", "/propertymappings/provider/scim/").json()["results"]
    by_managed = dict((m["managed"], m["pk"]) for m in mappings)
    assert body["property_mappings"] == [by_managed["goauthentik.io/providers/scim/user"]]
    assert body["property_mappings_group"] == [by_managed["goauthentik.io/providers/scim/group"]]
    assert len(body["group_filters"]) == 1
    assert created["end_state"].get("token") in (None, "********")
    assert_no_secret(result, TOKEN)
    per_run = counts([e for e in api.authentik.requests() if e["method"] == "GET"])
    assert per_run["GET"] <= 10, per_run

    api.authentik.clear_log()
    updated = play(tasks=[task("update", SCIM, {"name": "scim", "dry_run": True})])
    assert updated.rc == 0 and updated.task("update")["changes"] == ["dry_run"]
    assert [(m, b) for m, _p, b in writes(api)] == [("PATCH", {"dry_run": True})]

    # authentik 2026.8 never returns the token: update_token always sends it (and says so)
    api.authentik.clear_log()
    forced = play(tasks=[task("token", SCIM, {"name": "scim", "scim_token": TOKEN + "2", "update_token": "always"})])
    assert forced.rc == 0 and forced.task("token")["changed"] is True
    assert [b for _m, _p, b in writes(api)] == [{"token": TOKEN + "2"}]
    assert scim_state(api)["token"] == TOKEN + "2"

    api.authentik.clear_log()
    gone = play(tasks=[task("delete", SCIM, {"name": "scim", "state": "absent"}),
                       task("again", SCIM, {"name": "scim", "state": "absent"})])
    assert gone.rc == 0 and gone.task("delete")["changed"] is True and gone.task("again")["changed"] is False
    assert scim_state(api) is None


def test_provider_per_release(api, play):
    api.authentik.config(version="2025.8.4")
    missing = play(tasks=[task("create", SCIM, {"name": "old", "scim_url": URL})])
    assert missing.rc != 0 and "needs scim_token" in missing.output
    two = play(tasks=[task("create", SCIM, {"name": "old", "scim_url": URL, "scim_token": TOKEN,
                                            "group_filters": ["engineering", "contractors"]})])
    assert two.rc != 0 and "needs authentik 2026.2" in two.output
    api.authentik.clear_log()
    one = play(tasks=[task("create", SCIM, {"name": "old", "scim_url": URL, "scim_token": TOKEN,
                                            "group_filters": ["engineering"]}),
                      task("again", SCIM, {"name": "old", "scim_token": TOKEN, "group_filters": ["engineering"]})])
    assert one.rc == 0, one.output
    assert one.task("again")["changed"] is False  # the token is returned here, so it is compared
    body = writes(api)[0][2]
    assert "filter_group" in body and "group_filters" not in body
    api.authentik.config(version="2024.12.3")
    old = play(tasks=[task("dry", SCIM, {"name": "old", "dry_run": True})])
    assert old.rc != 0 and "needs authentik 2025.4" in old.output


def test_backchannel_sync_and_info_judged_from_the_tasks(api, play):
    assert play(tasks=[task("create", SCIM, {"name": "scim", "scim_url": URL, "scim_token": TOKEN})]).rc == 0
    create_application(api, "scim-app")
    attach = {"slug": "scim-app", "backchannel_providers": ["scim"]}
    checked = play(tasks=[task("attach", APPLICATION, attach)], check=True)
    assert checked.rc == 0 and checked.task("attach")["changed"] is True
    result = play(tasks=[task("attach", APPLICATION, attach), task("again", APPLICATION, attach),
                         task("sync", SCIM, {"name": "scim", "start_sync": True}, register="started"),
                         task("wait", SCIM_INFO, {"name": "scim", "wait": True, "wait_timeout": 30,
                                                  "since": "{{ started.sync_since }}"})])
    assert result.rc == 0, result.output
    assert result.task("attach")["changed"] is True and result.task("again")["changed"] is False
    assert scim_state(api)["assigned_backchannel_application_slug"] == "scim-app"
    assert result.task("sync")["sync_started"] == "schedule"
    waited = result.task("wait")
    # nothing listens at the SCIM URL: the status still says done, the tasks tell the truth
    assert waited["finished"] is True and waited["status"]["last_sync_status"] == "done"
    assert waited["errors"] and "due to transient error" in waited["errors"][0]
    assert waited["providers"][0]["assigned_backchannel_application_slug"] == "scim-app"
    missing = play(tasks=[task("attach", APPLICATION, {"slug": "scim-app", "backchannel_providers": ["nope"]})])
    assert missing.rc != 0 and "No authentik SCIM provider is named 'nope'" in missing.output


def test_login_method_scim_options_secret_and_rotation(api, play):
    base = {"name": "authentik", "client_id": "cid", "client_secret": "client-secret-value-0123456789",
            "auth_url": "https://auth.example.com/application/o/authorize/",
            "token_url": "https://auth.example.com/application/o/token/",
            "certs_url": "https://auth.example.com/application/o/cf/jwks/"}
    assert play(tasks=[task("create", IDP, base)]).rc == 0
    scim_on = dict(name="authentik", client_secret=base["client_secret"], scim_enabled=True,
                   scim_user_deprovision=True, scim_identity_update_behavior="automatic")
    bad = play(tasks=[task("seat", IDP, dict(scim_on, scim_seat_deprovision=True, scim_user_deprovision=False))])
    assert bad.rc != 0 and "scim_seat_deprovision needs scim_user_deprovision" in bad.output
    api.cloudflare.clear_log()
    checked = play(tasks=[task("on", IDP, scim_on, no_log=True)], check=True)
    assert checked.rc == 0 and checked.task("on")["changed"] is True and api.cloudflare.writes() == []
    on = play(tasks=[task("on", IDP, scim_on, no_log=True, register="idp"),
                     task("again", IDP, scim_on, no_log=True, register="again"),
                     task("keep", "ansible.builtin.set_fact", {"kept": "{{ idp.scim_secret }}",
                                                               "url": "{{ idp.scim_base_url }}",
                                                               "rerun_has_secret": "{{ again.scim_secret is defined }}"},
                          no_log=True),
                     task("show", "ansible.builtin.set_fact", {"kept_sha1": "{{ kept | hash('sha1') }}",
                                                               "shown_url": "{{ url }}", "rerun": "{{ rerun_has_secret }}"})],
              verbosity=4)
    assert on.rc == 0, on.output
    stored = [i for i in api.cloudflare.state()["identity_providers"].values() for i in i if i["name"] == "authentik"][0]
    secret = stored["scim_secret"]
    assert secret and secret not in on.output
    facts = on.task("show")["ansible_facts"]
    assert facts["kept_sha1"] == hashlib.sha1(secret.encode()).hexdigest() and facts["rerun"] is False
    assert facts["shown_url"].endswith("/populations/%s/scim/v2" % stored["id"])
    assert on.task("again")["changed"] is False
    assert stored["scim_config"]["identity_update_behavior"] == "automatic"

    api.cloudflare.clear_log()
    rotated = play(tasks=[task("rotate", IDP, dict(name="authentik", client_secret=base["client_secret"],
                                                   scim_rotate_secret=True), no_log=True, register="r"),
                          task("keep", "ansible.builtin.set_fact", {"new_sha1": "{{ r.scim_secret | hash('sha1') }}"})],
                   verbosity=4)
    assert rotated.rc == 0, rotated.output
    fresh = [i for i in api.cloudflare.state()["identity_providers"].values() for i in i if i["name"] == "authentik"][0]
    new_sha1 = rotated.task("keep")["ansible_facts"]["new_sha1"]
    assert fresh["scim_secret"] != secret and new_sha1 == hashlib.sha1(fresh["scim_secret"].encode()).hexdigest()
    assert fresh["scim_secret"] not in rotated.output and secret not in rotated.output
    assert [e["path"].rsplit("/", 1)[-1] for e in api.cloudflare.writes()] == ["refresh_scim_secret"]
