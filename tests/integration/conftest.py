"""Integration test harness: the API test servers and real ``ansible-playbook`` runs.

Fixtures:
  ``servers``  both test servers, started once per session on 127.0.0.1 (in threads).
  ``api``      per test: resets both servers, hands out ``Api`` helpers to read what the servers
               saw, and fails the test if any request broke the vendors' API contract.
  ``play``     runs tasks or a playbook with ``ansible-playbook`` and returns a ``PlayResult``.

Every ``ansible-playbook`` (and ``ansible-runner``) output the suites produce goes through
``assert_no_deprecation``: a ``DEPRECATION WARNING`` anywhere fails the test, on every ansible-core.
The marker ``representative`` picks the part of the suite that tests/run runs on the cores between
the oldest and the newest (docs/development.md, "Test matrix"). ``IDPBRIDGE_ON_CONTROLLER=0`` in the
environment runs every module as a module process instead of in Ansible's worker process.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.servers import serve  # noqa: E402

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
DEPRECATION = "DEPRECATION WARNING"


def deprecations(text: str) -> list[str]:
    """The lines of ``text`` that carry an Ansible deprecation warning."""
    return [line.strip() for line in (text or "").splitlines() if DEPRECATION in line]


def assert_no_deprecation(text: str, what: str = "ansible-playbook") -> None:
    found = deprecations(text)
    assert not found, "%s printed %d deprecation warning(s); the test suites allow none:\n%s" % (
        what, len(found), "\n".join(found))


def pytest_configure(config):
    config.addinivalue_line("markers", "representative: the part of the integration suite run on every core version")


def pytest_report_header(config):
    import ansible
    switch = os.environ.get("IDPBRIDGE_ON_CONTROLLER")
    where = "module processes (IDPBRIDGE_ON_CONTROLLER=%s)" % switch if switch is not None and switch.lower() in (
        "0", "false", "no", "off", "n", "f") else "in the worker process where they can"
    return "ansible-core %s; the collection's modules run %s" % (ansible.__version__, where)


def collections_root() -> Path:
    """A directory holding ``ansible_collections/idpbridge/authentik_cloudflare`` = this checkout."""
    parts = REPO.parts
    if len(parts) >= 3 and parts[-3:] == ("ansible_collections", "idpbridge", "authentik_cloudflare"):
        return REPO.parents[2]
    root = Path(tempfile.mkdtemp(prefix="idpb-collections-"))
    target = root / "ansible_collections" / "idpbridge"
    target.mkdir(parents=True)
    (target / "authentik_cloudflare").symlink_to(REPO)
    # The tree is only a link to the checkout: remove it when the test session ends.
    atexit.register(shutil.rmtree, str(root), True)
    return root


COLLECTIONS_ROOT = collections_root()


class Api:
    """What one test server saw, through its ``/_test/`` control interface."""

    def __init__(self, base: str, token: str, api_base: str):
        self.base = base
        self.api_base = api_base
        self.token = token
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + token

    def control(self, method: str, action: str, body: Any = None) -> Any:
        resp = self.session.request(method, self.base + "/_test/" + action, json=body, timeout=10)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def reset(self) -> None:
        self.control("POST", "reset")

    def requests(self) -> list[dict]:
        return self.control("GET", "requests")

    def clear_log(self) -> None:
        self.control("DELETE", "requests")

    def writes(self) -> list[dict]:
        """The write requests seen, each with its JSON ``body`` (see ``_record_bodies``)."""
        return [r for r in self.requests() if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]

    def reads(self) -> list[dict]:
        return [r for r in self.requests() if r["method"] not in ("POST", "PUT", "PATCH", "DELETE")]

    def state(self) -> dict:
        return self.control("GET", "state")

    def fault(self, **spec: Any) -> None:
        self.control("POST", "faults", spec)

    def config(self, **settings: Any) -> None:
        self.control("POST", "config", settings)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A direct API call (to arrange state behind the modules' back)."""
        return self.session.request(method, self.api_base + path, timeout=10, **kwargs)


@dataclass
class PlayResult:
    rc: int
    stdout: str
    stderr: str
    results: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def task(self, name: str) -> dict:
        """The result of the last task named ``name``."""
        for record in reversed(self.results):
            if record["task"] == name or record["task"].endswith(" : " + name):
                return record["result"]
        raise KeyError("no task named %r ran; tasks: %s" % (name, [r["task"] for r in self.results]))

    def status(self, name: str) -> str:
        for record in reversed(self.results):
            if record["task"] == name or record["task"].endswith(" : " + name):
                return record["status"]
        raise KeyError(name)

    @property
    def changed(self) -> int:
        return sum(s.get("changed", 0) for s in self.stats.values())

    @property
    def failed(self) -> int:
        return sum(s.get("failures", 0) + s.get("unreachable", 0) for s in self.stats.values())

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr


