"""cloudflare_access_policy, cloudflare_access_application and their info modules: real
ansible-playbook runs against the Cloudflare test server, asserting on what the server saw."""

from __future__ import annotations

from cf_helpers import FQCN, arrange, failure, task, writes

POLICY = FQCN + "cloudflare_access_policy"
APP = FQCN + "cloudflare_access_application"
POLICY_INFO = FQCN + "cloudflare_access_policy_info"
APP_INFO = FQCN + "cloudflare_access_application_info"


def policy_task(title, ignore_errors=False, **args):
    base = {"name": "Grafana", "login_method": "authentik", "include": {"authentik_groups": ["sre"]}}
    base.update(args)
    return task(title, base, module=POLICY, register="pol", ignore_errors=ignore_errors)


def app_task(title, ignore_errors=False, **args):
    base = {"name": "Grafana", "domain": "grafana.example.com", "allowed_login_methods": ["authentik"],
            "auto_redirect_to_identity": True, "session_duration": "8h", "policies": ["Grafana"]}
    base.update(args)
    return task(title, base, module=APP, register="app", ignore_errors=ignore_errors)


def stored_apps(api):
    return api.cloudflare.state()["access_apps"]["accounts/%s" % api.info["account_id"]]


def stored_policies(api):
    return api.cloudflare.state()["access_policies"]


def acc(api, path):
    return "/accounts/%s/access/%s" % (api.info["account_id"], path)


def test_policy_and_application_create_rerun_check_mode_diff_absent(api, play):
    idp = arrange(api, "authentik")
    api.cloudflare.clear_log()
    tasks = [policy_task("Policy"), app_task("Application")]

    predicted = play(tasks, check=True, diff=True)
    assert predicted.rc == 0, predicted.output
    assert writes(api) == []
    pol = predicted.task("Policy")
    assert pol["changed"] is True and pol["end_state"]["id"] is None
    assert pol["diff"]["after"]["include"] == [
        {"oidc": {"claim_name": "groups", "claim_value": "sre", "identity_provider_id": idp}}]
    # In check mode the policy does not exist yet: the application links it as a prediction, with a warning.
    app = predicted.task("Application")
    assert app["changed"] is True
    assert app["diff"]["after"]["policies"] == ["(not yet created: Grafana)"]
    assert any("in check mode it is assumed" in w for w in app.get("warnings", []))

    api.cloudflare.clear_log()
    created = play(tasks, diff=True)
    assert created.rc == 0, created.output
    assert [m for m, _p in writes(api)] == ["POST", "POST"]
    assert created.task("Policy")["diff"]["after"] == pol["diff"]["after"]
    [stored_pol] = stored_policies(api)
    assert stored_pol["include"] == [{"oidc": {"claim_name": "groups", "claim_value": "sre", "identity_provider_id": idp}}]
    [stored_app] = stored_apps(api)
    assert stored_app["allowed_idps"] == [idp]
    assert stored_app["auto_redirect_to_identity"] is True
    assert stored_app["session_duration"] == "8h"
    assert stored_app["policies"] == [{"id": stored_pol["id"], "precedence": 1}]
    res = created.task("Application")
    assert res["end_state"]["id"] == stored_app["id"] and res["url"] == "https://grafana.example.com"
    assert res["end_state"]["policies"][0]["name"] == "Grafana"

    # Rerun, real and in check mode: no write at all.
    api.cloudflare.clear_log()
    again = play(tasks + [dict(t, name=t["name"] + " (check)", check_mode=True) for t in tasks], diff=True)
    assert again.rc == 0, again.output
    assert again.changed == 0
    assert writes(api) == []

    # A change: a second group (rule order inside include means nothing) and a new session.
    changed = policy_task("Policy", include={"authentik_groups": ["admins", "sre"]}, session_duration="4h")
    api.cloudflare.clear_log()
    check = play([changed], check=True, diff=True)
    assert check.task("Policy")["changed"] is True and writes(api) == []
    real = play([changed], diff=True)
    assert real.task("Policy")["diff"] == check.task("Policy")["diff"]
    assert [m for m, _p in writes(api)] == ["PUT"]
    assert sorted(r["oidc"]["claim_value"] for r in stored_policies(api)[0]["include"]) == ["admins", "sre"]
    same_other_order = policy_task("Policy", include={"authentik_groups": ["sre", "admins"]}, session_duration="4h")
    api.cloudflare.clear_log()
    assert play([same_other_order]).changed == 0 and writes(api) == []

    # Removal: the application first (the policy is in use until then), then the policy.
    api.cloudflare.clear_log()
    gone = play([task("No app", {"name": "Grafana", "state": "absent"}, module=APP),
                 task("No policy", {"name": "Grafana", "state": "absent"}, module=POLICY)], diff=True)
    assert gone.rc == 0, gone.output
    assert [m for m, _p in writes(api)] == ["DELETE", "DELETE"]
    assert stored_apps(api) == [] and stored_policies(api) == []
    api.cloudflare.clear_log()
    assert play([task("No app", {"name": "Grafana", "state": "absent"}, module=APP)]).changed == 0
    assert writes(api) == []


def test_policy_order_on_the_application_is_significant(api, play):
    arrange(api, "authentik")
    tasks = [policy_task("Sre"), policy_task("Admins", name="Admins", include={"authentik_groups": ["admins"]}),
             app_task("App", policies=["Grafana", "Admins"])]
    assert play(tasks).rc == 0
    api.cloudflare.clear_log()
    swapped = play([app_task("App", policies=["Admins", "Grafana"])], diff=True)
    res = swapped.task("App")
    assert res["changed"] is True and res["changes"] == ["policies"]
    [(method, _path)] = writes(api)
    assert method == "PUT"
    links = sorted(stored_apps(api)[0]["policies"], key=lambda link: link["precedence"])
    names = {p["id"]: p["name"] for p in stored_policies(api)}
    assert [names[link["id"]] for link in links] == ["Admins", "Grafana"]


