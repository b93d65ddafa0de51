"""The role's protected applications cannot be lost by a mistake: a misspelt variable stops the run before any
request, a list that is not given leaves them alone, an empty list removes them (within the removal guard), and
state absent removes them even after the login method was deleted by hand. Requests are counted at the servers."""

from __future__ import annotations

ROLE = "idpbridge.authentik_cloudflare.cloudflare_access"
NAME = "CF Safe"
APPS = [
    {"name": "Grafana", "domain": "grafana.example.com", "allow_groups": ["engineering"]},
    {"name": "Vault", "domain": "vault.example.com", "allow_emails": ["boss@example.org"]},
]
# the harness switches deprecation warnings off; these runs switch them on to show there are none
WARN = {"ANSIBLE_DEPRECATION_WARNINGS": "1"}
MANY = [{"name": "App %d" % i, "domain": "app-%d.example.com" % i, "allow_email_domains": ["example.org"]}
        for i in range(1, 6)]


def role(**role_vars):
    base = {"cloudflare_access_name": NAME}
    base.update(role_vars)
    return {"name": "Run the role", "ansible.builtin.include_role": {"name": ROLE}, "vars": base}


def app_names(api):
    return sorted(a["name"] for a in api.cloudflare.state()["access_apps"]["accounts/%s" % api.info["account_id"]])


def policy_names(api):
    return sorted(p["name"] for p in api.cloudflare.state()["access_policies"])


def access_requests(api):
    return [r for r in api.cloudflare.requests() if "/access/apps" in r["path"] or "/access/policies" in r["path"]
            or "/access/tags" in r["path"]]


def test_a_misspelt_variable_stops_the_run_before_any_request(api, play):
    protected = play([role(cloudflare_access_applications=APPS)])
    assert protected.rc == 0, protected.output
    api.cloudflare.clear_log()
    api.authentik.clear_log()
    typo = play([role(cloudflare_access_aplications=APPS[:1], cloudflare_access_verfy=False,
                      cloudflare_access_bindings_exclusive=True)])
    assert typo.rc != 0
    msg = typo.task("Check that every cloudflare_access_ variable is one of the role's")["msg"]
    assert "cloudflare_access_aplications is not a variable of the role cloudflare_access: did you mean " \
           "cloudflare_access_applications?" in msg
    assert "cloudflare_access_verfy is not a variable of the role cloudflare_access: did you mean " \
           "cloudflare_access_verify?" in msg
    assert "cloudflare_access_bindings_exclusive is no longer a variable of the role cloudflare_access: renamed to " \
           "cloudflare_access_purge_bindings" in msg
    assert api.cloudflare.requests() == [] and api.authentik.requests() == []
    assert app_names(api) == ["Grafana", "Vault"]

    # the singular, given a list, is one of the role's own result names: named too
    api.cloudflare.clear_log()
    singular = play([role(cloudflare_access_application=APPS[:1])])
    assert singular.rc != 0
    assert "cloudflare_access_application is not a variable of the role cloudflare_access: did you mean " \
           "cloudflare_access_applications?" in singular.output
    assert api.cloudflare.requests() == []

    # a variable of an earlier version says what replaced it
    gone = play([role(cloudflare_access_applications_cleanup=False)])
    assert gone.rc != 0 and "cloudflare_access_applications_cleanup is no longer a variable" in gone.output

    # a loop of the role over two login methods: the second include sees the first one's results, and passes
    looped = play([{"name": "Loop", "ansible.builtin.include_role": {"name": ROLE}, "loop": [NAME, "CF Safe 2"],
                    "vars": {"cloudflare_access_name": "{{ item }}"}}])
    assert looped.rc == 0, looped.output
    assert app_names(api) == ["Grafana", "Vault"]


