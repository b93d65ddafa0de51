"""cloudflare_access_applications: the protected applications of one login method as one set, through real
ansible-playbook runs against the test servers, counting what the Cloudflare test server saw."""

from __future__ import annotations

import hashlib

from cf_helpers import FQCN, arrange, failure, task, writes

SET = FQCN + "cloudflare_access_applications"
TAG_PREFIX = "idpbridge-"


def apps_task(title, applications, login_method="authentik", register="res", ignore_errors=False, **args):
    base = {"login_method": login_method, "applications": applications}
    base.update(args)
    return task(title, base, module=SET, register=register, ignore_errors=ignore_errors)


def entries(count, prefix="app"):
    return [{"name": "%s%02d" % (prefix, n), "domain": "%s%02d.example.com" % (prefix, n),
             "allow_groups": ["engineering"]} for n in range(count)]


def stored_apps(api):
    return api.cloudflare.state()["access_apps"]["accounts/%s" % api.info["account_id"]]


def stored_policies(api):
    return api.cloudflare.state()["access_policies"]


def acc(api, path):
    return "/accounts/%s/access/%s" % (api.info["account_id"], path)


def cf_reads(api):
    return [r for r in api.cloudflare.requests() if r["method"] == "GET"]


def test_first_run_converged_run_check_mode(api, play):
    idp = arrange(api, "authentik")
    api.cloudflare.clear_log()
    wanted = entries(5)

    first = play([apps_task("Protect", wanted)])
    assert first.rc == 0, first.output
    made = writes(api)
    # two tags for the login method (its id, its name), then exactly two writes per new application
    assert [m for m, p in made if p.endswith("/access/tags")] == ["POST", "POST"]
    assert len(made) == 2 + 2 * len(wanted)
    res = first.task("Protect")
    assert [a["action"] for a in res["applications"]] == ["created"] * 5
    apps = stored_apps(api)
    assert len(apps) == 5 and all(a["tags"] == sorted([TAG_PREFIX + idp, name_tag_of("authentik")]) for a in apps)
    assert all(a["allowed_idps"] == [idp] for a in apps)
    assert len(stored_policies(api)) == 5

    api.cloudflare.clear_log()
    again = play([apps_task("Protect", wanted)])
    assert again.rc == 0, again.output
    assert again.changed == 0
    assert writes(api) == []
    converged_reads = len(cf_reads(api))
    assert converged_reads == 3  # login methods, applications, policies: one page each

    api.cloudflare.clear_log()
    checked = play([apps_task("Protect", wanted)], check=True, diff=True)
    assert checked.rc == 0, checked.output
    assert writes(api) == []
    assert len(cf_reads(api)) == converged_reads


def tag_of(idp):
    return TAG_PREFIX + idp


def name_tag_of(name):
    return TAG_PREFIX + "n-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def by_name(items):
    return dict((i["name"], i) for i in items)


def make_policy(api, name, rules=None, require=None, **extra):
    body = {"name": name, "decision": "allow", "include": rules or [{"email": {"email": "someone@example.com"}}]}
    if require is not None:
        body["require"] = require
    body.update(extra)
    resp = api.cloudflare.call("POST", acc(api, "policies"), json=body)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()["result"]["id"]


def make_app(api, name, domain, policy_ids, idp, **extra):
    body = {"name": name, "domain": domain, "type": "self_hosted", "allowed_idps": [idp],
            "policies": [{"id": pid, "precedence": n + 1} for n, pid in enumerate(policy_ids)]}
    body.update(extra)
    resp = api.cloudflare.call("POST", acc(api, "apps"), json=body)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()["result"]["id"]


