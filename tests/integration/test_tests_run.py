"""tests/run itself: unknown options refused at once, a summary that counts the steps it lists, one run
at a time per checkout. Runs tests/run of this (staged) copy, with the venvs of the run that started us."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "tests" / "run"

# tests/run does not depend on ansible-core: once, from the newest core's venv, is enough
pytestmark = pytest.mark.skipif(Path(sys.prefix).name not in ("core221", "venv"),
                                reason="tests/run's own behaviour is checked from the core221 venv")


def clean_env():
    """The environment of a user's shell: no venv of ours on PATH, the checkout's venvs reused."""
    venvs = Path(sys.prefix).parent
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV" and not k.startswith(("AUTHENTIK_", "CLOUDFLARE_"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(venvs)))
    env["IDPB_VENVS"] = str(venvs)
    return env


def run_tests_run(*args, timeout=120):
    """tests/run in a session of its own: on a timeout the whole process group goes, not only bash."""
    env = clean_env()
    started = time.monotonic()
    proc = subprocess.Popen([str(RUN), *args], cwd=str(REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail("tests/run %s took longer than %d s:\n%s\n%s" % (" ".join(args), timeout, out[-2000:], err[-2000:]))
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), time.monotonic() - started


@pytest.mark.parametrize("args, bad", [
    (["--bogus"], "--bogus"),
    (["integration", "-k", "role", "--bogus"], "--bogus"),
    (["-x", "--no-such-thing=1"], "--no-such-thing=1"),
])
def test_unknown_options_are_refused_before_anything_runs(args, bad):
    done, seconds = run_tests_run(*args)
    assert done.returncode != 0 and seconds < 10
    assert "unknown option: %s" % bad in done.stderr
    assert "==> [" not in done.stdout   # no step started, not even staging


def test_pytest_options_and_anything_after_double_dash_pass(tmp_path):
    # -k with its value and --tb=short are pytest's; after -- nothing is checked. Nothing matches the filter.
    done = run_tests_run("servers", "-k", "no_test_has_this_name", "--tb=short", "--", "--no-header", timeout=600)[0]
    assert "unknown option" not in done.stderr
    assert "pytest arguments: -k no_test_has_this_name --tb=short --no-header" in done.stdout


def test_summary_counts_only_the_steps_it_lists():
    done = run_tests_run("changelog", timeout=600)[0]
    assert done.returncode == 0, done.stdout + done.stderr
    rows = done.stdout.split("= summary =")[1].splitlines()
    assert any(r.startswith("stage ") for r in rows) and any(r.startswith("venv-core221 ") for r in rows)
    assert done.stdout.rstrip().splitlines()[-1] == "1 passed, 0 failed"


def test_a_second_run_in_the_same_checkout_is_refused():
    lock = REPO / "tests" / "output" / "run" / ".lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            done, seconds = run_tests_run("changelog")
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
    assert done.returncode != 0 and seconds < 10
    assert "another tests/run is running in this checkout" in done.stderr
    assert "==> [" not in done.stdout
