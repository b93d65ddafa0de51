"""Helpers for the authentik module unit tests: module docs, argument specs, running main()."""

from __future__ import annotations

import contextlib
import importlib
import json
from pathlib import Path

import yaml

from ansible.module_utils import basic

PREFIX = "ansible_collections.idpbridge.authentik_cloudflare.plugins.modules."
ROOT = Path(__file__).resolve().parents[4]


def load(name):
    return importlib.import_module(PREFIX + name)


def docs(module):
    return (yaml.safe_load(module.DOCUMENTATION), yaml.safe_load(module.EXAMPLES), yaml.safe_load(module.RETURN))


class Captured(Exception):
    def __init__(self, spec, kwargs):
        super(Captured, self).__init__("captured")
        self.spec = spec
        self.kwargs = kwargs


def argument_spec(module):
    """The argument spec main() builds, captured before anything runs."""
    original = module.AnsibleModule

    def capture(**kwargs):
        raise Captured(kwargs["argument_spec"], kwargs)
    module.AnsibleModule = capture
    try:
        module.main()
    except Captured as captured:
        return captured.spec, captured.kwargs
    finally:
        module.AnsibleModule = original
    raise AssertionError("main() did not build an AnsibleModule")


@contextlib.contextmanager
def module_args(args):
    """Module arguments for AnsibleModule (patch_module_args on ansible-core >= 2.19, else the old way)."""
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:
        patch_module_args = None
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    old = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = old


def run_main(module, args, capsys):
    """Run main() with ``args``; return the JSON it printed (it always exits)."""
    with module_args(args):
        try:
            module.main()
        except SystemExit:
            pass
    out = capsys.readouterr().out
    return json.loads(out)


def option_names(doc_options):
    return set(doc_options)


def check_docs_match_spec(name, fragments_options):
    """Documented options (with fragments) equal the argument spec, and types/defaults/choices agree."""
    module = load(name)
    doc, examples, returns = docs(module)
    assert doc["module"] == name
    assert examples and isinstance(examples, list)
    assert isinstance(returns, dict) and returns
    spec, _kwargs = argument_spec(module)
    clash = set(doc["options"]) & set(fragments_options)
    assert not clash, "module options that override the shared connection options: %s" % sorted(clash)
    documented = dict(doc["options"])
    documented.update(fragments_options)
    assert set(documented) == set(spec), (set(documented) ^ set(spec))
    for key, option in spec.items():
        want = documented[key]
        assert want.get("type", "str") == option.get("type", "str"), key
        if "default" in option and option["default"] is not None:
            assert want.get("default") == option["default"], key
        if option.get("choices"):
            assert sorted(want.get("choices")) == sorted(option["choices"]), key
        if option.get("elements"):
            assert want.get("elements") == option["elements"], key
    return doc


def fragment_options():
    from ansible_collections.idpbridge.authentik_cloudflare.plugins.doc_fragments._authentik import ModuleDocFragment
    return yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]


def runtime_group(group):
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    return runtime["action_groups"][group]