def _record_bodies(server) -> None:
    """Keep the JSON body of every API request the in-process server ``server`` logs.

    The servers' request log has method, path, query and status, not the body; the tests
    want to see exactly which fields a write sent. The wrapper adds ``body`` (parsed JSON, or
    the raw text) to each log entry as it is recorded; nothing else changes.
    """
    app = server.app
    original = app.record

    def record(req, status, note=None):
        original(req, status, note)
        body = None
        if req.raw_body:
            try:
                body = json.loads(req.raw_body.decode("utf-8"))
            except ValueError:
                body = req.raw_body.decode("utf-8", "replace")
        with app.lock:
            for entry in reversed(app.log):
                if entry["method"] == req.method and entry["path"] == req.path and "body" not in entry:
                    entry["body"] = body
                    break

    app.record = record


@pytest.fixture(scope="session")
def servers():
    running = serve.start()
    for server in (running.authentik, running.cloudflare):
        _record_bodies(server)
    yield running
    running.stop()


@dataclass
class Apis:
    authentik: Api
    cloudflare: Api
    info: dict


@pytest.fixture
def api(servers):
    ak = Api(servers.authentik_url, servers.authentik_token, servers.authentik_url + "/api/v3")
    cf = Api(servers.cloudflare.url, servers.cloudflare_token, servers.cloudflare_url)
    for one, page_size in ((ak, 100), (cf, 20)):
        one.reset()
        one.config(page_size=page_size)
    yield Apis(ak, cf, servers.info())
    broken = []
    for name, one in (("authentik", ak), ("cloudflare", cf)):
        for entry in one.requests():
            if entry.get("contract_errors"):
                broken.append("%s %s %s: %s" % (name, entry["method"], entry["path"], entry["contract_errors"]))
    assert not broken, "requests that broke the API contract:\n" + "\n".join(broken)


def _env(servers, extra: dict | None) -> dict:
    env = dict(os.environ)
    for key in list(env):
        if key.startswith(("AUTHENTIK_", "CLOUDFLARE_")):
            del env[key]
    env.update({
        "AUTHENTIK_URL": servers.authentik_url,
        "AUTHENTIK_TOKEN": servers.authentik_token,
        "CLOUDFLARE_API_URL": servers.cloudflare_url,
        "CLOUDFLARE_API_TOKEN": servers.cloudflare_token,
        "CLOUDFLARE_ACCOUNT_ID": servers.account_id,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT),
        "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "idpb_record",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "1",  # shown, so that assert_no_deprecation sees them
        "PATH": str(BIN) + os.pathsep + env.get("PATH", ""),
    })
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


@pytest.fixture
def play(servers, tmp_path):
    """``play(tasks=[...] | playbook=path, vars={}, check=False, diff=False, verbosity=0, env={}, args=[])``.

    ``allow_deprecations=True`` skips the deprecation check, for the one test that makes a module deprecate.
    """
    counter = {"n": 0}

    def run(tasks: list | None = None, playbook: str | Path | None = None, vars: dict | None = None,
            check: bool = False, diff: bool = False, verbosity: int = 0, env: dict | None = None,
            args: list | None = None, gather: bool = False, allow_deprecations: bool = False) -> PlayResult:
        counter["n"] += 1
        n = counter["n"]
        if playbook is None:
            book = [{
                "name": "integration test play",
                "hosts": "localhost",
                "gather_facts": gather,
                "vars": dict(vars or {}),
                "tasks": tasks or [],
            }]
            playbook = tmp_path / ("play%d.yml" % n)
            playbook.write_text(yaml.safe_dump(book, sort_keys=False))
            extra = []
        else:
            extra = []
            if vars:
                varfile = tmp_path / ("vars%d.json" % n)
                varfile.write_text(json.dumps(vars))
                extra = ["-e", "@%s" % varfile]
        inventory = tmp_path / "inventory.ini"
        inventory.write_text(textwrap.dedent("""\
            [local]
            localhost ansible_connection=local ansible_python_interpreter=%s
            """ % sys.executable))
        record = tmp_path / ("record%d.json" % n)
        cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)] + extra
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        cmd += list(args or [])
        proc = subprocess.run(cmd, env=dict(_env(servers, env), IDPB_RECORD_FILE=str(record)), cwd=str(tmp_path),
                              capture_output=True, text=True, timeout=600, check=False)
        if not allow_deprecations:
            assert_no_deprecation(proc.stdout + proc.stderr)
        data = json.loads(record.read_text()) if record.exists() else {"results": [], "stats": {}}
        return PlayResult(proc.returncode, proc.stdout, proc.stderr, data["results"], data["stats"])

    return run
