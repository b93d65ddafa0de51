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