def test_not_given_leaves_them_alone_and_an_empty_list_removes_them(api, play):
    first = play([role(cloudflare_access_applications=APPS)], env=WARN)
    assert first.rc == 0, first.output
    assert "DEPRECATION" not in first.output

    # not given: no request for them at all, nothing changed, the groups claim stays on the login method (the leaver
    # check, which reads the applications on its own, is tested in test_offboarding.py)
    api.cloudflare.clear_log()
    alone = play([role(cloudflare_access_revoke_leavers=False)], env=WARN)
    assert alone.rc == 0 and alone.changed == 0, alone.output
    assert access_requests(api) == []
    assert app_names(api) == ["Grafana", "Vault"]
    (idp,) = [i for i in api.cloudflare.state()["identity_providers"]["accounts/%s" % api.info["account_id"]]
              if i["name"] == "authentik (%s)" % NAME]
    assert "groups" in idp["config"]["claims"]
    assert "Protected applications: left as they are" in alone.stdout
    assert "DEPRECATION" not in alone.output

    # an empty list in check mode: the list of what would go, no write
    api.cloudflare.clear_log()
    preview = play([role(cloudflare_access_applications=[])], check=True, env=WARN)
    assert preview.rc == 0, preview.output
    assert [r for r in access_requests(api) if r["write"]] == []
    assert "DEPRECATION" not in preview.output
    assert "to remove: Grafana, Vault" in preview.stdout

    # an empty list: both applications and both policies go; a rerun writes nothing
    api.cloudflare.clear_log()
    emptied = play([role(cloudflare_access_applications=[])], env=WARN)
    assert emptied.rc == 0, emptied.output
    assert "DEPRECATION" not in emptied.output
    assert app_names(api) == [] and policy_names(api) == []
    assert "Protected applications: none; removed: " in emptied.stdout
    api.cloudflare.clear_log()
    again = play([role(cloudflare_access_applications=[])])
    assert again.rc == 0 and again.changed == 0, again.output
    assert api.cloudflare.writes() == []


def test_the_removal_guard_stops_a_large_removal_before_any_write(api, play):
    made = play([role(cloudflare_access_applications=MANY)])
    assert made.rc == 0, made.output
    assert len(app_names(api)) == 5

    # one entry left: four removals, more than the default of 3
    api.cloudflare.clear_log()
    cut = play([role(cloudflare_access_applications=MANY[:1])])
    assert cut.rc != 0
    msg = cut.task("Protect the listed applications")["msg"]
    assert all(("App %d" % i) in msg for i in range(2, 6)), msg
    assert api.cloudflare.writes() == []
    assert len(app_names(api)) == 5

    # check mode shows the list and does not fail
    checked = play([role(cloudflare_access_applications=MANY[:1])], check=True)
    assert checked.rc == 0, checked.output
    assert "to remove: App 2, App 3, App 4, App 5" in checked.stdout, checked.stdout[-3000:]

    # the explicit variable lets it through
    allowed = play([role(cloudflare_access_applications=MANY[:1], cloudflare_access_applications_max_removals=4)])
    assert allowed.rc == 0, allowed.output
    assert app_names(api) == ["App 1"]


def test_absent_removes_them_after_the_login_method_was_deleted_by_hand(api, play):
    made = play([role(cloudflare_access_applications=APPS)])
    assert made.rc == 0, made.output
    acc = "/accounts/%s/access/" % api.info["account_id"]
    (idp,) = [i for i in api.cloudflare.state()["identity_providers"]["accounts/%s" % api.info["account_id"]]
              if i["name"] == "authentik (%s)" % NAME]
    assert api.cloudflare.call("DELETE", acc + "identity_providers/" + idp["id"]).status_code in (200, 202)

    gone = play([role(cloudflare_access_state="absent")], env=WARN)
    assert gone.rc == 0, gone.output
    assert "DEPRECATION" not in gone.output
    assert app_names(api) == [] and policy_names(api) == []
    api.cloudflare.clear_log()
    again = play([role(cloudflare_access_state="absent")])
    assert again.rc == 0 and again.changed == 0, again.output
    assert api.cloudflare.writes() == []
