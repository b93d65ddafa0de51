"""Protected applications (cloudflare_access_applications) against mistakes in the list, 429 storms and kills:
a misspelt or missing list takes nothing away, an empty list removes what the role made (within the removal
guard), a throttled 50-application first run converges, and so does the rerun of a killed one, with exactly one
application and one policy per entry."""

from __future__ import annotations

import time

import pytest

from tests.reliability import cases
from tests.reliability.support import clear, kill_group, message, role_task, start_playbook, writes

NAME = "Protected Apps"
TWO = [
    {"name": "Grafana", "domain": "grafana.example.com", "allow_groups": ["engineering"]},
    {"name": "Vault", "domain": "vault.example.com", "allow_emails": ["boss@example.org"]},
]


def many(count):
    return [{"name": "App %02d" % i, "domain": "app-%02d.example.com" % i, "allow_email_domains": ["example.org"]}
            for i in range(1, count + 1)]


def access(api):
    """(Access applications, reusable policies) on the Cloudflare test server."""
    state = api.cloudflare.state()
    return len(state["access_apps"]["accounts/%s" % api.info["account_id"]]), len(state["access_policies"])


def access_text(api):
    return "Access applications %d, policies %d" % access(api)


def access_requests(api):
    return [r for r in api.cloudflare.requests() if "/access/apps" in r["path"] or "/access/policies" in r["path"]]


def per_entry(api):
    """Each entry's name: (applications with that name, policies named after it)."""
    state = api.cloudflare.state()
    apps = [a["name"] for a in state["access_apps"]["accounts/%s" % api.info["account_id"]]]
    pols = [p["name"] for p in state["access_policies"]]
    return {name: (apps.count(name), pols.count(name + " (idpbridge)")) for name in set(apps)}


CASE = {c[0]: c[1] for c in cases.APPLICATIONS}


def test_apps_typo(api, play, record):
    assert play([role_task(NAME, cloudflare_access_applications=TWO)]).rc == 0
    clear(api)
    result = play([role_task(NAME, cloudflare_access_aplications=TWO[:1])])
    assert result.rc != 0
    seen = message(result)
    assert "did you mean cloudflare_access_applications?" in seen
    assert api.cloudflare.requests() == [] and api.authentik.requests() == []
    assert access(api) == (2, 2)
    clear(api)
    rerun = play([role_task(NAME, cloudflare_access_applications=TWO)])
    assert rerun.rc == 0 and rerun.changed == 0, rerun.output
    record("apps-typo", injected=CASE["apps-typo"], seen=seen, rerun="fixed name: changed=0, no write",
           objects=access_text(api), writes="0 + 0, no request at all; %d + %d" % writes(api))


def test_apps_not_given(api, play, record):
    assert play([role_task(NAME, cloudflare_access_applications=TWO)]).rc == 0
    clear(api)
    # the leaver check reads the applications on its own (tests/integration/test_offboarding.py): off here
    result = play([role_task(NAME, cloudflare_access_revoke_leavers=False)],
                  env={"ANSIBLE_DEPRECATION_WARNINGS": "1"})  # the harness switches them off
    assert result.rc == 0 and result.changed == 0, result.output
    assert access_requests(api) == []
    assert access(api) == (2, 2)
    assert "DEPRECATION" not in result.output
    summary = [line.strip().strip('",') for line in result.stdout.splitlines() if "Protected applications:" in line]
    record("apps-not-given", injected=CASE["apps-not-given"], seen="changed=0; " + summary[0], rerun="-",
           objects=access_text(api), writes="%d + %d, no request for applications or policies" % writes(api))


def test_apps_empty(api, play, record):
    assert play([role_task(NAME, cloudflare_access_applications=TWO)]).rc == 0
    clear(api)
    result = play([role_task(NAME, cloudflare_access_applications=[])])
    assert result.rc == 0, result.output
    assert access(api) == (0, 0)
    first = writes(api)
    summary = [line.strip().strip('",') for line in result.stdout.splitlines() if "Protected applications:" in line]
    clear(api)
    rerun = play([role_task(NAME, cloudflare_access_applications=[])])
    assert rerun.rc == 0 and rerun.changed == 0, rerun.output
    assert writes(api) == (0, 0)
    record("apps-empty", injected=CASE["apps-empty"], seen="changed=%d; %s" % (result.changed, summary[0]),
           rerun="changed=0, no write", objects=access_text(api), writes="%d + %d, 0 + 0" % first)


