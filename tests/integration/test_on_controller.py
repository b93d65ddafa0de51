"""The modules' action plugins (plugins/plugin_utils/_on_controller.py): a module that would run on the controller
runs inside Ansible's worker process, with the same requests, results and messages as a module process; every
other case runs it as a module. And the role's login method ids, passed from one application to the next."""

from __future__ import annotations

import os
import sys

import pytest
import yaml

# part of the suite tests/run runs on every ansible-core (docs/development.md, "Test matrix")
pytestmark = pytest.mark.representative

ROLE = "idpbridge.authentik_cloudflare.cloudflare_access"
FQCN = "idpbridge.authentik_cloudflare."


def role_task(name, **role_vars):
    return {"name": "Run the role", "ansible.builtin.include_role": {"name": ROLE},
            "vars": dict({"cloudflare_access_name": name}, **role_vars)}


def request_lines(api):
    return [(r["method"], r["path"]) for one in (api.authentik, api.cloudflare) for r in one.requests()]


def clear(api):
    api.authentik.clear_log()
    api.cloudflare.clear_log()


def test_in_the_worker_and_as_a_module_alike(api, play):
    assert play([role_task("On Controller")]).rc == 0
    runs = {}
    for label, switch in (("worker", True), ("module", False)):
        clear(api)
        done = play([role_task("On Controller")], vars={"idpbridge_on_controller": switch}, verbosity=3)
        assert done.rc == 0 and done.changed == 0, done.output
        runs[label] = (done, request_lines(api))
    (worker, worker_requests), (module, module_requests) = runs["worker"], runs["module"]
    # a module process shows its packaging at -vvv; a run in the worker has none
    assert "AnsiballZ_" in module.stdout and "AnsiballZ_" not in worker.stdout
    assert sorted(worker_requests) == sorted(module_requests)  # the lookups of a module are sent concurrently
    for name in ("Ensure the authentik OAuth2/OpenID provider", "Ensure the Cloudflare Access login method",
                 "Test the login method"):
        one, other = worker.task(name), module.task(name)
        for key in ("changed", "existing", "end_state", "identity_provider", "checks", "passed"):
            assert one.get(key) == other.get(key), (name, key)


def test_failure_messages_are_the_same_both_ways(api, play):
    task = {"name": "bad flow", FQCN + "authentik_provider_oauth2": {
        "name": "Bad Flow", "authorization_flow": "no-such-flow", "redirect_uris": ["https://t.example.com/cb"]},
        "ignore_errors": True}
    bad_args = {"name": "bad args", FQCN + "authentik_provider_oauth2": {"name": "x", "no_such_option": 1},
                "ignore_errors": True}
    seen = {}
    for switch in (True, False):
        done = play([task, bad_args], vars={"idpbridge_on_controller": switch})
        seen[switch] = (done.task("bad flow")["msg"], done.task("bad args")["msg"])
    assert seen[True] == seen[False]
    assert "option authorization_flow" in seen[True][0]
    assert "Unsupported parameters for (%sauthentik_provider_oauth2) module: no_such_option" % FQCN in seen[True][1]
    assert not api.authentik.writes()


def test_task_environment_reaches_a_module_in_the_worker(api, play):
    url = api.info["authentik_url"]
    task = {"name": "read", FQCN + "authentik_provider_oauth2_info": {"name": "nobody"},
            "environment": {"AUTHENTIK_URL": url}}
    done = play([task], env={"AUTHENTIK_URL": None})
    assert done.rc == 0, done.output
    assert any(r["path"].startswith("/api/v3/providers/oauth2/") for r in api.authentik.requests())


