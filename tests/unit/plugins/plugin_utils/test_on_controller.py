"""The in-worker path (plugins/plugin_utils/_on_controller.py, _core_probe.py): the probe of the ansible-core
internals it needs, the stand-in for AnsibleModule (validation, warnings, deprecations, no_log masking) and the
fall-back to a module process when anything fails before the module's own code runs. Runs on every ansible-core
of the test matrix, so a core that changes an internal shows here first."""

from __future__ import annotations

import os
import types
from unittest import mock

import pytest

from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible_collections.idpbridge.authentik_cloudflare.plugins.plugin_utils import _core_probe, _on_controller

SECRET = "unit-secret-value-0123"
COLLECTION = "idpbridge.authentik_cloudflare"


def fake_module(spec, body=None, **kwargs):
    """A module object with ``AnsibleModule`` and ``main()``, as run_module_here expects."""
    holder = types.SimpleNamespace(AnsibleModule=object)

    def main():
        module = holder.AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)
        if body:
            body(module)
        module.exit_json(changed=False, echo=dict(module.params))

    holder.main = main
    return holder


def run(module, args, **overrides):
    settings = dict(check_mode=False, diff=False, no_log=False, inject_invocation=False, environment={})
    settings.update(overrides)
    return _on_controller.run_module_here(module, "ns.coll.fake", args, **settings)


def test_the_probe_finds_everything_on_this_core():
    assert _core_probe.PROBLEM is None
    assert _core_probe._probe() is None


def test_macos_always_runs_modules_as_processes(monkeypatch):
    monkeypatch.setattr(_core_probe.sys, "platform", "darwin")
    assert "macOS" in _core_probe._probe()


def test_a_validator_that_changed_turns_the_in_worker_path_off(monkeypatch):
    real = _core_probe.ArgumentSpecValidator

    class Changed(real):
        def validate(self, parameters, *args, **kwargs):
            result = super(Changed, self).validate(parameters, *args, **kwargs)
            del result._deprecations  # an internal renamed by a future core
            return result

    monkeypatch.setattr(_core_probe, "ArgumentSpecValidator", Changed)
    assert "argument validation" in _core_probe._probe() and "AttributeError" in _core_probe._probe()

    class Quiet(real):
        def validate(self, parameters, *args, **kwargs):
            result = super(Quiet, self).validate(parameters, *args, **kwargs)
            result._no_log_values = set()
            return result

    monkeypatch.setattr(_core_probe, "ArgumentSpecValidator", Quiet)
    assert _core_probe._probe() == "this ansible-core differs in: no_log values"


def test_a_changed_environment_helper_turns_the_in_worker_path_off(monkeypatch):
    monkeypatch.setattr(_core_probe.ActionBase, "_compute_environment_string", lambda self: "")
    assert "_compute_environment_string" in _core_probe._probe()


def test_deprecations_and_warnings_of_validation_and_module_reach_the_result():
    spec = {"name": {"type": "str", "aliases": ["old_name"],
                     "deprecated_aliases": [{"name": "old_name", "version": "3.0.0", "collection_name": COLLECTION}]},
            "legacy": {"type": "str", "removed_in_version": "3.0.0", "removed_from_collection": COLLECTION},
            "other": {"type": "str", "aliases": ["other_alias"]}}

    def body(module):
        module.warn("a warning of the module")
        module.deprecate("a deprecation of the module", version="4.0.0", collection_name=COLLECTION)

    result = run(fake_module(spec, body), {"old_name": "n", "legacy": "x", "other": "o", "other_alias": "o"})
    assert result["echo"]["name"] == "n"
    messages = [d["msg"] for d in result["deprecations"]]
    assert any("old_name" in m for m in messages) and any("legacy" in m for m in messages)
    assert {"msg": "a deprecation of the module", "version": "4.0.0", "date": None,
            "collection_name": COLLECTION} in result["deprecations"]
    assert all(d["collection_name"] == COLLECTION for d in result["deprecations"])
    assert result["warnings"] == ["Both option other and its alias other_alias are set.", "a warning of the module"]


