"""The secret scan: no API token, client secret, test-user password or SCIM token in any output (-vvvv,
--diff, check mode, faults, forced failures, ansible-runner's event stream), tracebacks included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import BIN, COLLECTIONS_ROOT, assert_no_deprecation
from tests.reliability import cases
from tests.reliability.support import FQCN, TEST_PASSWORD, TEST_USER, clear, role_task, secrets_of

INJECTED = dict(cases.SECRETS)
CHOSEN = "ChosenSecret" + "k" * 52
SCIM = "scim-token-0123456789abcdefghij"


def leaks(texts, values):
    found = []
    for label, text in texts:
        for value in values:
            if value and value in text:
                found.append("%s holds %s..." % (label, value[:4]))
    return found


def with_user(**more):
    return dict({"cloudflare_access_verify": True, "cloudflare_access_test_username": TEST_USER,
                 "cloudflare_access_test_password": TEST_PASSWORD}, **more)


def test_scan_verbose_and_diff(api, play, record):
    name = "Secret Scan"
    infos = [{"name": "login method info", FQCN + "cloudflare_access_identity_provider_info": {"name": "authentik (%s)" % name}},
             {"name": "provider info", FQCN + "authentik_provider_oauth2_info": {"name": name}},
             {"name": "organization", FQCN + "cloudflare_access_organization_info": {}}]
    runs = [play([role_task(name, **with_user())] + infos, verbosity=4, diff=True),
            play([role_task(name, **with_user(cloudflare_access_rotate_secret=True))], verbosity=4, diff=True),
            play([role_task(name, **with_user(cloudflare_access_client_secret=CHOSEN))], verbosity=4, diff=True),
            play([role_task(name, cloudflare_access_state="absent")], verbosity=4, diff=True)]
    values = secrets_of(api) | {CHOSEN}
    assert all(r.rc == 0 for r in runs), [r.output for r in runs if r.rc]
    texts = [("run %d" % i, r.output) for i, r in enumerate(runs)]
    assert leaks(texts, values) == []
    record("scan-verbose", injected=INJECTED["scan-verbose"], seen="no secret in the output of %d runs" % len(texts),
           rerun="create, rotate, chosen secret, removal; every module ran", objects="-", writes="-")


def test_scan_check_mode(api, play, record):
    name = "Secret Check"
    assert play([role_task(name)]).rc == 0
    clear(api)
    runs = [play([role_task(name, cloudflare_access_client_secret=CHOSEN)], check=True, diff=True, verbosity=4),
            play([role_task("Secret Check New", cloudflare_access_client_secret=CHOSEN)], check=True, diff=True, verbosity=4)]
    assert all(r.rc == 0 for r in runs)
    texts = [("check %d" % i, r.output) for i, r in enumerate(runs)]
    assert leaks(texts, secrets_of(api) | {CHOSEN}) == []
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []
    record("scan-check", injected=INJECTED["scan-check"], seen="no secret in the output of %d runs" % len(texts),
           rerun="-", objects="-", writes="-")


def test_scan_forced_failures(api, play, record):
    name = "Secret Failures"
    assert play([role_task(name)]).rc == 0
    old = secrets_of(api)
    runs = []
    api.cloudflare.fault(method="PUT", path=r"/access/identity_providers/", lost=True)
    runs.append(play([role_task(name, cloudflare_access_client_secret=CHOSEN)], verbosity=4, diff=True))
    api.authentik.fault(method="PATCH", path=r"^/api/v3/providers/oauth2/", status=500)
    runs.append(play([role_task(name, cloudflare_access_client_secret=CHOSEN + "2")], verbosity=4, diff=True))
    api.authentik.fault(method="PATCH", path=r"^/api/v3/providers/oauth2/", status=200, body=["not", "an", "object"])
    runs.append(play([role_task(name, cloudflare_access_client_secret=CHOSEN + "3")], verbosity=4, diff=True))
    runs.append(play([role_task(name, cloudflare_access_client_secret=CHOSEN + "4")], verbosity=4,
                     env={"AUTHENTIK_TOKEN": api.info["authentik_token"] + "x"}))
    runs.append(play([{"name": "scim", FQCN + "cloudflare_access_identity_provider": {
        "name": "authentik (%s)" % name, "type": "oidc", "client_id": "x", "client_secret": CHOSEN + "5",
        "auth_url": "https://a.example/authorize", "token_url": "https://a.example/token", "certs_url": "https://a.example/jwks",
        "scim_config": {"enabled": True, "secret": SCIM, "no_such_key": 1}}}], verbosity=4, diff=True))
    api.authentik.control("DELETE", "faults")
    api.cloudflare.control("DELETE", "faults")
    # the lost PUT and the 500 on PATCH are retried (idempotent) and recover; the others fail
    assert [r.rc != 0 for r in runs] == [False, False, True, True, True], [r.rc for r in runs]
    values = old | secrets_of(api) | {CHOSEN, CHOSEN + "2", CHOSEN + "3", CHOSEN + "4", CHOSEN + "5", SCIM,
                                      api.info["authentik_token"] + "x"}
    texts = [("failure %d" % i, r.output) for i, r in enumerate(runs)]
    assert leaks(texts, values) == []
    record("scan-failures", injected=INJECTED["scan-failures"],
           seen="%d runs (3 failed, 2 recovered), no secret in their output" % len(runs),
           rerun="-", objects="-", writes="-")


def test_scan_ansible_runner_events(api, servers, tmp_path, record):
    runner = Path(sys.executable).parent / "ansible-runner"
    assert runner.exists(), "ansible-runner is in the newest-core venv"
    private = tmp_path / "pdd"
    (private / "project").mkdir(parents=True)
    (private / "project" / "play.yml").write_text(json.dumps([{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [role_task("Secret Runner", **with_user(cloudflare_access_client_secret=CHOSEN))]}]))
    (private / "inventory").mkdir()
    (private / "inventory" / "hosts").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    (private / "env").mkdir()
    (private / "env" / "envvars").write_text(json.dumps({
        "AUTHENTIK_URL": servers.authentik_url, "AUTHENTIK_TOKEN": servers.authentik_token,
        "CLOUDFLARE_API_URL": servers.cloudflare_url, "CLOUDFLARE_API_TOKEN": servers.cloudflare_token,
        "CLOUDFLARE_ACCOUNT_ID": servers.account_id, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT)}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHENTIK_", "CLOUDFLARE_", "ANSIBLE_"))}
    env["PATH"] = str(BIN) + ":" + env.get("PATH", "")
    texts = []
    for ident, fault in (("ok", None), ("lost", dict(method="POST", path=r"/access/identity_providers$", lost=True))):
        if fault:
            api.cloudflare.fault(**fault)
            play_file = private / "project" / "play.yml"
            play_file.write_text(play_file.read_text().replace(CHOSEN, CHOSEN + "r").replace("Secret Runner", "Secret Runner Two"))
        proc = subprocess.run([str(runner), "run", str(private), "-p", "play.yml", "--ident", ident, "-vvvv"], env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        art = private / "artifacts" / ident
        assert (art / "job_events").is_dir()
        texts += [(str(p.relative_to(private)), p.read_text(errors="replace")) for p in sorted((art / "job_events").glob("*.json"))]
        texts += [(ident + " stdout", (art / "stdout").read_text(errors="replace")), (ident + " runner", proc.stdout + proc.stderr)]
        assert_no_deprecation(texts[-2][1] + texts[-1][1], "ansible-runner")
    assert (private / "artifacts" / "ok" / "rc").read_text().strip() == "0"
    assert (private / "artifacts" / "lost" / "rc").read_text().strip() != "0"
    values = secrets_of(api) | {CHOSEN, CHOSEN + "r"}
    assert leaks(texts, values) == []
    record("scan-runner", injected=INJECTED["scan-runner"],
           seen="no secret in the job events, stdout and ansible-runner's own output of 2 jobs",
           rerun="a run, and a failed run (lost login method create)", objects="-", writes="-")
