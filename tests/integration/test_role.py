"""The cloudflare_access role, end to end: real ansible-playbook runs against both test servers."""

from __future__ import annotations

import pytest

# part of the suite tests/run runs on every ansible-core (docs/development.md, "Test matrix")
pytestmark = pytest.mark.representative

ROLE = "idpbridge.authentik_cloudflare.cloudflare_access"


def role_task(**role_vars):
    task = {"name": "Run the role", "ansible.builtin.include_role": {"name": ROLE}}
    if role_vars:
        task["vars"] = role_vars
    return task


def providers(api):
    return api.authentik.state()["providers"]


def identity_providers(api):
    """The OIDC login methods the Cloudflare test server holds for the account (secrets included)."""
    state = api.cloudflare.state()
    found = []
    for scope, items in state["identity_providers"].items():
        if api.info["account_id"] in scope:
            found.extend(i for i in items if i.get("type") == "oidc" and i["name"].startswith("authentik ("))
    return found


def secret_of(api, name):
    for provider in providers(api):
        if provider["name"] == name:
            return provider["client_secret"]
    raise AssertionError("no provider %r" % name)


def test_first_run_creates_second_run_sends_no_write(api, play):
    first = play([role_task(cloudflare_access_name="CF One")])
    assert first.rc == 0, first.output
    assert first.changed >= 3
    provider = [p for p in providers(api) if p["name"] == "CF One"][0]
    orgs = api.cloudflare.state()["organizations"]
    org = [o for key, o in orgs.items() if api.info["account_id"] in key][0]
    callback = "https://%s/cdn-cgi/access/callback" % org["auth_domain"]
    assert [u["url"] for u in provider["redirect_uris"]] == [callback]
    assert provider["redirect_uris"][0]["matching_mode"] == "strict"
    (idp,) = identity_providers(api)
    assert idp["name"] == "authentik (CF One)"
    assert idp["config"]["client_id"] == provider["client_id"]
    assert idp["config"]["client_secret"] == provider["client_secret"]
    base = api.info["authentik_url"]
    assert idp["config"]["auth_url"] == base + "/application/o/authorize/"
    assert idp["config"]["token_url"] == base + "/application/o/token/"
    assert idp["config"]["certs_url"] == base + "/application/o/cf-one/jwks/"
    summary = first.task("Remember the results")["ansible_facts"]["cloudflare_access_result"]
    assert summary["client_id"] == provider["client_id"]
    assert summary["login_method_id"] == idp["id"]
    assert summary["test_url"].endswith("/cdn-cgi/access/test-idp/" + idp["id"])

    api.authentik.clear_log()
    api.cloudflare.clear_log()
    second = play([role_task(cloudflare_access_name="CF One")])
    assert second.rc == 0, second.output
    assert second.changed == 0, [r["task"] for r in second.results if r["result"].get("changed")]
    assert api.authentik.writes() == []
    assert api.cloudflare.writes() == []


def test_check_mode_from_empty_sends_no_write_and_tells_the_truth(api, play):
    checked = play([role_task(cloudflare_access_name="CF Check")], check=True, diff=True)
    assert checked.rc == 0, checked.output
    assert checked.changed >= 3
    assert api.authentik.writes() == []
    assert api.cloudflare.writes() == []
    assert providers(api) == [] or all(p["name"] != "CF Check" for p in providers(api))
    predicted = {r["task"] for r in checked.results if r["result"].get("changed")}

    real = play([role_task(cloudflare_access_name="CF Check")], diff=True)
    assert real.rc == 0, real.output
    done = {r["task"] for r in real.results if r["result"].get("changed")}
    assert predicted == done

    api.authentik.clear_log()
    api.cloudflare.clear_log()
    again = play([role_task(cloudflare_access_name="CF Check")], check=True, diff=True)
    assert again.rc == 0 and again.changed == 0, again.output
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []


def test_secret_rotation_reaches_cloudflare_in_the_same_run(api, play):
    assert play([role_task(cloudflare_access_name="CF Rotate")]).rc == 0
    old = secret_of(api, "CF Rotate")

    rotated = play([role_task(cloudflare_access_name="CF Rotate", cloudflare_access_rotate_secret=True)])
    assert rotated.rc == 0, rotated.output
    new = secret_of(api, "CF Rotate")
    assert new != old
    (idp,) = identity_providers(api)
    assert idp["config"]["client_secret"] == new
    assert new not in rotated.output and old not in rotated.output

    api.authentik.clear_log()
    api.cloudflare.clear_log()
    calm = play([role_task(cloudflare_access_name="CF Rotate")])
    assert calm.rc == 0 and calm.changed == 0, calm.output
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []

    # A secret chosen by the user (from a vault) is set on both sides in one run.
    chosen = "Chosen" + "x" * 58
    given = play([role_task(cloudflare_access_name="CF Rotate", cloudflare_access_client_secret=chosen)])
    assert given.rc == 0, given.output
    assert secret_of(api, "CF Rotate") == chosen
    assert identity_providers(api)[0]["config"]["client_secret"] == chosen
    assert chosen not in given.output


def test_teardown_removes_everything_and_reruns_clean(api, play):
    assert play([role_task(cloudflare_access_name="CF Gone")]).rc == 0
    removed = play([role_task(cloudflare_access_name="CF Gone", cloudflare_access_state="absent")])
    assert removed.rc == 0, removed.output
    assert removed.changed == 3
    assert all(p["name"] != "CF Gone" for p in providers(api))
    assert identity_providers(api) == []
    assert all(a["slug"] != "cf-gone" for a in api.authentik.state()["applications"])
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    again = play([role_task(cloudflare_access_name="CF Gone", cloudflare_access_state="absent")])
    assert again.rc == 0 and again.changed == 0, again.output
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []


