"""Pure logic of SCIM provisioning: the login method's SCIM URL and secret, the flat SCIM options, what the
SCIM provider sends per release (held against each release's stored client field set) and the scim check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _login_method, _scim, _scim_check

ROOT = Path(__file__).resolve().parents[4]


def test_scim_base_url_prefers_the_api_and_falls_back_to_the_team_domain():
    idp = {"id": "0f1e", "scim_config": {"enabled": True, "scim_base_url": "https://x.example/populations/0f1e/scim/v2"}}
    assert _login_method.scim_base_url(idp, "team.cloudflareaccess.com") == "https://x.example/populations/0f1e/scim/v2"
    idp["scim_config"].pop("scim_base_url")
    assert _login_method.scim_base_url(idp, "team.cloudflareaccess.com") == \
        "https://team.cloudflareaccess.com/populations/0f1e/scim/v2"
    assert _login_method.scim_base_url({"scim_config": {}}, None) is None


def test_a_masked_or_missing_scim_secret_is_no_secret():
    assert _login_method.fresh_scim_secret({"scim_config": {"secret": "abc"}}) == "abc"
    assert _login_method.fresh_scim_secret({"scim_config": {"secret": "*" * 34}}) is None
    assert _login_method.fresh_scim_secret({"scim_config": {}}) is None
    assert _login_method.fresh_scim_secret(None) is None


def test_flat_options_fold_into_scim_config_and_conflicts_are_refused():
    params = {"scim_enabled": True, "scim_user_deprovision": None, "scim_seat_deprovision": None,
              "scim_identity_update_behavior": "reauth", "scim_config": None, "state": "present"}
    _login_method.merge_scim_options(params)
    assert params["scim_config"] == {"enabled": True, "user_deprovision": None, "seat_deprovision": None,
                                     "identity_update_behavior": "reauth"}
    with pytest.raises(ValueError, match="not both"):
        _login_method.merge_scim_options(dict(params, scim_enabled=True))
    with pytest.raises(ValueError, match="needs scim_user_deprovision"):
        _login_method.merge_scim_options({"scim_seat_deprovision": True, "scim_user_deprovision": False, "state": "present"})


@pytest.mark.parametrize("current, desired, rotate, coming", [
    (None, {"scim_config": {"enabled": True}}, False, True),
    ({"scim_config": {"enabled": False}}, {"scim_config": {"enabled": True}}, False, True),
    ({"scim_config": {"enabled": True}}, {"scim_config": {"enabled": True}}, False, False),
    ({"scim_config": {"enabled": True}}, {}, True, True),
    ({"scim_config": {"enabled": True}}, {"scim_config": {"enabled": False}}, False, False),
])
def test_when_cloudflare_shows_a_scim_secret(current, desired, rotate, coming):
    assert _login_method.scim_secret_coming(current, desired, rotate) is coming


def _request_fields(series):
    data = json.loads((ROOT / "tests" / "servers" / "authentik" / "client_fields.json").read_text())["series"]
    entry = data[series]
    while "models" not in entry:
        entry = data[entry["same_as"]]
    return entry["models"]["SCIMProviderRequest"]


@pytest.mark.parametrize("series, key", [("2024.10", "filter_group"), ("2025.12", "filter_group"),
                                         ("2026.2", "group_filters"), ("2026.8", "group_filters")])
def test_the_group_filter_goes_out_under_the_field_of_the_release(series, key):
    fields = _request_fields(series)
    assert key in fields
    provider = _scim.ScimProvider.__new__(_scim.ScimProvider)
    provider.params = {"scim_token": None, "update_token": "on_create"}
    provider.token_readable = True
    current = {"filter_group": None} if key == "filter_group" else {"group_filters": []}
    body = provider.body({"group_filters": ["g1"]}, current)
    assert list(body) == [key] and set(body) <= set(fields)
    assert body[key] == ("g1" if key == "filter_group" else ["g1"])


@pytest.mark.parametrize("series, required", [("2024.10", True), ("2025.8", True), ("2025.10", False),
                                              ("2026.8", False)])
def test_token_required_until_2025_8(series, required):
    assert _request_fields(series)["token"]["required"] is required
    assert (tuple(int(n) for n in series.split(".")) < _scim.TOKEN_OPTIONAL_SINCE) is required


class _Fake:
    """An authentik or Cloudflare client answering from tables (for the scim check's comparison)."""

    def __init__(self, pages, gets=None):
        self.pages = pages
        self.gets = gets or {}

    def paginate(self, path, params=None, what=None, limit=None):
        return list(self.pages.get(path, []))

    def find_one(self, path, params, kind, key_text, what=None):
        return next((p for p in self.pages.get(path, []) if p.get("name") == params.get("name")), None)

    def get(self, path, params=None, what=None):
        return self.gets[path]

    def application(self, slug):
        return {"pk": "app-pk", "slug": slug, "policy_engine_mode": "any"}

    @staticmethod
    def idp_item_path(idp_id):
        return "/idps/" + idp_id


def _user(username, uid, active=True):
    return {"username": username, "uid": uid, "is_active": active}


def test_scim_check_names_missing_extra_and_inactive_users():
    ak = _Fake({
        "/providers/scim/": [{"name": "scim", "pk": 1, "assigned_backchannel_application_slug": "cf", "group_filters": []}],
        "/policies/bindings/": [{"group": "g-eng", "enabled": True, "negate": False, "policy": None, "user": None}],
        "/core/groups/": [{"pk": "g-eng", "name": "engineering"}],
    }, gets={"/core/groups/g-eng/": {"users_obj": [_user("alice", "u-a"), _user("carol", "u-c", False),
                                                   _user("dave", "u-d")]}})
    cf = _Fake({"/idps/i/scim/users": [{"externalId": "u-a", "active": False, "displayName": "Alice"},
                                       {"externalId": "u-c", "active": True, "displayName": "Carol"},
                                       {"externalId": "u-x", "active": True, "displayName": "Mallory"}],
                "/idps/i/scim/groups": []})
    ok, reason, details = _scim_check.compare(ak, cf, "i", "scim")
    assert ok is False
    assert details["missing_users"] == ["dave"] and details["extra_users"] == ["Mallory"]
    assert details["inactive_users"] == ["alice"] and details["still_active_users"] == ["carol"]
    assert details["missing_groups"] == ["engineering"]
    for name in ("dave", "Mallory", "alice", "carol", "engineering"):
        assert name in reason


def test_scim_check_cannot_evaluate_expression_policies():
    ak = _Fake({
        "/providers/scim/": [{"name": "scim", "pk": 1, "assigned_backchannel_application_slug": "cf"}],
        "/policies/bindings/": [{"policy": "p1", "enabled": True}],
    })
    with pytest.raises(_scim_check.CannotTell):
        _scim_check.compare(ak, _Fake({}), "i", "scim")


def test_task_times_are_parsed_not_compared_as_strings():
    parse = _scim.parse_time
    assert parse("2026-08-05T10:00:00Z") == parse("2026-08-05T12:00:00+02:00") == parse("2026-08-05T10:00:00")
    assert parse("2026-08-05T10:00:00.5Z") == parse("2026-08-05T10:00:00.500000+00:00")
    assert parse("2026-08-05T10:00:00.123456789Z").microsecond == 123456
    for bad in ("", None, "yesterday", "2026-13-05T10:00:00Z"):
        assert parse(bad) is None
    # pairs (later, earlier) that compare the wrong way round as strings
    for later, earlier in (("2026-08-05T10:00:00.5Z", "2026-08-05T10:00:00Z"),
                           ("2026-08-05T10:00:00Z", "2026-08-05T11:00:00+02:00")):
        assert later < earlier
        assert _scim.is_after(later, earlier) and not _scim.is_after(earlier, later)
    assert _scim.is_after("2026-08-05T10:00:00Z", "") and _scim.is_after("2026-08-05T10:00:00Z", None)
    assert not _scim.is_after(None, "2026-08-05T10:00:00Z")


def test_the_sync_wait_runs_on_the_monotonic_clock(monkeypatch):
    clock = {"mono": 0.0}
    monkeypatch.setattr(_scim.time, "monotonic", lambda: clock["mono"])
    monkeypatch.setattr(_scim.time, "time", lambda: pytest.fail("the wait read the wall clock"))

    def sleep(seconds):
        clock["mono"] += seconds

    monkeypatch.setattr(_scim.time, "sleep", sleep)
    reports = []

    def report(client, provider):
        task = {"actor": _scim.FULL_SYNC_ACTOR, "state": "done", "mtime": "2026-08-05T09:59:59.9Z", "problems": ["x"]}
        reports.append(1)
        return {"status": {}, "running": False, "tasks": [task], "errors": [], "last_task": task, "tasks_api": True}

    monkeypatch.setattr(_scim, "sync_report", report)
    finished, result = _scim.wait_for_sync(None, {"pk": 1}, "2026-08-05T10:00:00Z", timeout=5, interval=1.0)
    assert not finished and len(reports) == 6 and clock["mono"] == 5.0
    assert result["errors"] == []  # the only task is older than the start