def test_results_diff_and_changes_per_application(api, play):
    idp = arrange(api, "authentik")
    wanted = [{"name": "Grafana", "domain": "grafana.example.com", "destinations": ["grafana-ui.example.com"],
               "allow_groups": ["engineering"], "session_duration": "8h"},
              {"name": "Vault", "domain": "vault.example.com", "allow_emails": ["oncall@example.com"]}]
    api.cloudflare.clear_log()
    predicted = play([apps_task("Protect", wanted)], check=True, diff=True)
    assert predicted.rc == 0, predicted.output
    assert writes(api) == []
    guess = predicted.task("Protect")
    assert [(a["name"], a["action"], a["application_id"]) for a in guess["applications"]] == [
        ("Grafana", "created", None), ("Vault", "created", None)]
    [diff_g, diff_v] = guess["diff"]
    assert diff_g["before"] == {} and diff_g["after"]["application"]["destinations"] == [
        "grafana-ui.example.com", "grafana.example.com"]
    assert diff_g["after"]["policy"]["include"] == [
        {"oidc": {"claim_name": "groups", "claim_value": "engineering", "identity_provider_id": idp}}]

    done = play([apps_task("Protect", wanted)], diff=True)
    assert done.rc == 0, done.output
    res = done.task("Protect")
    assert res["diff"] == guess["diff"]
    apps = by_name(stored_apps(api))
    grafana = res["applications"][0]
    assert grafana["application_id"] == apps["Grafana"]["id"] and grafana["aud"] == apps["Grafana"]["aud"]
    assert apps["Grafana"]["policies"] == [{"id": grafana["policy_id"], "precedence": 1}]
    assert res["requests"]["writes"] == 6 and res["changed"] is True

    # Leaving session_duration and a destination out resets them; the change is predicted, then made.
    wanted[0] = {"name": "Grafana", "domain": "grafana.example.com", "allow_groups": ["engineering"]}
    api.cloudflare.clear_log()
    predicted = play([apps_task("Protect", wanted)], check=True, diff=True)
    assert predicted.rc == 0 and writes(api) == []
    item = predicted.task("Protect")["applications"][0]
    assert item["action"] == "updated"
    assert set(item["changes"]) == {"application.session_duration", "application.destinations",
                                    "policy.session_duration"}
    changed = play([apps_task("Protect", wanted)], diff=True)
    assert changed.rc == 0, changed.output
    assert changed.task("Protect")["diff"] == predicted.task("Protect")["diff"]
    assert [m for m, _p in writes(api)] == ["PUT", "PUT"]
    grafana = by_name(stored_apps(api))["Grafana"]
    assert grafana["session_duration"] == "24h"
    assert grafana["destinations"] == [{"type": "public", "uri": "grafana.example.com"}]


def test_a_rename_that_keeps_the_domain_converges(api, play):
    arrange(api, "authentik")
    play([apps_task("Protect", entries(2))])
    renamed = entries(2)
    renamed[0]["name"] = "Dashboards"
    api.cloudflare.clear_log()
    predicted = play([apps_task("Protect", renamed)], check=True)
    assert predicted.rc == 0, predicted.output
    assert predicted.task("Protect")["applications"][0]["action"] == "updated"
    assert predicted.task("Protect")["removed"] == []
    done = play([apps_task("Protect", renamed)])
    assert done.rc == 0, done.output
    assert sorted(m for m, _p in writes(api)) == ["PUT", "PUT"]
    names = sorted(a["name"] for a in stored_apps(api))
    assert names == ["Dashboards", "app01"]
    assert sorted(p["name"] for p in stored_policies(api)) == ["Dashboards (idpbridge)", "app01 (idpbridge)"]
    api.cloudflare.clear_log()
    assert play([apps_task("Protect", renamed)]).changed == 0
    assert writes(api) == []


def test_the_removal_guard(api, play):
    arrange(api, "authentik")
    play([apps_task("Protect", entries(5))])
    api.cloudflare.clear_log()
    checked = play([apps_task("Protect", entries(1))], check=True)
    assert checked.rc == 0, checked.output
    res = checked.task("Protect")
    assert sorted(r["name"] for r in res["removed"]) == ["app01", "app02", "app03", "app04"]
    assert any("more than max_removals (3)" in w and "'app04'" in w for w in res.get("warnings", []))
    refused = play([apps_task("Protect", entries(1), ignore_errors=True)])
    assert "would remove 4 protected applications, more than max_removals (3)" in failure(refused, "Protect")["msg"]
    assert writes(api) == []
    allowed = play([apps_task("Protect", entries(1), max_removals=4)])
    assert allowed.rc == 0, allowed.output
    assert sorted(m for m, _p in writes(api)) == ["DELETE"] * 8
    assert len(stored_apps(api)) == 1 and len(stored_policies(api)) == 1