def test_no_secret_or_token_at_any_verbosity(api, play, servers):
    runs = [
        play([role_task(cloudflare_access_name="CF Quiet")], verbosity=4, diff=True),
        play([role_task(cloudflare_access_name="CF Quiet", cloudflare_access_rotate_secret=True)], verbosity=4, diff=True),
        play([role_task(cloudflare_access_name="CF Quiet")], verbosity=4, diff=True, check=True),
        # A failure half-way: an unknown flow slug. It must say what failed and still show no secret.
        play([role_task(cloudflare_access_name="CF Quiet", cloudflare_access_authorization_flow="no-such-flow")], verbosity=4),
    ]
    assert [r.rc for r in runs[:3]] == [0, 0, 0]
    assert runs[3].rc != 0
    assert "no-such-flow" in runs[3].output
    secrets = [p["client_secret"] for p in providers(api)]
    secrets += [servers.authentik_token, servers.cloudflare_token]
    for run in runs:
        for secret in secrets:
            assert secret not in run.output


def test_role_in_a_loop_over_three_applications(api, play):
    tasks = [{
        "name": "Connect each application",
        "ansible.builtin.include_role": {"name": ROLE},
        "vars": {"cloudflare_access_name": "{{ item }}"},
        "loop": ["Team A", "Team B", "Team C"],
    }]
    first = play(tasks)
    assert first.rc == 0, first.output
    names = sorted(p["name"] for p in providers(api))
    assert names == ["Team A", "Team B", "Team C"]
    assert sorted(i["name"] for i in identity_providers(api)) == ["authentik (Team A)", "authentik (Team B)", "authentik (Team C)"]
    by_client = {p["client_id"]: p["client_secret"] for p in providers(api)}
    for idp in identity_providers(api):
        assert by_client[idp["config"]["client_id"]] == idp["config"]["client_secret"]
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    second = play(tasks)
    assert second.rc == 0 and second.changed == 0, second.output
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []


@pytest.mark.parametrize("book", ["idpbridge.authentik_cloudflare.cloudflare_access"])
def test_playbook_by_fqcn_then_remove(api, play, book):
    done = play(playbook=book, vars={"cloudflare_access_name": "CF Book"})
    assert done.rc == 0, done.output
    assert any(p["name"] == "CF Book" for p in providers(api))
    gone = play(playbook="idpbridge.authentik_cloudflare.remove", vars={"cloudflare_access_name": "CF Book"})
    assert gone.rc == 0, gone.output
    assert all(p["name"] != "CF Book" for p in providers(api))


def test_role_imported_with_tags_runs_under_those_tags(api, play):
    tasks = [
        {"name": "Something else in the play", "ansible.builtin.debug": {"msg": "not selected"}, "tags": ["other"]},
        {"name": "Connect", "ansible.builtin.import_role": {"name": ROLE}, "tags": ["sso"],
         "vars": {"cloudflare_access_name": "CF Tagged"}},
    ]
    tagged = play(tasks, args=["--tags", "sso"])
    assert tagged.rc == 0, tagged.output
    assert any(p["name"] == "CF Tagged" for p in providers(api))
    assert "not selected" not in tagged.stdout
    skipped = play(tasks, args=["--skip-tags", "sso", "--check"])
    assert skipped.rc == 0 and skipped.changed == 0, skipped.output


CONNECTION_ENV = ("AUTHENTIK_URL", "AUTHENTIK_TOKEN", "CLOUDFLARE_API_URL", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID")


def test_connection_from_the_role_variables_alone(api, play, servers):
    """No AUTHENTIK_*/CLOUDFLARE_* environment: the role's module_defaults (tasks/main.yml) hand its connection
    variables to every module task, the Cloudflare modules that read authentik (login method, applications, test)
    included."""
    role_vars = dict(cloudflare_access_name="CF Vars", cloudflare_access_applications=[],
                     cloudflare_access_authentik_url=servers.authentik_url,
                     cloudflare_access_authentik_token=servers.authentik_token,
                     cloudflare_access_cloudflare_api_url=servers.cloudflare_url,
                     cloudflare_access_cloudflare_api_token=servers.cloudflare_token,
                     cloudflare_access_cloudflare_account_id=servers.account_id)
    env = dict.fromkeys(CONNECTION_ENV)
    first = play([role_task(**role_vars)], env=env)
    assert first.rc == 0, first.output
    assert [i["name"] for i in identity_providers(api)] == ["authentik (CF Vars)"]
    assert not first.task("Test the login method").get("skipped")  # it ran, and passed (rc 0)
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    second = play([role_task(**role_vars)], env=env)
    assert second.rc == 0, second.output
    assert second.changed == 0
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []


def test_module_defaults_around_the_role_still_reach_its_modules(api, play):
    """The role sets its connection options by module, so a group's module_defaults around it stay in force for the
    options the role leaves alone: here a timeout that is no number, which the first Cloudflare task fails on before
    it sends anything."""
    defaults = {"group/idpbridge.authentik_cloudflare.cloudflare": {"timeout": "soon"}}
    block = {"name": "Around the role", "module_defaults": defaults,
             "block": [role_task(cloudflare_access_name="CF Around")]}
    result = play([block])
    assert result.rc != 0
    assert "timeout" in result.task("Read the Cloudflare Access organization (team domain)")["msg"]
    assert api.cloudflare.requests() == [] and api.authentik.requests() == []