def test_no_log_values_are_masked_and_handed_to_the_controller(monkeypatch):
    registered = []
    monkeypatch.setattr(_core_probe, "_register_secrets", registered.extend)
    spec = {"token": {"type": "str", "no_log": True}, "note": {"type": "str"}}
    result = run(fake_module(spec), {"token": SECRET, "note": "says %s" % SECRET}, inject_invocation=True)
    assert SECRET not in repr(result)
    assert result["echo"] == {"token": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "note": "says ********"}
    assert result["invocation"]["module_args"]["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert registered == [SECRET]


def test_mask_values_cleans_as_remove_values_did():
    data = {"a": SECRET, "b": ["x%sy" % SECRET, 1, True, None], "c": {"d": 12345, "e": {SECRET: "k"}}, "f": 3.5}
    masked = _core_probe.mask_values(data, {SECRET, "12345", ""})
    assert masked == {"a": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "b": ["x********y", 1, True, None],
                      "c": {"d": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "e": {SECRET: "k"}}, "f": 3.5}
    assert _core_probe.mask_values(data, set()) is data
    try:  # the oracle, where ansible-core still has it without deprecating it (up to 2.21)
        from ansible.module_utils.common.parameters import remove_values
        from ansible.release import __version__
    except ImportError:
        return
    if tuple(int(p) for p in __version__.split(".")[:2]) < (2, 22):
        assert remove_values(data, {SECRET, "12345"}) == masked


def test_validation_errors_fail_like_ansible_module():
    result = run(fake_module({"name": {"type": "str"}}), {"nope": 1})
    assert result["failed"] and result["msg"].startswith("Unsupported parameters for (ns.coll.fake) module: nope")
    result = run(fake_module({"name": {"type": "str", "required": True}}), {})
    assert result["failed"] and result["msg"] == "missing required arguments: name"


def test_an_unexpected_failure_before_the_module_runs_is_not_here(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("internal")

    monkeypatch.setattr(_core_probe, "validate", broken)
    module = fake_module({"name": {"type": "str"}})
    factory = module.AnsibleModule
    with mock.patch.dict(os.environ, {}, clear=False):
        with pytest.raises(_on_controller.NotHere) as info:
            run(module, {"name": "x"}, environment={"IDPB_UNIT_ENV": "1"})
        assert "IDPB_UNIT_ENV" not in os.environ
    assert "KeyError" in info.value.why
    assert module.AnsibleModule is factory and _on_controller.ControllerModule.context is None


def test_an_error_of_the_module_itself_stays_a_task_failure():
    def body(module):
        raise ValueError("broken with %s" % SECRET)

    result = run(fake_module({"api_token": {"type": "str", "no_log": True}}, body), {"api_token": SECRET})
    assert result["failed"] and "ValueError" in result["msg"] and SECRET not in repr(result)


def action(cls):
    task = mock.MagicMock(action="idpbridge.authentik_cloudflare.authentik_application", args={}, async_val=0,
                          delegate_to=None, check_mode=False, diff=False, no_log=False)
    task._role = None
    return cls(task=task, connection=mock.MagicMock(), play_context=mock.MagicMock(become=False), loader=None,
               templar=mock.MagicMock(), shared_loader_obj=None)


@pytest.fixture
def cls(monkeypatch):
    told = []
    monkeypatch.setattr(_on_controller.display, "v", lambda msg, *a, **k: told.append(msg))
    monkeypatch.setattr(NormalAction, "run", lambda self, tmp=None, task_vars=None: {"ran": "as a module"})
    action_class = _on_controller.make_action("authentik_application")
    action_class.told = told
    return action_class


def test_a_failure_while_deciding_runs_the_task_as_a_module(cls, monkeypatch):
    monkeypatch.setattr(cls, "_here", lambda self, task_vars: 1 / 0)
    assert action(cls).run(task_vars={}) == {"ran": "as a module"}
    assert cls.told == ["idpbridge.authentik_cloudflare.authentik_application runs as a module process: "
                        "deciding where to run it failed unexpectedly (ZeroDivisionError)"]


def test_a_failure_while_preparing_runs_the_task_as_a_module(cls, monkeypatch):
    monkeypatch.setattr(cls, "_here", lambda self, task_vars: True)
    monkeypatch.setattr(_core_probe, "args_encoder", lambda: 1 / 0)
    assert action(cls).run(task_vars={}) == {"ran": "as a module"}
    assert len(cls.told) == 1 and "preparing the run in the worker process failed" in cls.told[0]


def test_a_probe_problem_runs_every_task_as_a_module_and_says_so_once(cls, monkeypatch):
    monkeypatch.setattr(_core_probe, "PROBLEM", "this ansible-core differs in: warnings")
    monkeypatch.setattr(_on_controller, "_TOLD", [])
    _on_controller.make_action("authentik_application")
    _on_controller.make_action("authentik_provider_oauth2")
    assert cls.told == ["idpbridge.authentik_cloudflare: every module runs as a module process on this controller: "
                        "this ansible-core differs in: warnings"]
    one = action(cls)
    assert one._here({"idpbridge_on_controller": True}) is False
    assert one.run(task_vars={}) == {"ran": "as a module"}