def test_careless_input_is_refused_before_any_request(api, play):
    arrange(api, "authentik")
    good = {"name": "Grafana", "domain": "grafana.example.com", "allow_groups": ["engineering"]}
    cases = [
        ([good, dict(good, domain="other.example.com")], "applications[1] (Grafana): the name is also used"),
        ([good, dict(good, name="Other")], "grafana.example.com is also protected by applications[0] (Grafana)"),
        ([dict(good, allow_groups="engineering, contractors")], "allow_groups must be a list, got the string"),
        ([dict(good, allow_emails=["alice"])], "applications[0] (Grafana): allow_emails item 'alice' is not an e-mail"),
        ([dict(good, domain="https://grafana.example.com")], "holds a scheme"),
        ([dict(good, include=[{"email": {}}])], "include[0] (email) is empty"),
        ([dict(good, name="Grafana\n")], "starts or ends with white space"),
        ([dict(good, allow_groups=["Engineering"])], "authentik has no group 'Engineering', but has 'engineering'"),
        ([dict(good, allow_groups=["enginering"])], "(the closest is 'engineering')"),
    ]
    cases.append(([good], "policy_suffix ''"))
    for number, (listed, words) in enumerate(cases):
        api.cloudflare.clear_log()
        extra = {"policy_suffix": ""} if words.startswith("policy_suffix") else {}
        run = play([apps_task("Protect", listed, ignore_errors=True, **extra)])
        res = failure(run, "Protect")
        assert words in res["msg"], (number, res["msg"])
        assert api.cloudflare.requests() == [], number
    assert stored_apps(api) == [] and stored_policies(api) == []


def test_lookalikes_and_hand_made_objects_stay_untouched(api, play):
    idp = arrange(api, "authentik")
    # a hand-made policy with the marker name, used by a hand-made application of the same login method
    wiki_pol = make_policy(api, "Wiki (idpbridge)")
    make_app(api, "Wiki", "wiki.example.com", [wiki_pol], idp)
    # an unused hand-made policy named like the entry's policy, and a hand-made application named like the entry
    make_policy(api, "Grafana (idpbridge)")
    make_app(api, "Grafana", "grafana-old.example.com", [], idp)
    before_apps = sorted(stored_apps(api), key=lambda a: a["id"])
    before_pols = sorted(stored_policies(api), key=lambda p: p["id"])

    wanted = [{"name": "Grafana", "domain": "grafana.example.com", "allow_groups": ["engineering"]},
              {"name": "Wiki", "domain": "wiki2.example.com", "allow_emails": ["a@example.com"]}]
    first = play([apps_task("Protect", wanted)])
    assert first.rc == 0, first.output
    assert [a["action"] for a in first.task("Protect")["applications"]] == ["created", "created"]
    assert first.task("Protect")["removed"] == []
    gone = play([apps_task("Protect", [], state="absent")])
    assert gone.rc == 0, gone.output
    assert len(gone.task("Protect")["removed"]) == 2
    assert sorted(stored_apps(api), key=lambda a: a["id"]) == before_apps
    assert sorted(stored_policies(api), key=lambda p: p["id"]) == before_pols
    # a domain a hand-made application holds is an error before any write (no 409 on every run)
    api.cloudflare.clear_log()
    clash = play([apps_task("Protect", [dict(wanted[0], domain="wiki.example.com")], ignore_errors=True)])
    assert "already protected by the application 'Wiki'" in clash.task("Protect")["msg"]
    assert writes(api) == []


def test_two_login_methods_with_the_same_application_names(api, play):
    one = arrange(api, "authentik")
    two = arrange(api, "authentik-staging")
    a = [{"name": "Grafana", "domain": "grafana.example.com", "allow_groups": ["engineering"]}]
    b = [{"name": "Grafana", "domain": "grafana.staging.example.com", "allow_groups": ["engineering"]}]
    tasks = [apps_task("A", a, login_method="authentik", register="a"),
             apps_task("B", b, login_method=two, register="b")]
    first = play(tasks)
    assert first.rc == 0, first.output
    apps = stored_apps(api)
    assert sorted((x["domain"], [t for t in x["tags"] if "-n-" not in t][0]) for x in apps) == sorted(
        [("grafana.example.com", tag_of(one)), ("grafana.staging.example.com", tag_of(two))])
    api.cloudflare.clear_log()
    again = play(tasks)
    assert again.changed == 0 and writes(api) == []
    gone = play([apps_task("A", [], login_method="authentik")])
    assert gone.rc == 0, gone.output
    [left] = stored_apps(api)
    assert left["domain"] == "grafana.staging.example.com"
    assert len(stored_policies(api)) == 1