def test_another_interpreter_runs_the_module_as_a_module(api, play, tmp_path):
    # A link to the controller's Python from outside its venv is another environment (the venv's packages are
    # not there): the module runs as a module on that interpreter, and fails as a module would without requests.
    link = tmp_path / "python-link"
    os.symlink(sys.executable, link)
    task = {"name": "read", FQCN + "cloudflare_access_organization_info": {}, "ignore_errors": True,
            "vars": {"ansible_python_interpreter": str(link)}}
    done = play([task], verbosity=3)
    assert "AnsiballZ_cloudflare_access_organization_info" in done.stdout
    assert "Failed to import the required Python library (requests)" in done.task("read")["msg"]
    assert not api.cloudflare.requests()


def test_the_login_method_list_is_read_once_for_several_applications(api, play):
    account = api.info["account_id"]
    for index in range(30):  # unrelated login methods: two pages of 20
        assert api.cloudflare.call("POST", "/accounts/%s/access/identity_providers" % account, json={
            "name": "Unrelated %02d" % index, "type": "oidc", "config": {
                "client_id": "c%d" % index, "client_secret": "s%d" % index, "auth_url": "https://idp.example.com/auth",
                "token_url": "https://idp.example.com/token", "certs_url": "https://idp.example.com/certs"}}).ok
    loop = {"name": "Each application", "ansible.builtin.include_role": {"name": ROLE},
            "loop": ["Listed A", "Listed B", "Listed C"], "loop_control": {"loop_var": "app"},
            # the leaver check reads the Access applications on its own (test_offboarding.py): off here
            "vars": {"cloudflare_access_name": "{{ app }}", "cloudflare_access_verify": False,
                     "cloudflare_access_revoke_leavers": False}}
    assert play([loop]).rc == 0
    clear(api)
    done = play([loop])
    assert done.rc == 0 and done.changed == 0, done.output
    idp_path = "/client/v4/accounts/%s/access/identity_providers" % account
    lists = [r for r in api.cloudflare.requests() if r["method"] == "GET" and r["path"] == idp_path]
    by_id = [r for r in api.cloudflare.requests() if r["method"] == "GET" and r["path"].startswith(idp_path + "/")]
    assert len(lists) == 2, lists  # the first application lists both pages; the others read their own by id
    assert len(by_id) == 2, by_id
    # cloudflare_access_applications is not given: the Access applications and policies are not read at all
    access_lists = [r for r in api.cloudflare.requests() if r["method"] == "GET"
                    and r["path"].startswith(("/client/v4/accounts/%s/access/policies" % account,
                                              "/client/v4/accounts/%s/access/apps" % account))]
    assert access_lists == [], access_lists
    assert not api.cloudflare.writes() and not api.authentik.writes()
    # a known id that is gone: the next run lists again and finds the login method by name
    ids = done.task("Remember the results")["ansible_facts"]["cloudflare_access_login_method_ids"]
    assert {"authentik (Listed A)", "authentik (Listed B)", "authentik (Listed C)"} <= set(ids)
    stale = {"name": "stale", FQCN + "cloudflare_access_identity_provider_info": {"name": "authentik (Listed B)"}}
    lookup = {"name": "lookup", FQCN + "cloudflare_access_identity_provider": {
        "name": "authentik (Listed B)", "state": "absent", "known_ids": {"authentik (Listed B)": "0" * 8 + "-0000-4000-8000-" + "0" * 12}},
        "check_mode": True}
    checked = play([stale, lookup])
    assert checked.rc == 0, checked.output
    assert checked.task("lookup")["changed"] is True  # found by name after the unknown id


def test_async_runs_the_module_as_a_module(api, play):
    task = {"name": "create", FQCN + "authentik_provider_oauth2": {
        "name": "Async Provider", "redirect_uris": ["https://t.example.com/cb"]}, "async": 60, "poll": 1}
    done = play([task], vars={"idpbridge_on_controller": True}, verbosity=3)
    assert done.rc == 0, done.output
    assert "AnsiballZ_authentik_provider_oauth2" in done.stdout and done.task("create")["changed"] is True
    clear(api)
    again = play([task], vars={"idpbridge_on_controller": True})
    assert again.rc == 0 and again.changed == 0, again.output
    assert not api.authentik.writes()


