"""Runs killed (SIGKILL of ansible-playbook and its workers) after each step of the role, as the servers see
it: the request that completes a step is performed and its answer held back, the test kills the run, then a
plain rerun converges with the secret Cloudflare holds equal to authentik's, and the run after it is calm.

The kill point is taken from the request log, not from task names, so it holds if the role's tasks move."""

from __future__ import annotations

import re
import time

import pytest

from tests.reliability import cases
from tests.reliability.support import (clear, kill_group, login_methods, objects, objects_text, provider_secret, role_task,
                                       start_playbook, writes)

NAME = "Killed Run"
BINDINGS = [{"group": "engineering"}]


def wait_for(one, method, path, timeout=120):
    """The log entry of the held request ``method path`` (performed, answer not sent)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for entry in one.requests():
            if entry["method"] == method and re.search(path, entry["path"]) and entry.get("fault") == "lost":
                return entry
        time.sleep(0.05)
    raise AssertionError("the run never sent %s %s" % (method, path))


@pytest.mark.parametrize("case_id,injected,method,server,path", cases.KILLS, ids=[c[0] for c in cases.KILLS])
def test_killed_after_each_step(api, play, servers, tmp_path, record, case_id, injected, method, server, path):
    one = getattr(api, server)
    one.fault(method=method, path=path, lost=True, hold=120)
    proc = start_playbook(servers, tmp_path, [role_task(NAME, cloudflare_access_bindings=BINDINGS)], "killed")
    try:
        wait_for(one, method, path)
    finally:
        kill_group(proc)
    api.authentik.control("DELETE", "faults")
    api.cloudflare.control("DELETE", "faults")
    before = objects(api, NAME)
    first_writes = writes(api)

    clear(api)
    rerun = play([role_task(NAME, cloudflare_access_bindings=BINDINGS)])
    assert rerun.rc == 0, rerun.output
    rerun_writes = writes(api)
    assert objects(api, NAME) == (1, 1, 1)
    (idp,) = login_methods(api, NAME)
    assert idp["config"]["client_secret"] == provider_secret(api, NAME)
    assert len(api.authentik.state()["bindings"]) >= 1

    clear(api)
    calm = play([role_task(NAME, cloudflare_access_bindings=BINDINGS)])
    assert calm.rc == 0 and calm.changed == 0, calm.output
    assert writes(api) == (0, 0)
    record(case_id, injected=injected, seen="killed; objects then: authentik %d/%d, Cloudflare %d" % before,
           rerun="converged (changed=%d); next run changed=0, no write" % rerun.changed,
           objects=objects_text(api, NAME) + "; secrets match",
           writes="%d+%d, %d+%d, 0+0" % (first_writes + rerun_writes))
