"""./demo as a newcomer runs it: its own small venv, progress, and closing lines that say what was made,
that the test servers and their state are gone, and what to run against real accounts."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def clean_env():
    """The environment of a user's shell: no venv of ours on PATH, no connection settings, our venvs reused."""
    venvs = Path(sys.prefix).parent
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV" and not k.startswith(("AUTHENTIK_", "CLOUDFLARE_"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(venvs)))
    env["IDPB_VENVS"] = str(venvs)
    return env


pytestmark = pytest.mark.skipif(Path(sys.prefix).name != "core221", reason="./demo is checked from the core221 venv")


def test_demo_venv_holds_only_what_the_demo_needs():
    out = subprocess.run(["bash", "-c", 'source tests/lib.sh; printf "%s\\n" "${IDPB_DEMO_PACKAGES[@]}"; '
                          'for s in "${IDPB_VENV_SPECS[@]}"; do [[ "$s" == demo\\|* ]] && echo "$s"; done; true'],
                         cwd=str(REPO), capture_output=True, text=True, check=True).stdout
    assert "requests" in out and "tests/servers/requirements.txt" in out and "ansible-core" in out
    for heavy in ("ansible-lint", "antsibull", "sphinx", "matplotlib", "numpy", "tests/requirements.txt"):
        assert heavy not in out.lower(), heavy
    servers = (REPO / "tests" / "servers" / "requirements.txt").read_text()
    assert [line.split("==")[0] for line in servers.splitlines() if line and not line.startswith("#")] == [
        "cryptography", "authentik-client", "cloudflare"]


def test_demo_ends_saying_what_it_made_and_that_the_servers_are_gone():
    env = dict(clean_env(), IDPB_DEMO_VENV=Path(sys.prefix).name)
    proc = subprocess.Popen([str(REPO / "demo")], cwd=str(REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        out = proc.communicate(timeout=600)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("./demo took longer than 10 minutes")
    assert proc.returncode == 0, out
    assert out.startswith("demo: starting the authentik and Cloudflare API test servers"), out[:500]
    assert "Who gets in: no application to evaluate" in out
    tail = out.rstrip().splitlines()[-6:]
    assert tail[0].startswith("demo: done. On the test servers it made the authentik provider and application "
                              "'Cloudflare Access demo'"), tail
    assert tail[2] == "demo: the test servers have stopped; everything they held is gone (nothing was sent anywhere else)."
    assert "ansible-playbook idpbridge.authentik_cloudflare.cloudflare_access" in tail[-1]
    pid = int(re.search(r"test servers up: .* \(pid (\d+)\)", out).group(1))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
