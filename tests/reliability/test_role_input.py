"""Bad input to the role: the preflight stops the run before any request, naming the role variable and the
environment variable, in one message (and no dump of the argument spec)."""

from __future__ import annotations

import pytest

from tests.reliability import cases
from tests.reliability.support import message, role_task, writes


@pytest.mark.parametrize("case_id,injected,role_vars,env,words", cases.ROLE_INPUT, ids=[c[0] for c in cases.ROLE_INPUT])
def test_role_refuses_bad_input_before_any_request(api, play, record, case_id, injected, role_vars, env, words):
    env = {k: (v.format(authentik=api.info["authentik_url"]) if isinstance(v, str) else v) for k, v in env.items()}
    task = role_task("Bad Input", **role_vars)
    # as the collection's playbooks include it: the preflight checks the argument spec with a short message
    task["ansible.builtin.include_role"]["rolespec_validate"] = False
    result = play([task], env=env)
    assert result.rc != 0, result.output
    seen = message(result)
    for word in words:
        assert word in seen, (word, seen)
    assert "argument_spec_data" not in result.output
    assert len(api.authentik.requests()) == 0 and len(api.cloudflare.requests()) == 0
    assert len([r for r in result.results if r["status"] == "failed"]) == 1
    record(case_id, injected=injected, seen=seen, rerun="-", objects="none",
           writes="%d + %d, no request at all" % writes(api))


@pytest.mark.parametrize("case_id,injected,role_vars,words", cases.ROLE_LOOKUPS, ids=[c[0] for c in cases.ROLE_LOOKUPS])
def test_role_names_the_variable_behind_a_bad_reference(api, play, record, case_id, injected, role_vars, words):
    result = play([role_task("Bad Reference", **role_vars)])
    assert result.rc != 0, result.output
    seen = message(result)
    for word in words:
        assert word in seen, (word, seen)
    assert len([r for r in result.results if r["status"] == "failed"]) == 1
    if "cloudflare_access_bindings" in role_vars:
        # the provider and the application come first; the login method was not reached
        assert len(api.cloudflare.writes()) == 0
    else:
        # the provider's lookups found the problem before anything was written
        assert writes(api) == (0, 0)
    record(case_id, injected=injected, seen=seen, rerun="-", objects="-", writes="%d + %d" % writes(api))