def test_leftovers_are_used_again_or_removed(api, play):
    arrange(api, "authentik")
    play([apps_task("Protect", entries(2))])
    apps = by_name(stored_apps(api))
    # someone deletes both applications by hand: their policies stay behind
    for app in apps.values():
        assert api.cloudflare.call("DELETE", acc(api, "apps/" + app["id"])).status_code in (200, 202)
    api.cloudflare.clear_log()
    again = play([apps_task("Protect", entries(1))])
    assert again.rc == 0, again.output
    # app00's policy is used again (one write: the application); app01's is removed (one write)
    assert sorted(m for m, _p in writes(api)) == ["DELETE", "POST"]
    assert [p["name"] for p in stored_policies(api)] == ["app00 (idpbridge)"]
    assert [a["name"] for a in stored_apps(api)] == ["app00"]


def test_absent_after_the_login_method_was_deleted_by_hand(api, play):
    idp = arrange(api, "authentik")
    play([apps_task("Protect", entries(2))])
    assert api.cloudflare.call("DELETE", acc(api, "identity_providers/" + idp)).status_code in (200, 202)
    checked = play([apps_task("Remove", [], state="absent")], check=True)
    assert checked.rc == 0, checked.output
    assert len(checked.task("Remove")["removed"]) == 2
    gone = play([apps_task("Remove", [], state="absent")])
    assert gone.rc == 0, gone.output
    assert any("no longer exists" in w for w in gone.task("Remove").get("warnings", []))
    assert stored_apps(api) == [] and stored_policies(api) == []
    assert api.cloudflare.state()["access_tags"] == []
    api.cloudflare.clear_log()
    again = play([apps_task("Remove", [], state="absent")])
    assert again.rc == 0 and again.changed == 0 and writes(api) == []


def test_absent_by_name_removes_only_the_deleted_login_methods_set(api, play):
    gone_idp = arrange(api, "authentik")
    kept_idp = arrange(api, "authentik-staging")
    play([apps_task("A", entries(2, "one"), login_method="authentik"),
          apps_task("B", entries(3, "two"), login_method="authentik-staging")])
    # a third login method's set, orphaned too: its applications must survive every other name
    third = arrange(api, "authentik-old")
    play([apps_task("C", entries(1, "old"), login_method="authentik-old")])
    for idp in (gone_idp, third):
        assert api.cloudflare.call("DELETE", acc(api, "identity_providers/" + idp)).status_code in (200, 202)
    before_apps, before_policies = stored_apps(api), stored_policies(api)
    assert len(before_apps) == 6 and len(before_policies) == 6
    # the other (existing) login method's name, a typo and a name that never existed: nothing of the orphans
    for name in ("authentik-staging", "authentikk", "never-was"):
        api.cloudflare.clear_log()
        run = play([apps_task("Remove", [], login_method=name, state="absent")])
        assert run.rc == 0, run.output
        if name == "authentik-staging":
            assert sorted(a["name"] for a in run.task("Remove")["removed"]) == ["two00", "two01", "two02"]
            assert all(tag_of(kept_idp) in a["tags"] for a in before_apps if a["name"].startswith("two"))
            before_apps = [a for a in before_apps if not a["name"].startswith("two")]
            before_policies = [p for p in before_policies if not p["name"].startswith("two")]
        else:
            assert run.changed == 0 and writes(api) == [], run.output
            assert "nothing to remove" in run.task("Remove")["msg"]
        assert sorted(a["id"] for a in stored_apps(api)) == sorted(a["id"] for a in before_apps)
        assert sorted(p["id"] for p in stored_policies(api)) == sorted(p["id"] for p in before_policies)
    # the deleted one's name: exactly its set (two applications, two policies, its two tags)
    api.cloudflare.clear_log()
    removed = play([apps_task("Remove", [], login_method="authentik", state="absent")])
    assert removed.rc == 0, removed.output
    assert sorted(a["name"] for a in removed.task("Remove")["removed"]) == ["one00", "one01"]
    made = writes(api)
    assert sorted(m for m, _p in made) == ["DELETE"] * 6, made
    assert [a["name"] for a in stored_apps(api)] == ["old00"]
    assert [p["name"] for p in stored_policies(api)] == ["old00 (idpbridge)"]
    left_tags = [t["name"] for t in api.cloudflare.state()["access_tags"]]
    assert tag_of(gone_idp) not in left_tags and name_tag_of("authentik") not in left_tags
    assert tag_of(third) in left_tags and name_tag_of("authentik-old") in left_tags
    api.cloudflare.clear_log()
    again = play([apps_task("Remove", [], login_method="authentik", state="absent")])
    assert again.rc == 0 and again.changed == 0 and writes(api) == []


