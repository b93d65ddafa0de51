"""authentik_policy_binding against the authentik test server, with real ansible-playbook runs."""

from __future__ import annotations

import pytest

from authentik_support import BINDING, counts, create_application, task, writes

ADMINS = "authentik Admins"
DENY = "idpbridge-deny-all"


@pytest.fixture
def app(api):
    """The application the bindings go to (made behind the modules' back)."""
    created = create_application(api, "cf-access", name="Cloudflare Access")
    api.authentik.clear_log()
    return created


def bindings_state(api, target):
    return [b for b in api.authentik.state()["bindings"] if b["target"] == target]


def api_bind(api, target, **subject):
    body = {"target": target, "order": subject.pop("order", 0)}
    body.update(subject)
    resp = api.authentik.call("POST", "/policies/bindings/", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def lookup(api, path, **params):
    return api.authentik.call("GET", path, params=params).json()["results"]


def test_single_binding_check_create_rerun_diff(api, play, app):
    args = {"application": "cf-access", "group": ADMINS, "order": 10}
    api.authentik.clear_log()
    checked = play(tasks=[task("bind", BINDING, args)], check=True, diff=True)
    predicted = checked.task("bind")
    assert predicted["changed"] is True and predicted["end_state"]["pk"] is None
    assert predicted["actions"] == [{"item": "group 'authentik Admins'", "action": "create", "reason": "missing",
                                     "pk": None, "changes": ["order"]}]
    assert writes(api) == []
    check_reads = counts(api.authentik.requests())

    api.authentik.clear_log()
    result = play(tasks=[task("bind", BINDING, args), task("again", BINDING, args)], diff=True)
    assert result.rc == 0, result.output
    assert counts(api.authentik.requests()) == {"GET": 6, "POST": 1}
    bound, again = result.task("bind"), result.task("again")
    assert bound["changed"] is True and again["changed"] is False
    assert bound["diff"] == predicted["diff"] == {
        "before": {"group 'authentik Admins'": {}},
        "after": {"group 'authentik Admins'": {"order": 10, "enabled": True, "negate": False, "timeout": 30,
                                               "failure_result": False}},
    }
    group_pk = lookup(api, "/core/groups/", name=ADMINS)[0]["pk"]
    assert writes(api) == [("POST", "/api/v3/policies/bindings/", {"target": app["pk"], "group": group_pk, "order": 10})]
    stored = bindings_state(api, app["pk"])
    assert len(stored) == 1 and bound["end_state"]["pk"] == stored[0]["pk"] == again["end_state"]["pk"]
    assert bound["target"] == app["pk"]
    assert bound["end_state"] == {"pk": stored[0]["pk"], "target": app["pk"], "kind": "group", "name": ADMINS,
                                  "group": group_pk, "user": None, "policy": None, "order": 10, "enabled": True,
                                  "negate": False, "timeout": 30, "failure_result": False}
    assert again["end_state"] == bound["end_state"] and again["existing"] == bound["end_state"]
    assert again["actions"][0]["action"] == "none"
    # reads per run: the application, the group, the bindings (one page)
    assert check_reads == {"GET": 3}


def test_each_attribute_change_sends_one_patch_with_only_that_field(api, play, app):
    steps = [("order", 20), ("enabled", False), ("negate", True), ("timeout", 5), ("failure_result", True)]
    args = {"application": "cf-access", "user": "alice", "timeout": 10}  # timeout: the HTTP timeout
    tasks = [task("create", BINDING, args)]
    for index, (field, value) in enumerate(steps):
        args = dict(args)
        args["policy_timeout" if field == "timeout" else field] = value
        tasks.append(task("step %d" % index, BINDING, args))
    tasks.append(task("check same", BINDING, args, check_mode=True))
    result = play(tasks=tasks)
    assert result.rc == 0, result.output
    sent = writes(api)
    assert sent[0] == ("POST", "/api/v3/policies/bindings/", {"target": app["pk"], "user": 4, "order": 0})
    pk = result.task("create")["end_state"]["pk"]
    assert sent[1:] == [("PATCH", "/api/v3/policies/bindings/%s/" % pk, {field: value}) for field, value in steps]
    for index, (field, _value) in enumerate(steps):
        assert result.task("step %d" % index)["actions"][0]["changes"] == [field]
    assert result.task("check same")["changed"] is False
    stored = bindings_state(api, app["pk"])[0]
    assert (stored["order"], stored["enabled"], stored["negate"], stored["timeout"], stored["failure_result"]) == \
        (20, False, True, 5, True)


def test_list_form_purge_bindings_check_mode_and_rerun(api, play, app):
    engineering = lookup(api, "/core/groups/", name="engineering")[0]["pk"]
    stray_group = api_bind(api, app["pk"], group=engineering, order=1)
    stray_user = api_bind(api, app["pk"], user=5, order=2)
    keep = api_bind(api, app["pk"], user=4, order=3)
    wanted = {"application": "cf-access", "purge_bindings": True, "bindings": [
        {"group": ADMINS, "order": 10},
        {"user": "alice", "order": 3},
        {"policy": DENY, "order": 30, "negate": True},
    ]}
    api.authentik.clear_log()
    checked = play(tasks=[task("exact", BINDING, wanted)], check=True, diff=True)
    predicted = checked.task("exact")
    assert writes(api) == []
    real = play(tasks=[task("exact", BINDING, wanted), task("again", BINDING, wanted)], diff=True)
    done, again = real.task("exact"), real.task("again")
    assert predicted["changed"] and done["changed"] and not again["changed"]
    assert predicted["diff"] == done["diff"]
    assert [(a["item"], a["action"]) for a in done["actions"]] == [
        ("group 'authentik Admins'", "create"), ("user 'alice'", "none"), ("policy 'idpbridge-deny-all'", "create"),
        ("group 'engineering'", "delete"), ("user 'bob'", "delete")]
    assert [(a["item"], a["action"]) for a in predicted["actions"]] == [(a["item"], a["action"]) for a in done["actions"]]
    assert done["msg"] == "the policy bindings of authentik application 'cf-access': 2 created, 2 deleted"
    assert predicted["msg"] == "the policy bindings of authentik application 'cf-access': 2 to create, 2 to delete"
    sent = writes(api)
    assert [(m, p) for m, p, _b in sent[:2]] == [
        ("DELETE", "/api/v3/policies/bindings/%s/" % stray_group["pk"]),
        ("DELETE", "/api/v3/policies/bindings/%s/" % stray_user["pk"])]
    assert [m for m, _p, _b in sent[2:]] == ["POST", "POST"]
    assert sent[3][2]["negate"] is True and sent[3][2]["order"] == 30
    stored = bindings_state(api, app["pk"])
    assert sorted((b["group"] is not None, b["user"] or 0, b["policy"] is not None) for b in stored) == [
        (False, 0, True), (False, 4, False), (True, 0, False)]
    assert keep["pk"] in [b["pk"] for b in stored]
    assert [b["name"] for b in again["end_state"]] == ["alice", ADMINS, DENY]
    # one listing of the bindings per run
    listings = [r for r in api.authentik.requests() if r["path"] == "/api/v3/policies/bindings/" and r["method"] == "GET"]
    assert len(listings) == 3
    assert all(r["query"]["target"] == [app["pk"]] for r in listings)


def test_without_purge_others_stay_and_bindings_empty_purge_removes_all(api, play, app):
    api_bind(api, app["pk"], user=5, order=2)
    result = play(tasks=[
        task("add", BINDING, {"application": "cf-access", "bindings": [{"group": ADMINS}]}),
        task("clear check", BINDING, {"application": "cf-access", "bindings": [], "purge_bindings": True}, check_mode=True),
        task("clear", BINDING, {"application": "cf-access", "bindings": [], "purge_bindings": True}),
        task("clear again", BINDING, {"application": "cf-access", "bindings": [], "purge_bindings": True}),
    ])
    assert result.rc == 0, result.output
    assert [a["action"] for a in result.task("add")["actions"]] == ["create"]
    assert len(result.task("add")["end_state"]) == 2
    assert result.task("clear check")["changed"] and result.task("clear")["changed"]
    assert not result.task("clear again")["changed"]
    assert bindings_state(api, app["pk"]) == []


def test_duplicates_are_collapsed(api, play, app):
    admins = lookup(api, "/core/groups/", name=ADMINS)[0]["pk"]
    first = api_bind(api, app["pk"], group=admins, order=5)
    second = api_bind(api, app["pk"], group=admins, order=10)  # authentik accepts an identical second binding
    result = play(tasks=[task("bind", BINDING, {"application": "cf-access", "group": ADMINS, "order": 10}),
                         task("again", BINDING, {"application": "cf-access", "group": ADMINS, "order": 10})])
    assert result.rc == 0, result.output
    bound = result.task("bind")
    assert bound["actions"] == [{"item": "group 'authentik Admins'", "action": "delete",
                                 "reason": "duplicate of %s" % second["pk"], "pk": first["pk"], "changes": []},
                                {"item": "group 'authentik Admins'", "action": "none", "reason": "up to date",
                                 "pk": second["pk"], "changes": []}]
    assert bound["end_state"]["pk"] == second["pk"]
    assert writes(api)[-1] == ("DELETE", "/api/v3/policies/bindings/%s/" % first["pk"], None)
    assert not result.task("again")["changed"]
    assert [b["pk"] for b in bindings_state(api, app["pk"])] == [second["pk"]]


def test_absent_twice_and_absent_of_missing_things(api, play, app):
    args = {"application": "cf-access", "policy": DENY, "order": 7}
    result = play(tasks=[
        task("bind", BINDING, args),
        task("absent check", BINDING, dict(args, state="absent"), check_mode=True),
        task("absent", BINDING, dict(args, state="absent")),
        task("absent again", BINDING, dict(args, state="absent")),
        task("missing group", BINDING, {"application": "cf-access", "group": "gone", "state": "absent"}),
        task("missing app", BINDING, {"application": "no-such-app", "group": ADMINS, "state": "absent"}),
    ], diff=True)
    assert result.rc == 0, result.output
    assert result.task("absent check")["diff"] == result.task("absent")["diff"]
    assert result.task("absent")["diff"]["after"] == {"policy 'idpbridge-deny-all'": {}}
    assert result.task("absent")["end_state"] == {} and result.task("absent")["existing"]["order"] == 7
    assert not result.task("absent again")["changed"]
    assert result.task("missing group")["changed"] is False
    assert "already absent (No authentik group is named 'gone'" in result.task("missing group")["actions"][0]["reason"]
    assert result.task("missing app")["changed"] is False and result.task("missing app")["target"] is None
    assert [m for m, _p, _b in writes(api)] == ["POST", "DELETE"]


def test_lookup_failures_name_the_kind_and_the_name(api, play, app):
    cases = {
        "group": ({"application": "cf-access", "group": "no-such-group"}, "No authentik group is named 'no-such-group'"),
        "user": ({"application": "cf-access", "user": "nobody"}, "No authentik user has the username 'nobody'"),
        "policy": ({"application": "cf-access", "policy": "no-such-policy"}, "No authentik policy is named 'no-such-policy'"),
        "application": ({"application": "no-such-app", "group": ADMINS}, "No authentik application has the slug 'no-such-app'"),
        "twice": ({"application": "cf-access", "bindings": [{"group": ADMINS}, {"group": ADMINS, "order": 3}]},
                  "group 'authentik Admins' is listed more than once"),
        "two subjects": ({"application": "cf-access", "bindings": [{"group": ADMINS, "user": "alice"}]},
                         "mutually exclusive: group|user|policy"),
        "purge_bindings alone": ({"application": "cf-access", "group": ADMINS, "purge_bindings": True},
                                 "purge_bindings needs the list form"),
        "negative timeout": ({"application": "cf-access", "group": ADMINS, "policy_timeout": -1}, "must be 0 or more"),
    }
    result = play(tasks=[task(name, BINDING, args, ignore_errors=True) for name, (args, _m) in cases.items()])
    for name, (_args, expected) in cases.items():
        assert result.status(name) == "ignored", name
        assert expected in result.task(name)["msg"], (name, result.task(name)["msg"])
    assert writes(api) == []


def test_a_server_400_is_surfaced(api, play, app):
    # Every 400 the module can foresee is caught before sending (see the order task); one it cannot is shown
    # with the server's words, here authentik's uniqueness rule for policy bindings.
    api.authentik.fault(method="POST", path="^/api/v3/policies/bindings/$", status=400, count=1,
                        body={"non_field_errors": ["The fields policy, target, order must make a unique set."]})
    result = play(tasks=[
        task("unique", BINDING, {"application": "cf-access", "policy": DENY, "order": 1}, ignore_errors=True),
        task("huge order", BINDING, {"application": "cf-access", "group": ADMINS, "order": 2 ** 31}, ignore_errors=True),
    ])
    failed = result.task("unique")
    assert failed["msg"] == ("Could not bind the policy 'idpbridge-deny-all' to authentik application 'cf-access': "
                             "POST /policies/bindings/ returned HTTP 400: The fields policy, target, order must make a "
                             "unique set.")
    assert failed["status"] == 400
    assert result.task("huge order")["msg"] == ("order of the group 'authentik Admins' must be between -2147483648 and "
                                                "2147483647, got 2147483648")
    assert [r["status"] for r in api.authentik.writes()] == [400]


def test_pagination_of_the_bindings(api, play, app):
    api.authentik.config(page_size=2)
    engineering = lookup(api, "/core/groups/", name="engineering")[0]["pk"]
    contractors = lookup(api, "/core/groups/", name="contractors")[0]["pk"]
    api_bind(api, app["pk"], group=engineering, order=1)
    api_bind(api, app["pk"], group=contractors, order=2)
    api_bind(api, app["pk"], user=5, order=3)
    api_bind(api, app["pk"], user=3, order=4)
    wanted = {"application": "cf-access", "purge_bindings": True,
              "bindings": [{"user": "akadmin", "order": 4}, {"group": "contractors", "order": 2}, {"user": "alice"}]}
    api.authentik.clear_log()
    result = play(tasks=[task("exact", BINDING, wanted), task("again", BINDING, wanted)])
    assert result.rc == 0, result.output
    done = result.task("exact")
    assert sorted((a["item"], a["action"]) for a in done["actions"]) == [
        ("group 'contractors'", "none"), ("group 'engineering'", "delete"), ("user 'akadmin'", "none"),
        ("user 'alice'", "create"), ("user 'bob'", "delete")]
    assert not result.task("again")["changed"]
    pages = [r["query"]["page"] for r in api.authentik.requests() if r["path"] == "/api/v3/policies/bindings/"
             and r["method"] == "GET"]
    assert pages == [["1"], ["2"], ["1"], ["2"]], "four bindings in two pages, then three in two pages"
    assert len(bindings_state(api, app["pk"])) == 3


def test_check_mode_of_a_whole_play_from_empty(api, play):
    # provider, application and binding in one check-mode play: the later tasks assume the earlier ones
    from authentik_support import APPLICATION, CALLBACK, PROVIDER
    tasks = [task("provider", PROVIDER, {"name": "cf-provider", "redirect_uris": [CALLBACK]}),
             task("app", APPLICATION, {"slug": "cf-access", "provider": "cf-provider"}),
             task("bind", BINDING, {"application": "cf-access", "group": ADMINS, "order": 10})]
    checked = play(tasks=tasks, check=True, diff=True)
    assert checked.rc == 0, checked.output
    assert [checked.task(n)["changed"] for n in ("provider", "app", "bind")] == [True, True, True]
    assert "check mode assumes an earlier task creates it" in " ".join(checked.output.split())
    assert checked.task("app")["endpoints"]["jwks"].endswith("/application/o/cf-access/jwks/")
    assert checked.task("bind")["actions"][0]["action"] == "create"
    assert writes(api) == []
    real = play(tasks=tasks, diff=True)
    assert real.rc == 0, real.output
    assert [real.task(n)["changed"] for n in ("provider", "app", "bind")] == [True, True, True]
    assert real.task("bind")["diff"] == checked.task("bind")["diff"]
    assert real.task("app")["endpoints"] == checked.task("app")["endpoints"]
    # without check mode, a missing application or provider is an error
    failing = play(tasks=[task("app", APPLICATION, {"slug": "other", "provider": "nope"}, ignore_errors=True),
                          task("bind", BINDING, {"application": "nope", "group": ADMINS}, ignore_errors=True)])
    assert failing.task("app")["msg"].startswith("No authentik OAuth2 provider is named 'nope'")
    assert failing.task("bind")["msg"].startswith("No authentik application has the slug 'nope'")
