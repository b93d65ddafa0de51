"""Faults injected at the test servers during role runs: the run recovers within the retry budget, or ends
with one message saying what happened and that a rerun is safe; a plain rerun converges with exactly one
object of each kind on each side, and the run after it reports changed=0 and sends no write."""

from __future__ import annotations

import email.utils
import time

import pytest

from tests.reliability import cases
from tests.reliability.support import (clear, fast, login_methods, message, objects, objects_text, provider_secret, role_task,
                                       writes)

NAME = "Fault Case"
AK_PROVIDERS = r"^/api/v3/providers/oauth2/$"
CF_IDPS = r"/access/identity_providers$"
CF_IDP = r"/access/identity_providers/[^/]+$"
BINDING = [{"group": "engineering"}]


def http_date(seconds):
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


# id: (server, fault spec or callable giving it, arrangement, role variables of the faulted run,
#      whether the faulted run recovers by itself, words its message must hold when it does not)
SPECS = {
    "ak-lookup-429": ("authentik", dict(method="GET", path=AK_PROVIDERS, status=429, retry_after="1"), None, {}, True, []),
    "ak-create-429-date": ("authentik", lambda: dict(method="POST", path=AK_PROVIDERS, status=429, retry_after=http_date(2)),
                           None, {}, True, []),
    "ak-update-429": ("authentik", dict(method="PATCH", path=r"^/api/v3/core/applications/", status=429, retry_after="1"),
                      "create", {"cloudflare_access_description": "Changed"}, True, []),
    "ak-delete-429": ("authentik", dict(method="DELETE", path=r"^/api/v3/", status=429, retry_after="1"),
                      "create", {"cloudflare_access_state": "absent"}, True, []),
    "cf-lookup-429": ("cloudflare", dict(method="GET", path=CF_IDPS, status=429, retry_after="1"), None, {}, True, []),
    "cf-create-429-date": ("cloudflare", lambda: dict(method="POST", path=CF_IDPS, status=429, retry_after=http_date(2)),
                           None, {}, True, []),
    "cf-update-429": ("cloudflare", dict(method="PUT", path=CF_IDP, status=429, retry_after="1"),
                      "create", {"cloudflare_access_claims": ["groups"]}, True, []),
    "cf-delete-429": ("cloudflare", dict(method="DELETE", path=CF_IDP, status=429, retry_after="1"),
                      "create", {"cloudflare_access_state": "absent"}, True, []),
    "retry-after-too-long": ("cloudflare", dict(method="GET", path=CF_IDPS, status=429, retry_after="3600"),
                             None, {}, False, ["429", "3600 s"]),
    "ak-read-500": ("authentik", dict(method="GET", path=AK_PROVIDERS, status=500, count=2), None, {}, True, []),
    "ak-read-502-504": ("authentik", [dict(method="GET", path=r"^/api/v3/core/applications/", status=502),
                                      dict(method="GET", path=r"^/api/v3/core/applications/", status=504)], None, {}, True, []),
    "cf-read-503": ("cloudflare", dict(method="GET", path=CF_IDPS, status=503, retry_after="0", count=3), None, {}, True, []),
    "ak-create-500": ("authentik", dict(method="POST", path=AK_PROVIDERS, status=500), None, {}, False,
                      ["HTTP 500", "may have applied", "does not create it twice"]),
    "ak-create-502": ("authentik", dict(method="POST", path=r"^/api/v3/core/applications/$", status=502), None, {}, False,
                      ["HTTP 502", "may have applied"]),
    "cf-create-504": ("cloudflare", dict(method="POST", path=CF_IDPS, status=504), None, {}, False, ["HTTP 504", "may have applied"]),
    "ak-create-503": ("authentik", dict(method="POST", path=AK_PROVIDERS, status=503, retry_after="0"), None, {}, True, []),
    "lost-provider": ("authentik", dict(method="POST", path=AK_PROVIDERS, lost=True), None, {}, False,
                      ["the server may have acted on it", "Rerun"]),
    "lost-application": ("authentik", dict(method="POST", path=r"^/api/v3/core/applications/$", lost=True), None, {}, False,
                         ["the server may have acted on it"]),
    "lost-binding": ("authentik", dict(method="POST", path=r"^/api/v3/policies/bindings/$", lost=True), None,
                     {"cloudflare_access_bindings": BINDING}, False, ["the server may have acted on it"]),
    "lost-login-method": ("cloudflare", dict(method="POST", path=CF_IDPS, lost=True), None, {}, False,
                          ["the server may have acted on it"]),
    "lost-update": ("cloudflare", dict(method="PUT", path=CF_IDP, lost=True), "create", {"cloudflare_access_rotate_secret": True},
                    True, []),
    "slow-read": ("authentik", dict(method="GET", path=AK_PROVIDERS, delay=2.5), None, {}, True, []),
    "slow-create": ("authentik", dict(method="POST", path=AK_PROVIDERS, delay=2.5), None, {}, False,
                    ["no answer within", "may still have acted"]),
}
FAST = {"slow-read": 1.5, "slow-create": 1.5}
CASES = [c for c in cases.FAULTS if c[0] in SPECS]