def test_absent_removes_the_tag_left_by_an_empty_list(api, play):
    idp = arrange(api, "authentik")
    play([apps_task("Protect", entries(1))])
    play([apps_task("Protect", [])])
    assert stored_apps(api) == [] and sorted(t["name"] for t in api.cloudflare.state()["access_tags"]) == sorted(
        [tag_of(idp), name_tag_of("authentik")])
    api.cloudflare.clear_log()
    gone = play([apps_task("Protect", [], state="absent")])
    assert gone.rc == 0 and gone.changed == 1, gone.output
    assert [m for m, _p in writes(api)] == ["DELETE", "DELETE"] and api.cloudflare.state()["access_tags"] == []
    api.cloudflare.clear_log()
    assert play([apps_task("Protect", [], state="absent")]).changed == 0 and writes(api) == []


def test_fields_set_elsewhere_survive_an_update(api, play):
    arrange(api, "authentik")
    play([apps_task("Protect", entries(1))])
    [app] = stored_apps(api)
    [pol] = stored_policies(api)
    extra_app = {"cors_headers": {"allow_all_origins": True, "allowed_methods": ["GET"]}, "allow_iframe": True}
    extra_pol = {"approval_required": True, "purpose_justification_required": True,
                 "purpose_justification_prompt": "Why?", "isolation_required": True,
                 "approval_groups": [{"approvals_needed": 1, "email_addresses": ["boss@example.com"]}]}
    body = {k: v for k, v in app.items() if k not in ("id", "aud", "created_at", "updated_at", "self_hosted_domains")}
    body.update(extra_app, policies=[{"id": pol["id"], "precedence": 1}])
    assert api.cloudflare.call("PUT", acc(api, "apps/" + app["id"]), json=body).status_code == 200
    body = {k: v for k, v in pol.items() if k not in ("id", "created_at", "updated_at", "reusable", "app_count")}
    body.update(extra_pol)
    assert api.cloudflare.call("PUT", acc(api, "policies/" + pol["id"]), json=body).status_code == 200
    wanted = entries(1)
    wanted[0]["session_duration"] = "8h"
    done = play([apps_task("Protect", wanted)], diff=True)
    assert done.rc == 0, done.output
    [app] = stored_apps(api)
    [pol] = stored_policies(api)
    assert app["session_duration"] == "8h" and pol["session_duration"] == "8h"
    for key, value in extra_app.items():
        assert app[key] == value
    for key, value in extra_pol.items():
        assert pol[key] == value
    [diff] = done.task("Protect")["diff"]
    assert diff["after"]["policy"]["approval_groups"] == extra_pol["approval_groups"]
    assert diff["after"]["application"]["cors_headers"] == extra_app["cors_headers"]


def test_pages_at_the_largest_size_and_a_capped_server(api, play):
    arrange(api, "authentik")
    wanted = entries(5)
    play([apps_task("Protect", wanted)])
    for mode, pages in (("clamp", 3), ("reject", 4)):
        # a server whose lists answer at most 2 items a page: it cuts a larger per_page down ("clamp", and
        # says so in result_info), or refuses it ("reject"; then the module lists at the server's own size)
        api.cloudflare.config(access_max_per_page=2, access_per_page_over=mode, page_size=2)
        api.cloudflare.clear_log()
        again = play([apps_task("Protect", wanted)])
        assert again.rc == 0, again.output
        assert again.changed == 0 and writes(api) == []
        apps_reads = [r for r in cf_reads(api) if r["path"].endswith("/access/apps")]
        assert len(apps_reads) == pages  # 2 + 2 + 1 items (after one refused request when rejecting)
        if mode == "reject":
            assert any("refused per_page=1000" in w for w in again.task("Protect").get("warnings", []))
    api.cloudflare.config(access_max_per_page=1000, access_per_page_over="reject")
    api.cloudflare.clear_log()
    play([apps_task("Protect", wanted)])
    assert [r["query"].get("per_page") for r in cf_reads(api) if r["path"].endswith("/access/apps")] == [["1000"]]


def test_429_answers_are_waited_out(api, play):
    arrange(api, "authentik")
    api.cloudflare.fault(method="POST", path=r"/access/apps$", status=429, retry_after=1, count=2)
    done = play([apps_task("Protect", entries(3), concurrency=3)])
    assert done.rc == 0, done.output
    assert len(stored_apps(api)) == 3
    assert any("HTTP 429" in w for w in done.task("Protect").get("warnings", []))