def test_delegation_to_localhost_runs_in_the_worker(api, play, tmp_path):
    # a play on a host that cannot be reached: the task delegated to localhost runs there (in the worker process)
    remote = tmp_path / "remote.ini"
    remote.write_text("far-away ansible_host=192.0.2.1 ansible_connection=ssh ansible_python_interpreter=/usr/bin/python3\n")
    book = tmp_path / "delegated.yml"
    book.write_text(yaml.safe_dump([{"name": "delegated", "hosts": "far-away", "gather_facts": False, "tasks": [
        {"name": "read", FQCN + "cloudflare_access_organization_info": {}, "delegate_to": "localhost"}]}]))
    done = play(playbook=book, args=["-i", str(remote)], verbosity=3, vars={"idpbridge_on_controller": True})
    assert done.rc == 0, done.output
    assert "AnsiballZ_" not in done.stdout and done.task("read")["organization"]
    assert api.cloudflare.requests()


DEPRECATING_MODULE = '''#!/usr/bin/python
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(
        name=dict(type="str", aliases=["old_name"],
                  deprecated_aliases=[dict(name="old_name", version="9.0.0", collection_name="idpbtest.probe")]),
    ), supports_check_mode=True)
    module.warn("a warning of the test module")
    module.deprecate("the test module itself is deprecated", version="9.0.0", collection_name="idpbtest.probe")
    module.exit_json(changed=False, name=module.params["name"])


if __name__ == "__main__":
    main()
'''
DEPRECATING_ACTION = '''from __future__ import annotations

from ansible_collections.idpbridge.authentik_cloudflare.plugins.plugin_utils._on_controller import make_action

ActionModule = make_action("deprecating", "idpbtest.probe")
'''


def test_deprecations_and_warnings_reach_the_user_on_both_paths(play, tmp_path, request):
    # a module of a test collection with this collection's action plugin: its deprecated alias, its own deprecation
    # and its warning show the same in the worker process and as a module process, on every ansible-core
    root = tmp_path / "probe-collections"
    plugins = root / "ansible_collections" / "idpbtest" / "probe" / "plugins"
    (plugins / "modules").mkdir(parents=True)
    (plugins / "action").mkdir()
    (plugins / "modules" / "deprecating.py").write_text(DEPRECATING_MODULE)
    (plugins / "action" / "deprecating.py").write_text(DEPRECATING_ACTION)
    (root / "ansible_collections" / "idpbtest" / "probe" / "galaxy.yml").write_text(
        "namespace: idpbtest\nname: probe\nversion: 1.0.0\nreadme: README.md\nauthors: [tests]\n")
    collections = os.pathsep.join((str(root), str(_collections_root(request))))
    seen = {}
    for switch in (True, False):
        done = play([{"name": "deprecating", "idpbtest.probe.deprecating": {"old_name": "x"}}], verbosity=3,
                    vars={"idpbridge_on_controller": switch}, allow_deprecations=True,
                    env={"ANSIBLE_COLLECTIONS_PATH": collections})
        assert done.rc == 0, done.output
        assert ("AnsiballZ_deprecating" in done.stdout) is not switch, done.stdout
        assert done.task("deprecating")["name"] == "x"
        seen[switch] = done.output
    for output in seen.values():
        assert "Alias 'old_name' is deprecated" in output
        assert "the test module itself is deprecated" in output
        assert "a warning of the test module" in output


def _collections_root(request):
    """tests/integration/conftest.py's COLLECTIONS_ROOT, as pytest loaded it (``import conftest`` may be another)."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conftest.py")
    for plugin in request.config.pluginmanager.get_plugins():
        if os.path.abspath(getattr(plugin, "__file__", None) or "") == here:
            return plugin.COLLECTIONS_ROOT
    raise AssertionError("tests/integration/conftest.py is not loaded")
