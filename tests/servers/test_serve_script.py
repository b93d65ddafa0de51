"""serve.py run the ways the README and ./demo run it: as a script and as a module, with and
without the vendor SDKs, and its --print-env/--env-file output."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "servers" / "serve.py"

# what a shell gets from --print-env, and what the README's examples read
README_VARIABLES = ["AUTHENTIK_URL", "AUTHENTIK_TOKEN", "CLOUDFLARE_API_URL", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"]


def start(args, tmp_path, python=sys.executable, cwd=ROOT, env=None):
    """serve.py in its own process; returns (process, the export lines as a dict)."""
    env_file = tmp_path / "servers.env"
    proc = subprocess.Popen([python, *args, "--print-env", "--env-file", str(env_file)], cwd=str(cwd),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not env_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail("serve.py did not start: %s %s" % (out, err))
        time.sleep(0.1)
    values = {}
    for line in env_file.read_text(encoding="utf-8").splitlines():
        if line.startswith("export "):
            name, value = line[len("export "):].split("=", 1)
            values[name] = shlex.split(value)[0]
    return proc, values


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


def contract_errors_of_a_bad_write(values):
    """POST a login method with a key the SDK does not know; the contract check must refuse it."""
    url = values["CLOUDFLARE_API_URL"] + "/accounts/%s/access/identity_providers" % values["CLOUDFLARE_ACCOUNT_ID"]
    config = {"client_id": "a", "client_secret": "b", "auth_url": "https://a.example/a", "token_url": "https://a.example/t",
              "certs_url": "https://a.example/c", "redirect_url": "https://x.example/cb"}
    body = {"name": "x", "type": "oidc", "config": config}
    auth = {"Authorization": "Bearer " + values["CLOUDFLARE_API_TOKEN"]}
    resp = requests.post(url, json=body, headers=auth, timeout=30)
    log = requests.get(values["CLOUDFLARE_API_URL"].rsplit("/client/v4", 1)[0] + "/_test/requests", headers=auth, timeout=30).json()
    last = [r for r in log if r["method"] == "POST"][-1]
    return resp.status_code, last["contract_errors"]


@pytest.mark.parametrize("form", ["script", "script from its folder", "module"])
def test_every_form_checks_the_contract(tmp_path, form):
    args, cwd = {
        "script": ([str(SCRIPT)], ROOT),
        "script from its folder": (["serve.py"], SCRIPT.parent),
        "module": (["-m", "tests.servers.serve"], ROOT),
    }[form]
    proc, values = start(args, tmp_path, cwd=cwd)
    try:
        assert sorted(values) == sorted(README_VARIABLES)
        status, errors = contract_errors_of_a_bad_write(values)
        assert status == 400
        assert errors == ["config: unknown key 'redirect_url' (not in the SDK's AccessOIDCConfig)"]
    finally:
        stop(proc)


def test_print_env_lines_point_at_the_servers(tmp_path):
    proc, values = start([str(SCRIPT)], tmp_path)
    try:
        ak = requests.get(values["AUTHENTIK_URL"] + "/api/v3/admin/version/",
                          headers={"Authorization": "Bearer " + values["AUTHENTIK_TOKEN"]}, timeout=30)
        assert ak.status_code == 200
        cf = requests.get(values["CLOUDFLARE_API_URL"] + "/accounts/%s/access/identity_providers" % values["CLOUDFLARE_ACCOUNT_ID"],
                          headers={"Authorization": "Bearer " + values["CLOUDFLARE_API_TOKEN"]}, timeout=30)
        assert cf.status_code == 200 and cf.json()["success"] is True
    finally:
        out = stop(proc)[0]
    lines = out.splitlines()
    assert [line.split("=", 1)[0] for line in lines[:5]] == ["export " + v for v in README_VARIABLES]
    assert lines[5].startswith("# a seeded authentik user")


def test_a_python_without_the_sdks_is_refused_at_once(tmp_path):
    """A plain Python (no SDKs, no cryptography): refused before any server starts, naming a Python to use."""
    venv = tmp_path / "plain"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    started = time.monotonic()
    done = subprocess.run([str(python), str(SCRIPT)], cwd=str(ROOT), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert time.monotonic() - started < 20
    assert done.stdout == ""
    assert "lacks cryptography, pydantic, authentik-client, cloudflare" in done.stderr
    assert "tests/servers/requirements.txt" in done.stderr and "not starting" in done.stderr
    assert "Traceback" not in done.stderr


def test_contract_problems_are_named(monkeypatch):
    from tests.servers import serve
    from tests.servers.authentik import contract as ak_contract
    from tests.servers.cloudflare import contract as cf_contract

    assert serve.contract_problems() == []
    assert serve.missing_packages() == []
    monkeypatch.setattr(cf_contract, "load_sdk", lambda: None)
    monkeypatch.setattr(ak_contract, "load_models", lambda: None)
    assert serve.contract_problems() == [
        "Cloudflare: cloudflare SDK not installed (every write would be accepted unchecked)",
        "authentik: authentik-client not installed (every write would be refused)",
    ]
    assert serve.main([]) == 2


def test_env_lines_quote_for_a_shell():
    from tests.servers import serve

    info = {"authentik_url": "http://127.0.0.1:1", "authentik_token": "a b'c", "cloudflare_url": "http://127.0.0.1:2/client/v4",
            "cloudflare_token": "t", "account_id": "acc", "authentik_test_username": "u", "authentik_test_password": "p"}
    script = "\n".join(serve.env_lines(info)) + '\nprintf %s "$AUTHENTIK_TOKEN"'
    assert subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout == "a b'c"
    assert os.environ.get("AUTHENTIK_TOKEN") != "a b'c"
