"""The find -> compare -> write engine: sanitising, comparing, merging, ensure() and ensure_set()."""

from __future__ import annotations

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _engine as engine
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed, Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import (
    CHANGED_MASK, ManagedObject, differences, ensure, merge, sanitize,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine_set import ManagedSet, ensure_set
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import MASK
from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.fake_module import FakeModule


# ---- sanitize -------------------------------------------------------------------------------

def test_sanitize_masks_secret_keys_at_any_depth():
    obj = {"client_secret": "s3cr3t-value", "nested": {"client_secret": "x" * 40, "keep": 1},
           "items": [{"client_secret": "abc123"}, {"other": "fine"}]}
    out = sanitize(obj, {"client_secret"})
    assert out == {"client_secret": MASK, "nested": {"client_secret": MASK, "keep": 1},
                   "items": [{"client_secret": MASK}, {"other": "fine"}]}
    assert obj["client_secret"] == "s3cr3t-value", "the input is not modified"


def test_sanitize_leaves_empty_values_and_existing_masks():
    out = sanitize({"client_secret": None, "a": {"client_secret": ""}, "b": {"client_secret": CHANGED_MASK}},
                   {"client_secret"})
    assert out == {"client_secret": None, "a": {"client_secret": ""}, "b": {"client_secret": CHANGED_MASK}}


def test_sanitize_returns_copies():
    inner = {"list": [1, 2]}
    out = sanitize({"x": inner}, set())
    out["x"]["list"].append(3)
    assert inner == {"list": [1, 2]}


# ---- differences / merge ----------------------------------------------------------------------

def test_differences_reports_only_differing_wanted_keys():
    current = {"a": 1, "b": [1, 2], "c": "x", "server_only": True}
    assert differences(current, {"a": 1, "b": [1, 2]}) == {}
    assert differences(current, {"a": 2, "b": [2, 1], "c": "x"}) == {"a": 2, "b": [2, 1]}
    assert differences(current, {"missing": None}) == {}
    assert differences(current, {"missing": 0}) == {"missing": 0}


def test_differences_compares_nested_dicts_on_the_wanted_keys_only():
    current = {"config": {"client_id": "abc", "added_by_server": 1}}
    assert differences(current, {"config": {"client_id": "abc"}}) == {}
    assert differences(current, {"config": {"client_id": "new"}}) == {"config": {"client_id": "new"}}
    assert differences({"config": None}, {"config": {"a": 1}}) == {"config": {"a": 1}}


def test_merge_updates_nested_dicts_key_by_key_without_touching_the_inputs():
    base = {"a": 1, "config": {"x": 1, "y": 2}, "list": [1]}
    changes = {"config": {"y": 3}, "list": [2], "new": "n"}
    out = merge(base, changes)
    assert out == {"a": 1, "config": {"x": 1, "y": 3}, "list": [2], "new": "n"}
    assert base == {"a": 1, "config": {"x": 1, "y": 2}, "list": [1]}
    assert merge(None, {"a": 1}) == {"a": 1}


# ---- ensure() with a fake module and resource ------------------------------------------------

class Thing(ManagedObject):
    """An object with a name, a size, a tag list (order-free) and a secret."""

    kind = "thing"
    secret_keys = frozenset(("secret",))

    def __init__(self, module, stored=None):
        super(Thing, self).__init__(module, client=None)
        self.stored = stored
        self.writes = []

    def label(self):
        return "thing %r" % self.params["name"]

    def find(self):
        return dict(self.stored) if self.stored is not None else None

    def normalize(self, obj):
        return {"name": obj["name"], "size": obj.get("size"), "tags": sorted(obj.get("tags") or []),
                "secret": obj.get("secret")}

    def desired(self, current):
        p = self.params
        want = {"name": p["name"]}
        for key in ("size", "secret"):
            if p.get(key) is not None:
                want[key] = p[key]
        if p.get("tags") is not None:
            want["tags"] = sorted(p["tags"])
        if p.get("missing_ref"):
            raise LookupFailed("No group is named %r" % p["missing_ref"])
        return want

    def defaults(self):
        return {"id": None, "size": 1, "tags": [], "secret": None}

    def create(self, desired):
        self.writes.append(("create", dict(desired)))
        self.stored = dict(self.defaults(), id=7, secret="generated-secret-value", **desired)
        return dict(self.stored)

    def update(self, current, changes, desired):
        self.writes.append(("update", dict(changes)))
        self.stored = merge(current, changes)
        return dict(self.stored)

    def delete(self, current):
        self.writes.append(("delete", current["id"]))
        self.stored = None

    def derived(self, obj):
        return {"link": "https://things.example/%s" % obj.get("id")}


STORED = {"id": 7, "name": "a", "size": 2, "tags": ["y", "x"], "secret": "old-secret-value"}


@pytest.mark.parametrize("check", [False, True])
def test_ensure_creates_and_predicts_in_check_mode(check):
    module = FakeModule({"name": "a", "size": 3}, check_mode=check, diff=True)
    thing = Thing(module)
    result = ensure(module, thing)
    assert result["changed"] is True
    assert result["existing"] == {}
    assert result["msg"] == "thing 'a' %s" % ("would be created" if check else "created")
    assert result["diff"] == {"before": {}, "after": {"id": None, "name": "a", "size": 3, "tags": [], "secret": None}}
    # the result contract: the object once (end_state), derived values beside it, nothing else
    assert set(result) == {"changed", "msg", "existing", "end_state", "changes", "diff", "link"}
    if check:
        assert thing.writes == []
        assert result["end_state"]["id"] is None and result["link"] == "https://things.example/None"
        assert result["end_state"]["size"] == 3
    else:
        assert thing.writes == [("create", {"name": "a", "size": 3})]
        assert result["end_state"]["id"] == 7 and result["link"] == "https://things.example/7"
        assert result["end_state"]["secret"] == MASK, "a server-generated secret is masked in the result"


def test_ensure_rerun_without_differences_writes_nothing():
    module = FakeModule({"name": "a", "size": 2, "tags": ["x", "y"]}, diff=True)
    thing = Thing(module, STORED)
    result = ensure(module, thing)
    assert result["changed"] is False
    assert thing.writes == []
    assert result["changes"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["end_state"]["secret"] == MASK and result["existing"]["secret"] == MASK


@pytest.mark.parametrize("check", [False, True])
def test_ensure_updates_only_the_differing_keys(check):
    module = FakeModule({"name": "a", "size": 5, "tags": ["y", "x"]}, check_mode=check, diff=True)
    thing = Thing(module, STORED)
    result = ensure(module, thing)
    assert result["changed"] is True
    assert result["changes"] == ["size"]
    assert thing.writes == ([] if check else [("update", {"size": 5})])
    assert result["end_state"]["size"] == 5
    assert result["diff"]["before"]["size"] == 2 and result["diff"]["after"]["size"] == 5
    assert result["msg"].endswith("(size)")


def test_ensure_diff_is_identical_in_check_mode_and_real_run():
    diffs = []
    for check in (True, False):
        module = FakeModule({"name": "a", "size": 9, "secret": "new-secret-value"}, check_mode=check, diff=True)
        diffs.append(ensure(module, Thing(module, STORED))["diff"])
    assert diffs[0] == diffs[1]
    assert diffs[0]["before"]["secret"] == MASK
    assert diffs[0]["after"]["secret"] == CHANGED_MASK
    assert "new-secret-value" not in repr(diffs) and "old-secret-value" not in repr(diffs)


def test_ensure_without_diff_mode_returns_no_diff():
    module = FakeModule({"name": "a", "size": 9})
    assert "diff" not in ensure(module, Thing(module, STORED))


@pytest.mark.parametrize("check", [False, True])
def test_ensure_absent_deletes_once_and_is_then_ok(check):
    module = FakeModule({"name": "a"}, check_mode=check, diff=True)
    thing = Thing(module, STORED)
    result = ensure(module, thing, state="absent")
    assert result["changed"] is True
    assert result["diff"]["after"] == {} and result["diff"]["before"]["secret"] == MASK
    assert thing.writes == ([] if check else [("delete", 7)])
    if not check:
        again = ensure(module, thing, state="absent")
        assert again["changed"] is False and again["msg"] == "thing 'a' is already absent"
        assert thing.writes == [("delete", 7)]


def test_ensure_lets_lookup_errors_through_before_any_write():
    module = FakeModule({"name": "a", "missing_ref": "admins"})
    thing = Thing(module, STORED)
    with pytest.raises(LookupFailed, match="admins"):
        ensure(module, thing)
    assert thing.writes == []


def test_run_turns_errors_into_one_failure():
    module = FakeModule({"name": "a", "missing_ref": "admins", "state": "present"})
    with pytest.raises(SystemExit) as info:
        engine.run(module, lambda: Thing(module, STORED))
    kind, kwargs = info.value.args[0]
    assert kind == "fail" and "admins" in kwargs["msg"]

    def broken():
        raise ApiError("Could not do it: GET /x returned HTTP 400: name: bad", status=400, codes=[7])
    with pytest.raises(SystemExit) as info:
        engine.run(module, broken)
    kind, kwargs = info.value.args[0]
    assert kind == "fail" and kwargs["status"] == 400 and kwargs["api_error_codes"] == [7]


def test_run_adds_extra_results():
    module = FakeModule({"name": "a", "size": 2, "state": "present"})
    with pytest.raises(SystemExit) as info:
        engine.run(module, lambda: Thing(module, STORED), extra=lambda res, result: {"extra": result["changed"]})
    kind, kwargs = info.value.args[0]
    assert kind == "exit" and kwargs["extra"] is False


# ---- ensure_set() ----------------------------------------------------------------------------

class Members(ManagedSet):
    """Members identified by their subject, with a rank and a flag."""

    kind = "member"

    def __init__(self, module, stored, wanted):
        super(Members, self).__init__(module, client=None)
        self.stored = [dict(m) for m in stored]
        self._wanted = wanted
        self.writes = []
        self.counter = 100

    def label(self):
        return "the members of x"

    def find_all(self):
        return [dict(m) for m in self.stored]

    def identity(self, obj):
        return obj["subject"]

    def describe(self, identity):
        return "subject %r" % identity

    def wanted(self):
        return self._wanted

    def normalize(self, obj):
        return {"rank": obj.get("rank"), "flag": obj.get("flag")}

    def defaults(self, identity):
        return {"pk": None, "subject": identity, "rank": 0, "flag": False}

    def create(self, identity, desired):
        self.counter += 1
        obj = merge(self.defaults(identity), desired)
        obj["pk"] = self.counter
        self.writes.append(("create", identity, dict(desired)))
        self.stored.append(obj)
        return obj

    def update(self, current, changes, desired):
        self.writes.append(("update", current["pk"], dict(changes)))
        for member in self.stored:
            if member["pk"] == current["pk"]:
                member.update(changes)
                return dict(member)

    def delete(self, current):
        self.writes.append(("delete", current["pk"]))
        self.stored = [m for m in self.stored if m["pk"] != current["pk"]]


MEMBERS = [
    {"pk": 1, "subject": "a", "rank": 10, "flag": False},
    {"pk": 2, "subject": "b", "rank": 20, "flag": False},
]


def test_ensure_set_without_differences_writes_nothing():
    module = FakeModule(diff=True)
    members = Members(module, MEMBERS, [("a", "present", {"rank": 10}), ("b", "present", {})])
    result = ensure_set(module, members)
    assert result["changed"] is False and members.writes == []
    assert [a["action"] for a in result["actions"]] == ["none", "none"]
    assert result["diff"] == {"before": {}, "after": {}}
    assert result["msg"] == "the members of x are up to date"


@pytest.mark.parametrize("check", [False, True])
def test_ensure_set_creates_updates_deletes(check):
    module = FakeModule(check_mode=check, diff=True)
    members = Members(module, MEMBERS, [("a", "present", {"rank": 15}), ("b", "absent", {}),
                                        ("c", "present", {"flag": True})])
    result = ensure_set(module, members)
    assert result["changed"] is True
    assert [(a["item"], a["action"], a["changes"]) for a in result["actions"]] == [
        ("subject 'a'", "update", ["rank"]), ("subject 'b'", "delete", []), ("subject 'c'", "create", ["flag"])]
    if check:
        assert members.writes == []
        assert result["msg"] == "the members of x: 1 to create, 1 to update, 1 to delete"
    else:
        # deletes first, then updates, then creates
        assert members.writes == [("delete", 2), ("update", 1, {"rank": 15}), ("create", "c", {"flag": True})]
        assert result["msg"] == "the members of x: 1 created, 1 updated, 1 deleted"
    assert [(m["subject"], m["rank"], m["flag"]) for m in result["end_state"]] == [("a", 15, False), ("c", 0, True)]
    assert result["diff"] == {
        "before": {"subject 'a'": {"rank": 10, "flag": False}, "subject 'b'": {"rank": 20, "flag": False},
                   "subject 'c'": {}},
        "after": {"subject 'a'": {"rank": 15, "flag": False}, "subject 'b'": {}, "subject 'c'": {"rank": 0, "flag": True}},
    }


def test_ensure_set_check_mode_and_real_run_agree():
    outcomes = []
    for check in (True, False):
        module = FakeModule(check_mode=check, diff=True)
        members = Members(module, MEMBERS, [("c", "present", {"rank": 5})])
        result = ensure_set(module, members, purge=True)
        outcomes.append((result["changed"], result["diff"], [(a["item"], a["action"]) for a in result["actions"]],
                         [(m["subject"], m["rank"]) for m in result["end_state"]]))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][2] == [("subject 'c'", "create"), ("subject 'a'", "delete"), ("subject 'b'", "delete")]


def test_ensure_set_purge_empty_removes_everything():
    module = FakeModule()
    members = Members(module, MEMBERS, [])
    result = ensure_set(module, members, purge=True)
    assert result["changed"] and members.writes == [("delete", 1), ("delete", 2)]
    assert result["end_state"] == []


def test_ensure_set_collapses_duplicates_keeping_the_closest():
    stored = MEMBERS + [{"pk": 3, "subject": "a", "rank": 30, "flag": True}]
    module = FakeModule(diff=True)
    members = Members(module, stored, [("a", "present", {"rank": 30, "flag": True})])
    result = ensure_set(module, members)
    assert members.writes == [("delete", 1)], "the exact match (pk 3) stays, the other copy goes"
    assert result["actions"][0]["reason"] == "duplicate of 3"
    assert "subject 'a' [1]" in result["diff"]["before"]
    again = ensure_set(module, Members(module, members.stored, [("a", "present", {"rank": 30, "flag": True})]))
    assert again["changed"] is False


def test_ensure_set_absent_removes_every_duplicate():
    stored = MEMBERS + [{"pk": 3, "subject": "a", "rank": 30, "flag": True}]
    module = FakeModule()
    members = Members(module, stored, [("a", "absent", {})])
    ensure_set(module, members)
    assert members.writes == [("delete", 1), ("delete", 3)]


def test_ensure_set_refuses_an_item_listed_twice():
    module = FakeModule()
    members = Members(module, MEMBERS, [("a", "present", {}), ("a", "present", {"rank": 1})])
    with pytest.raises(Refused, match="subject 'a' is listed more than once"):
        ensure_set(module, members)
    assert members.writes == []