def test_duplicate_names_are_an_error_listing_both_ids(api, play):
    idp = arrange(api, "authentik")
    ids = []
    for _attempt in range(2):
        resp = api.cloudflare.call("POST", acc(api, "policies"), json={
            "name": "Twice", "decision": "allow", "include": [{"login_method": {"id": idp}}]})
        ids.append(resp.json()["result"]["id"])
    api.cloudflare.clear_log()
    result = play([task("Policy", {"name": "Twice", "include": {"everyone": True}}, module=POLICY, ignore_errors=True),
                   task("Info", {"name": "Twice"}, module=POLICY_INFO, ignore_errors=True)])
    for title in ("Policy", "Info"):
        msg = failure(result, title)["msg"]
        assert "2 reusable Access policies" in msg and ids[0] in msg and ids[1] in msg
    assert writes(api) == []

    app_ids = [api.cloudflare.call("POST", acc(api, "apps"), json={
        "name": "Twin", "domain": "twin%d.example.com" % i, "type": "self_hosted"}).json()["result"]["id"] for i in (1, 2)]
    api.cloudflare.clear_log()
    result = play([task("App", {"name": "Twin", "domain": "twin1.example.com"}, module=APP, ignore_errors=True)])
    msg = failure(result, "App")["msg"]
    assert "2 Access applications" in msg and app_ids[0] in msg and app_ids[1] in msg
    assert writes(api) == []


def test_pagination_is_followed(api, play):
    idp = arrange(api, "authentik")
    api.cloudflare.config(page_size=2)
    for index in range(5):
        api.cloudflare.call("POST", acc(api, "policies"), json={
            "name": "P%d" % index, "decision": "allow", "include": [{"login_method": {"id": idp}}]})
    api.cloudflare.clear_log()
    result = play([task("Policy", {"name": "P4", "include": {"login_methods": ["authentik"]}}, module=POLICY),
                   task("All", {}, module=POLICY_INFO, register="all")])
    assert result.rc == 0, result.output
    assert result.task("Policy")["changed"] is False
    assert len(result.task("All")["policies"]) == 5
    assert writes(api) == []
    pages = [r["query"].get("page") for r in api.cloudflare.requests() if r["path"].endswith("/access/policies")]
    assert pages.count(["3"]) == 2  # each module read the last page once


def test_api_errors_become_messages(api, play):
    arrange(api, "authentik")
    assert play([policy_task("Policy"), app_task("App")]).rc == 0
    api.cloudflare.clear_log()
    msgs = {}
    for title, one in (
        ("Same domain", app_task("Same domain", name="Other", policies=[], ignore_errors=True)),
        ("Unknown login method", app_task("Unknown login method", name="Third", domain="third.example.com",
                                          allowed_login_methods=["nope"], ignore_errors=True)),
        ("Two", app_task("Two", name="Fourth", domain="fourth.example.com",
                         allowed_login_methods=["authentik", "One-time PIN login"], ignore_errors=True)),
        ("Policy in use", task("Policy in use", {"name": "Grafana", "state": "absent"}, module=POLICY,
                               ignore_errors=True)),
    ):
        msgs[title] = failure(play([one]), title)["msg"]
    assert "already protects this domain" in msgs["Same domain"] and "409" in msgs["Same domain"]
    assert "No login method" in msgs["Unknown login method"] and "'nope'" in msgs["Unknown login method"]
    assert "exactly one" in msgs["Two"]
    assert "still used by Access applications" in msgs["Policy in use"]
    # The refusals before sending (unknown login method, redirect with two) sent nothing;
    # the two the API refused sent one write each.
    assert sorted(m for m, _p in writes(api)) == ["DELETE", "POST"]


def test_info_modules_and_zone_scope(api, play):
    arrange(api, "authentik")
    assert play([policy_task("Policy"), app_task("App")]).rc == 0
    api.cloudflare.clear_log()
    result = play([task("Apps", {}, module=APP_INFO), task("One", {"name": "Grafana"}, module=APP_INFO),
                   task("Missing", {"name": "Nope"}, module=APP_INFO)])
    assert result.rc == 0, result.output
    assert [a["name"] for a in result.task("Apps")["applications"]] == ["Grafana"]
    assert [a["domain"] for a in result.task("One")["applications"]] == ["grafana.example.com"]
    assert result.task("Missing")["applications"] == []
    one = [r for r in api.cloudflare.requests() if r["path"].endswith("/access/apps") and "name" in r["query"]]
    assert one and one[0]["query"]["exact"] == ["true"]
    zone = api.cloudflare.state()["zone_id"]
    zoned = play([task("Zone app", {"name": "Zoned", "domain": "zoned.idpbridge-test.example", "zone_id": zone},
                       module=APP, register="z"),
                  task("Zone app with policies", {"name": "Zoned", "domain": "zoned.idpbridge-test.example",
                                                  "zone_id": zone, "policies": ["Grafana"]},
                       module=APP, ignore_errors=True)])
    assert zoned.task("Zone app")["changed"] is True
    assert "zone-level application cannot link them" in failure(zoned, "Zone app with policies")["msg"]
    assert len(api.cloudflare.state()["access_apps"]["zones/%s" % zone]) == 1