@pytest.mark.parametrize("case_id,injected", CASES, ids=[c[0] for c in CASES])
def test_fault(api, play, record, case_id, injected):
    server, spec, arrange, over, recovers, words = SPECS[case_id]
    bindings = {"cloudflare_access_bindings": BINDING} if case_id == "lost-binding" else {}

    def run(**more):
        # the team domain is given: one module fewer per run (the organization read is in the kill cases)
        task = role_task(NAME, cloudflare_access_team_domain="reliability.cloudflareaccess.com", **dict(bindings, **more))
        if case_id in FAST:
            task = fast(task, timeout=FAST[case_id])
        return play([task])

    if arrange == "create":
        assert run().rc == 0
    clear(api)
    one = getattr(api, server)
    specs = spec() if callable(spec) else spec
    for item in specs if isinstance(specs, list) else [specs]:
        one.fault(**item)
    first = run(**over)
    if case_id == "slow-create":
        deadline = time.time() + 10  # the server applies the slow create after the client gave up
        while time.time() < deadline and not [r for r in api.authentik.requests() if r["method"] == "POST" and r["status"] == 201]:
            time.sleep(0.2)
    first_writes = writes(api)
    seen = message(first)
    if recovers:
        assert first.rc == 0, first.output
        assert [r for r in one.requests() if r.get("fault")], "the fault was never triggered"
        # (the table shortens it after replacing ids: cutting it here could leave part of an id)
        seen = "recovered: " + (" / ".join(w for w in first.output.splitlines() if "retrying" in w) or "no retry needed")
    else:
        assert first.rc != 0, first.output
        for word in words:
            assert word in seen, (word, seen)
        # a write that may have been applied was sent once, never again
        faulted = [r for r in one.requests() if r.get("fault")]
        assert faulted
        sent = [r for r in one.requests() if r["method"] == faulted[0]["method"] and r["path"] == faulted[0]["path"]]
        if faulted[0]["method"] == "POST":
            assert len(sent) == 1, sent
    api.authentik.control("DELETE", "faults")
    api.cloudflare.control("DELETE", "faults")
    rerun_text = "not needed"
    rerun_writes = (0, 0)
    final_over = dict(over)
    final_over.pop("cloudflare_access_rotate_secret", None)
    if not recovers:
        clear(api)
        second = run(**final_over)
        assert second.rc == 0, second.output
        rerun_writes = writes(api)
        rerun_text = "converged (changed=%d)" % second.changed
    clear(api)
    third = run(**final_over)
    assert third.rc == 0 and third.changed == 0, third.output
    assert writes(api) == (0, 0), (api.authentik.writes(), api.cloudflare.writes())
    expected = (0, 0, 0) if over.get("cloudflare_access_state") == "absent" else (1, 1, 1)
    assert objects(api, NAME) == expected
    if expected == (1, 1, 1):
        assert login_methods(api, NAME)[0]["config"]["client_secret"] == provider_secret(api, NAME)
    record(case_id, injected=injected, seen=seen, rerun=rerun_text + "; next run changed=0, no write",
           objects=objects_text(api, NAME) + ("; secrets match" if expected == (1, 1, 1) else ""),
           writes="%d+%d, %d+%d, 0+0" % (first_writes + rerun_writes))
