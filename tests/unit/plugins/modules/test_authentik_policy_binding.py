"""authentik_policy_binding: identities, wanted items, option checks, docs."""

from __future__ import annotations

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.plugins.modules.authentik_module_support import (
    check_docs_match_spec, fragment_options, load, run_main, runtime_group,
)

mod = load("authentik_policy_binding")


def test_docs_match_the_argument_spec_and_the_action_group():
    doc = check_docs_match_spec("authentik_policy_binding", fragment_options())
    assert set(doc["options"]["bindings"]["suboptions"]) == {"group", "user", "policy", "order", "enabled", "negate",
                                                             "policy_timeout", "failure_result", "state"}
    assert "timeout" not in doc["options"], "timeout stays the shared HTTP timeout of the doc fragment"
    assert "authentik_policy_binding" in runtime_group("authentik")


def test_binding_identity_and_names():
    group = {"pk": "b1", "group": "g-uuid", "user": None, "policy": None, "group_obj": {"name": "admins"}}
    user = {"pk": "b2", "group": None, "user": 4, "policy": None, "user_obj": {"username": "alice"}}
    policy = {"pk": "b3", "group": None, "user": None, "policy": "p-uuid", "policy_obj": {"name": "deny"}}
    assert mod.binding_identity(group) == ("group", "g-uuid")
    assert mod.binding_identity(user) == ("user", "4")
    assert mod.binding_identity(policy) == ("policy", "p-uuid")
    assert mod.binding_identity({"pk": "b4"}) == (None, "b4")
    assert [mod.binding_subject_name(b) for b in (group, user, policy)] == ["admins", "alice", "deny"]
    assert mod.binding_subject_name({"pk": "b4"}) is None


def test_normalize_binding_keeps_the_compared_attributes():
    obj = {"pk": "b", "order": 1, "enabled": True, "negate": False, "timeout": 30, "failure_result": False,
           "expires": None, "target": "t"}
    assert mod.normalize_binding(obj) == {"order": 1, "enabled": True, "negate": False, "timeout": 30,
                                          "failure_result": False}


def test_wanted_items_single_and_list_forms():
    single = {"group": "admins", "user": None, "policy": None, "order": 10, "enabled": None, "negate": None,
              "policy_timeout": None, "timeout": 30, "failure_result": None, "bindings": None, "state": "present"}
    assert mod.wanted_items(single) == [("group", "admins", "present", {"order": 10})]
    listed = {"bindings": [{"user": "alice", "group": None, "policy": None, "order": None, "enabled": False,
                            "negate": None, "policy_timeout": None, "failure_result": None, "state": None},
                           {"policy": "deny", "group": None, "user": None, "order": 3, "enabled": None, "negate": True,
                            "policy_timeout": 0, "failure_result": None, "state": "absent"}],
              "state": "present"}
    assert mod.wanted_items(listed) == [("user", "alice", "present", {"enabled": False}),
                                        ("policy", "deny", "absent", {"order": 3, "negate": True, "timeout": 0})]
    with pytest.raises(ValueError, match="bindings\\[0\\] must name exactly one"):
        mod.wanted_items({"bindings": [{"group": None, "user": None, "policy": None}], "state": "present"})


@pytest.mark.parametrize("items, message", [
    ([("group", "", "present", {})], "must not be empty"),
    ([("group", "g", "present", {"timeout": -1})], "policy_timeout of the group 'g' must be 0 or more"),
    ([("user", "u", "present", {"order": 2 ** 31})], "order of the user 'u' must be between"),
])
def test_check_attributes(items, message):
    with pytest.raises(ValueError) as info:
        mod.check_attributes(items)
    assert message in str(info.value)


def test_purge_bindings_needs_the_list_form(capsys):
    out = run_main(mod, {"url": "http://127.0.0.1:9", "token": "t0ken-123456", "application": "a", "group": "g",
                         "purge_bindings": True}, capsys)
    assert out["failed"] is True and out["msg"] == "purge_bindings needs the list form: give the bindings option"


def test_list_form_rejects_top_level_attributes(capsys):
    out = run_main(mod, {"url": "http://127.0.0.1:9", "token": "t0ken-123456", "application": "a",
                         "bindings": [{"group": "g"}], "order": 1}, capsys)
    assert out["failed"] is True and "mutually exclusive" in out["msg"]