def test_apps_cut_guard(api, play, record):
    assert play([role_task(NAME, cloudflare_access_applications=many(5))]).rc == 0
    clear(api)
    result = play([role_task(NAME, cloudflare_access_applications=many(1))])
    assert result.rc != 0
    seen = message(result)
    assert all(("App %02d" % i) in seen for i in range(2, 6)), seen
    assert writes(api) == (0, 0) and access(api) == (5, 5)
    clear(api)
    allowed = play([role_task(NAME, cloudflare_access_applications=many(1), cloudflare_access_applications_max_removals=4)])
    assert allowed.rc == 0, allowed.output
    assert access(api) == (1, 1)
    record("apps-cut-guard", injected=CASE["apps-cut-guard"], seen=seen,
           rerun="with cloudflare_access_applications_max_removals: 4, removed (changed=%d)" % allowed.changed,
           objects=access_text(api), writes="0 + 0; %d + %d" % writes(api))


def test_apps_429_storm(api, play, record):
    api.cloudflare.config(rate_limit=True, rate_limit_requests=40, rate_limit_window=2)
    entries = many(50)
    result = play([role_task(NAME, cloudflare_access_applications=entries)])
    throttled = len([r for r in api.cloudflare.requests() if r["status"] == 429])
    assert result.rc == 0, result.output
    assert throttled > 0
    counts = per_entry(api)
    assert len(counts) == 50 and set(counts.values()) == {(1, 1)}
    assert access(api) == (50, 50)
    first = writes(api)
    clear(api)
    rerun = play([role_task(NAME, cloudflare_access_applications=entries)])
    assert rerun.rc == 0 and rerun.changed == 0, rerun.output
    assert writes(api) == (0, 0)
    record("apps-429-storm", injected=CASE["apps-429-storm"],
           seen="converged through %d answers 429 (changed=%d)" % (throttled, result.changed),
           rerun="changed=0, no write", objects=access_text(api) + "; one of each per entry",
           writes="%d + %d, 0 + 0" % first)


def test_apps_kill(api, play, servers, tmp_path, record):
    entries = many(50)
    api.cloudflare.fault(method="POST", path=r"/access/apps$", lost=True, hold=120, skip=20)
    proc = start_playbook(servers, tmp_path, [role_task(NAME, cloudflare_access_applications=entries)], "killed-apps")
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            if any(r.get("fault") == "lost" for r in api.cloudflare.requests()):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run never sent its 21st application create")
    finally:
        kill_group(proc)
    api.cloudflare.control("DELETE", "faults")
    before = access(api)
    killed = writes(api)
    clear(api)
    rerun = play([role_task(NAME, cloudflare_access_applications=entries)])
    assert rerun.rc == 0, rerun.output
    rerun_writes = writes(api)
    counts = per_entry(api)
    assert len(counts) == 50 and set(counts.values()) == {(1, 1)}, counts
    assert access(api) == (50, 50)
    clear(api)
    calm = play([role_task(NAME, cloudflare_access_applications=entries)])
    assert calm.rc == 0 and calm.changed == 0, calm.output
    assert writes(api) == (0, 0)
    # how far the killed run got depends on timing (writes run a few at a time): the row records what
    # does not, and the writes of the killed run and its rerun together (each object written once)
    assert 21 <= before[0] < 50 and before[0] <= before[1] <= 50, before
    together = (killed[0] + rerun_writes[0], killed[1] + rerun_writes[1])
    assert together[1] <= 2 * 50 + 3, together
    record("apps-kill", injected=CASE["apps-kill"],
           seen="killed part-way: at least 21 and fewer than 50 applications written, each with its policy",
           rerun="converged, writing only what was missing; next run changed=0, no write",
           objects=access_text(api) + "; one of each per entry",
           writes="killed run and rerun together %d+%d; 0+0" % together)
