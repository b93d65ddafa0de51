"""A rotation killed between authentik and Cloudflare, and two runs of the role at once."""

from __future__ import annotations

import time

from tests.reliability import cases
from tests.reliability.support import (FQCN, TEST_PASSWORD, TEST_USER, clear, finish, kill_group, login_methods, message, objects,
                                       objects_text, provider_secret, role_task, start_playbook, writes)
from tests.reliability.test_kills import wait_for

INJECTED = dict(cases.RACES)


def sign_in_with_cloudflares_secret(api, play, name):
    """The test module's sign-in as the test user, with the secret the Cloudflare login method holds."""
    (idp,) = login_methods(api, name)
    task = {"name": "sign in", FQCN + "cloudflare_access_identity_provider_test": {
        "identity_provider_id": idp["id"], "provider": name, "client_secret": idp["config"]["client_secret"],
        "test_username": TEST_USER, "test_password": TEST_PASSWORD, "require_tls": False}, "ignore_errors": True}
    result = play([task])
    return result.results[-1]


def test_killed_rotation_recovers_with_the_documented_command(api, play, servers, tmp_path, record):
    name = "Killed Rotation"
    assert play([role_task(name)]).rc == 0
    old = provider_secret(api, name)
    clear(api)
    api.authentik.fault(method="PATCH", path=r"^/api/v3/providers/oauth2/\d+/$", lost=True, hold=120)
    proc = start_playbook(servers, tmp_path, [role_task(name, cloudflare_access_rotate_secret=True)], "rotation")
    try:
        wait_for(api.authentik, "PATCH", r"^/api/v3/providers/oauth2/\d+/$")
    finally:
        kill_group(proc)
    api.authentik.control("DELETE", "faults")
    new = provider_secret(api, name)
    assert new != old and login_methods(api, name)[0]["config"]["client_secret"] == old
    before = sign_in_with_cloudflares_secret(api, play, name)
    assert before["status"] == "ignored", before

    # A plain rerun cannot see the mismatch (Cloudflare never returns its secret): it is calm.
    clear(api)
    plain = play([role_task(name)])
    assert plain.rc == 0 and plain.changed == 0 and writes(api) == (0, 0)

    # The documented recovery: one run with update_secret=always gives Cloudflare authentik's secret.
    clear(api)
    fixed = play([role_task(name, cloudflare_access_update_secret="always")])
    assert fixed.rc == 0, fixed.output
    fix_writes = writes(api)
    assert login_methods(api, name)[0]["config"]["client_secret"] == new
    after = sign_in_with_cloudflares_secret(api, play, name)
    assert after["status"] == "ok", after
    clear(api)
    calm = play([role_task(name)])
    assert calm.rc == 0 and calm.changed == 0 and writes(api) == (0, 0)
    record("kill-rotation", injected=INJECTED["kill-rotation"],
           seen="killed; a sign-in with Cloudflare's secret fails: " + before["result"].get("msg", ""),
           rerun="plain rerun: changed=0 (cannot see it); -e cloudflare_access_update_secret=always: rewrote the secret, "
                 "sign-in ok; next run changed=0",
           objects=objects_text(api, name) + "; secrets match", writes="plain 0+0, recovery %d+%d, 0+0" % fix_writes)


def test_failed_rotation_names_the_recovery_command(api, play, record):
    name = "Failed Rotation"
    assert play([role_task(name)]).rc == 0
    old = provider_secret(api, name)
    clear(api)
    api.cloudflare.fault(method="PUT", path=r"/access/identity_providers/[^/]+$", status=400, count=1)
    failed = play([role_task(name, cloudflare_access_rotate_secret=True)])
    api.cloudflare.control("DELETE", "faults")
    assert failed.rc != 0
    seen = message(failed)
    assert "-e cloudflare_access_update_secret=always" in seen and "new client secret" in seen, seen
    new = provider_secret(api, name)
    assert new != old and login_methods(api, name)[0]["config"]["client_secret"] == old
    # the command the message names converges: Cloudflare gets authentik's secret, a sign-in works
    clear(api)
    fixed = play([role_task(name, cloudflare_access_update_secret="always")])
    assert fixed.rc == 0, fixed.output
    fix_writes = writes(api)
    assert login_methods(api, name)[0]["config"]["client_secret"] == new
    assert sign_in_with_cloudflares_secret(api, play, name)["status"] == "ok"
    clear(api)
    calm = play([role_task(name)])
    assert calm.rc == 0 and calm.changed == 0 and writes(api) == (0, 0)
    record("fail-rotation", injected=INJECTED["fail-rotation"], seen=seen,
           rerun="-e cloudflare_access_update_secret=always (as the message says): rewrote the secret, sign-in ok; "
                 "next run changed=0",
           objects=objects_text(api, name) + "; secrets match", writes="recovery %d+%d, 0+0" % fix_writes)


def held(one, count, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len([r for r in one.requests() if r.get("fault") == "held"]) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the runs never reached the held lookup")


def race(api, play, servers, tmp_path, record, case_id, name, one, path):
    """Two runs whose lookups (``path`` on ``one``) are held until both asked, then answered at once."""
    one.fault(method="GET", path=path, hold=120, count=2)
    procs = [start_playbook(servers, tmp_path, [role_task(name)], "%s-%d" % (case_id, i)) for i in (1, 2)]
    try:
        held(one, 2)
    finally:
        one.control("DELETE", "faults")
    outcomes = [finish(p) for p in procs]
    failures = [out for rc, out in outcomes if rc != 0]
    after_race = objects(api, name)
    clear(api)
    rerun = play([role_task(name)])
    assert rerun.rc == 0, rerun.output
    rerun_writes = writes(api)
    clear(api)
    calm = play([role_task(name)])
    assert calm.rc == 0 and calm.changed == 0 and writes(api) == (0, 0)
    assert objects(api, name) == (1, 1, 1)
    assert login_methods(api, name)[0]["config"]["client_secret"] == provider_secret(api, name)
    if failures:
        (out,) = failures  # never both
        seen = "one run failed: " + [line for line in out.splitlines() if "FAILED!" in line][0]
    else:
        seen = "both runs ok: " + " / ".join(sorted({line.strip() for _rc, out in outcomes for line in out.splitlines()
                                                    if "at the same time" in line}))[:300]
    record(case_id, injected=INJECTED[case_id], seen=seen,
           rerun="converged (changed=%d); next run changed=0, no write" % rerun.changed,
           objects="after the race: authentik %d/%d, Cloudflare %d; after the rerun: %s" % (after_race + (objects_text(api, name),)),
           writes="rerun %d+%d, 0+0" % rerun_writes)
    return failures


def test_two_runs_at_once_authentik_keeps_names_unique(api, play, servers, tmp_path, record):
    failures = race(api, play, servers, tmp_path, record, "concurrent-authentik", "Raced", api.authentik,
                    r"^/api/v3/providers/oauth2/$")
    assert len(failures) == 1 and "already exists" in failures[0] and "rerun" in failures[0]


def test_two_runs_at_once_cloudflare_keeps_one(api, play, servers, tmp_path, record):
    name = "Raced Login"
    assert play([role_task(name)]).rc == 0
    (idp,) = login_methods(api, name)
    assert api.cloudflare.call("DELETE", "/accounts/%s/access/identity_providers/%s" % (api.info["account_id"], idp["id"])).ok
    failures = race(api, play, servers, tmp_path, record, "concurrent-cloudflare", name, api.cloudflare, r"/access/identity_providers$")
    assert failures == []
