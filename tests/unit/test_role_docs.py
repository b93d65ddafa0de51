"""The role's README documents exactly the variables of meta/argument_specs.yml, and its defaults agree."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "cloudflare_access"


def _tool():
    spec = importlib.util.spec_from_file_location("role_variables", ROOT / "tools" / "role_variables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _options():
    return yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]


def test_readme_table_is_generated_from_the_argument_spec():
    tool = _tool()
    readme = (ROLE / "README.md").read_text()
    block = re.search(re.escape(tool.BEGIN) + r"\n(.*?)\n" + re.escape(tool.END), readme, re.S)
    assert block, "the role README lacks the generated variable table"
    assert block.group(1) == tool.table(), "run: python tools/role_variables.py --write"


def test_every_variable_is_prefixed_documented_and_has_a_default():
    options = _options()
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert all(name.startswith("cloudflare_access_") for name in options)
    assert all(name.startswith("cloudflare_access_") for name in defaults)
    # every default is a documented option
    assert set(defaults) <= set(options)
    # a literal default in defaults/main.yml equals the one in the argument spec
    for name, value in defaults.items():
        if "default" in options[name] and not (isinstance(value, str) and "{{" in value):
            assert options[name]["default"] == value, name
    for name, option in options.items():
        assert option.get("description"), name
        assert option.get("type"), name


def test_secrets_are_no_log():
    options = _options()
    for name in ("cloudflare_access_authentik_token", "cloudflare_access_cloudflare_api_token",
                 "cloudflare_access_client_secret", "cloudflare_access_test_password"):
        assert options[name].get("no_log") is True, name


def _walk_tasks(tasks):
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        yield task
        for key in ("block", "rescue", "always"):
            yield from _walk_tasks(task.get(key))


def _names_the_role_gives():
    """(registered names, other cloudflare_access_* names) the role's task files and vars/main.yml define."""
    registered, others = set(), set(yaml.safe_load((ROLE / "vars" / "main.yml").read_text()))
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in _walk_tasks(yaml.safe_load(path.read_text())):
            if str(task.get("register", "")).startswith("cloudflare_access_"):
                registered.add(task["register"])
            facts = task.get("ansible.builtin.set_fact") or {}
            others.update(name for name in facts if name.startswith("cloudflare_access_"))
            others.update(name for name in task.get("vars") or {} if name.startswith("cloudflare_access_"))
    return registered, others


def test_the_typo_check_knows_every_name_the_role_gives_itself():
    """tasks/preflight.yml fails on any cloudflare_access_* variable that is neither an option nor one of these lists."""
    internal = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    results, variables = set(internal["cloudflare_access_internal_results"]), set(internal["cloudflare_access_internal_variables"])
    registered, others = _names_the_role_gives()
    options = set(_options())
    assert registered <= results, "add to cloudflare_access_internal_results: %s" % sorted(registered - results)
    assert others - options <= variables, "add to cloudflare_access_internal_variables: %s" % sorted(others - options - variables)
    # no stale entries, and no option hidden among them
    assert results <= registered, sorted(results - registered)
    assert not (results | variables) & options
    # what the collection's playbook hands to later jobs of a workflow comes back as extra variables
    for playbook in (ROOT / "playbooks").glob("*.yml"):
        for play in yaml.safe_load(playbook.read_text()):
            for task in _walk_tasks(play.get("tasks")):
                data = (task.get("ansible.builtin.set_stats") or {}).get("data") or {}
                assert set(data) <= variables | options, playbook.name