def test_single_object_modules_carry_what_they_do_not_manage(api, play):
    idp = arrange(api, "authentik")
    extra_pol = {"approval_required": True, "isolation_required": True, "purpose_justification_required": True,
                 "purpose_justification_prompt": "Why?", "mfa_config": {"allowed_authenticators": ["totp"]},
                 "approval_groups": [{"approvals_needed": 1, "email_addresses": ["boss@example.com"]}]}
    pid = make_policy(api, "Grafana", **extra_pol)
    extra_app = {"cors_headers": {"allow_all_origins": True, "allowed_methods": ["GET"]}, "allow_iframe": True,
                 "mfa_config": {"allowed_authenticators": ["totp"], "session_duration": "1h"}}
    make_app(api, "Grafana", "grafana.example.com", [pid], idp, **extra_app)
    tasks = [task("Policy", {"name": "Grafana", "session_duration": "8h"}, module=FQCN + "cloudflare_access_policy"),
             task("Application", {"name": "Grafana", "session_duration": "8h"},
                  module=FQCN + "cloudflare_access_application")]
    predicted = play(tasks, check=True, diff=True)
    assert predicted.rc == 0, predicted.output
    done = play(tasks, diff=True)
    assert done.rc == 0, done.output
    [pol] = stored_policies(api)
    [app] = stored_apps(api)
    assert pol["session_duration"] == "8h" and app["session_duration"] == "8h"
    for key, value in extra_pol.items():
        assert pol[key] == value, key
    for key, value in extra_app.items():
        assert app[key] == value, key
    for run in (predicted, done):
        diff = run.task("Policy")["diff"]
        assert diff["before"]["approval_groups"] == diff["after"]["approval_groups"] == extra_pol["approval_groups"]
        assert diff["before"]["session_duration"] == "24h" and diff["after"]["session_duration"] == "8h"
        diff = run.task("Application")["diff"]
        assert diff["after"]["cors_headers"] == extra_app["cors_headers"] and diff["after"]["allow_iframe"] is True


def test_a_failed_write_is_reported_per_application_and_the_rerun_converges(api, play):
    arrange(api, "authentik")
    wanted = entries(3)
    api.cloudflare.fault(method="POST", path=r"/access/apps$", status=400, count=1,
                         body={"success": False, "errors": [{"code": 12130, "message": "access.api.error.invalid_request: "
                                                                                       "injected"}], "messages": [], "result": None})
    broken = play([apps_task("Protect", wanted, ignore_errors=True)])
    res = failure(broken, "Protect")
    actions = sorted(a["action"] for a in res["applications"])
    assert actions == ["created", "created", "failed"]
    [bad] = [a for a in res["applications"] if a["action"] == "failed"]
    assert "create the application" in bad["error"] and "injected" in bad["error"] and bad["name"] in res["msg"]
    # the failed entry's policy was made: the rerun uses it again, so each entry ends with one of each
    api.cloudflare.clear_log()
    again = play([apps_task("Protect", wanted)])
    assert again.rc == 0, again.output
    assert [m for m, _p in writes(api)] == ["POST"]
    assert len(stored_apps(api)) == 3 and len(stored_policies(api)) == 3
    api.cloudflare.clear_log()
    assert play([apps_task("Protect", wanted)]).changed == 0 and writes(api) == []


def test_check_mode_before_the_login_method_exists(api, play):
    api.cloudflare.clear_log()
    checked = play([apps_task("Protect", entries(2))], check=True)
    assert checked.rc == 0, checked.output
    res = checked.task("Protect")
    assert [a["action"] for a in res["applications"]] == ["created", "created"]
    assert any("assumed to be created by an earlier task" in w for w in res.get("warnings", []))
    assert writes(api) == []
    refused = play([apps_task("Protect", entries(2), ignore_errors=True)])
    assert "No login method" in failure(refused, "Protect")["msg"] and writes(api) == []


def test_fifty_applications_under_the_rate_limit(api, play):
    arrange(api, "authentik")
    api.cloudflare.config(rate_limit=True)
    wanted = entries(50)
    api.cloudflare.clear_log()
    first = play([apps_task("Protect", wanted, concurrency=8)])
    assert first.rc == 0, first.output
    assert len(writes(api)) == 2 + 2 * 50
    assert not [r for r in api.cloudflare.requests() if r["status"] == 429]
    for check in (False, True):
        api.cloudflare.clear_log()
        again = play([apps_task("Protect", wanted)], check=check)
        assert again.rc == 0 and again.changed == 0, again.output
        assert writes(api) == [] and len(cf_reads(api)) == 3
        assert again.task("Protect")["requests"] == {"reads": 4, "writes": 0}  # + the authentik group list
