"""playbooks/cloudflare_access.yml run the way AWX runs a job: through ansible-runner on a private data
dir, with the credentials injected as environment variables rendered from awx/credential_types/ (as
AWX renders them), the survey's answers as extra variables, and a second job of a workflow that gets
the first job's set_stats artifacts as extra variables. Against both API test servers.

Checks: the runner's status, its ``stats`` (changes on the first job, none on the second), the
set_stats artifact in the job events, the summary as the last task, and no API token or client secret
anywhere in the job's event stream or output (artifacts/<ident>/job_events/*.json, stdout, stderr, and
what ansible-runner itself printed). Not scanned: env/ (the injected credentials, by design) and
artifacts/<ident>/command, where ansible-runner records the job's whole environment, credentials
included; AWX keeps those out of the job record itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if not (Path(sys.executable).parent / "ansible-runner").exists():
    pytest.skip("ansible-runner is not installed in this venv (tests/lib.sh puts it in the newest-core venv)", allow_module_level=True)

BIN = Path(sys.executable).parent
PLAYBOOK = "playbooks/cloudflare_access.yml"
SURVEY = json.loads((REPO / "awx" / "survey.json").read_text())
NAME = "AWX Job"
STATS_KEYS = {"cloudflare_access_client_id", "cloudflare_access_login_method_id", "cloudflare_access_test_url",
              "cloudflare_access_application_slug"}


# ---------------------------------------------------------------- what AWX does, without AWX

def credential_type(file_name: str) -> dict:
    data = yaml.safe_load((REPO / "awx" / "credential_types" / file_name).read_text())
    (entry,) = data["credential_types"]
    return entry


def inject(file_name: str, inputs: dict) -> dict:
    """The environment variables AWX sets for a credential of this type with these inputs: empty
    inputs are left out of the template namespace, unset booleans are False, and every env
    injector template is rendered in Jinja's immutable sandbox."""
    entry = credential_type(file_name)
    namespace = {k: v for k, v in inputs.items() if isinstance(v, bool) or v}
    for field in entry["inputs"]["fields"]:
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    return {name: sandbox.from_string(template).render(**namespace) for name, template in entry["injectors"]["env"].items()}


def survey_answers(**answers) -> dict:
    """Extra variables of a launch that takes every survey default except ``answers``."""
    extra = {}
    for question in SURVEY["spec"]:
        variable = question["variable"]
        value = answers.pop(variable, question.get("default"))
        if question["type"] == "multiselect":
            value = [c for c in (value.splitlines() if isinstance(value, str) else value or []) if c.strip()]
            if not value:
                continue  # AWX passes no variable for an empty multiselect
        if value is None:
            continue
        extra[variable] = value
    assert not answers, "not survey questions: %s" % sorted(answers)
    return extra


class Job:
    """One ``ansible-runner run`` and what it left in the private data dir's artifacts."""

    def __init__(self, private_data_dir: Path, ident: str, proc: subprocess.CompletedProcess):
        self.dir = private_data_dir / "artifacts" / ident
        self.proc = proc
        files = sorted((self.dir / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-", 1)[0]))
        self.events = [json.loads(p.read_text()) for p in files]

    @property
    def status(self) -> str:
        return (self.dir / "status").read_text().strip() if (self.dir / "status").exists() else "(no status file)"

    @property
    def rc(self) -> int:
        return int((self.dir / "rc").read_text().strip())

    @property
    def stats(self) -> dict:
        """The play recap, as ``Runner.stats`` gives it: the stats event's counters per host."""
        (event,) = [e for e in self.events if e.get("event") == "playbook_on_stats"]
        return {k: v for k, v in event["event_data"].items()
                if k in ("changed", "ok", "failures", "dark", "skipped", "ignored", "rescued", "processed")}

    @property
    def artifact_data(self) -> dict:
        (event,) = [e for e in self.events if e.get("event") == "playbook_on_stats"]
        return event["event_data"].get("artifact_data") or {}

    def last_task(self) -> dict:
        """event_data of the last task result (ok, changed, skipped or failed) of the job."""
        results = [e for e in self.events if e.get("event", "").startswith("runner_on_")]
        assert results, "the job ran no task"
        return results[-1]["event_data"]

    def changed(self) -> int:
        return sum(self.stats.get("changed", {}).values())

    def stream(self) -> list[tuple[str, str]]:
        """Every file of the job's event stream and output: (name, text)."""
        files = sorted((self.dir / "job_events").glob("*.json"))
        files += [p for p in (self.dir / "stdout", self.dir / "stderr") if p.exists()]
        assert files, "no job events were written to %s" % self.dir
        found = [(str(p.relative_to(self.dir)), p.read_text(errors="replace")) for p in files]
        return found + [("runner's own stdout", self.proc.stdout), ("runner's own stderr", self.proc.stderr)]

    def output(self) -> str:
        text = (self.dir / "stdout").read_text(errors="replace") if (self.dir / "stdout").exists() else ""
        return text + self.proc.stdout + self.proc.stderr


@pytest.fixture
def harness(request):
    """tests/integration/conftest.py as pytest loaded it (``import conftest`` may be tests/unit's)."""
    for plugin in request.config.pluginmanager.get_plugins():
        if getattr(plugin, "__file__", None) and Path(plugin.__file__).resolve() == HERE / "conftest.py":
            return plugin
    raise AssertionError("tests/integration/conftest.py is not loaded")


@pytest.fixture
def collections_root(harness) -> Path:
    """conftest's COLLECTIONS_ROOT."""
    return Path(harness.COLLECTIONS_ROOT)


@pytest.fixture
def awx_job(servers, tmp_path, collections_root, harness):
    """``awx_job(ident, extravars, verbosity=0)`` runs the playbook like an AWX job with both
    credentials attached: ``ansible-runner run`` on a private data dir whose env/envvars holds
    what the credential types inject and env/extravars the launch's variables."""
    private = tmp_path / "private_data_dir"
    (private / "project").mkdir(parents=True)
    shutil.copytree(REPO / "playbooks", private / "project" / "playbooks")
    (private / "inventory").mkdir()
    (private / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    (private / "env").mkdir()

    injected = {}
    injected.update(inject("authentik.yml", {
        "authentik_url": servers.authentik_url,
        "authentik_token": servers.authentik_token,
        # "Skip TLS verification" left unset, as a credential made through the API would be
    }))
    injected.update(inject("cloudflare.yml", {
        "cloudflare_api_token": servers.cloudflare_token,
        "cloudflare_account_id": servers.account_id,
        "cloudflare_api_url": servers.cloudflare_url,
    }))
    assert not [k for k in injected if k.startswith("ANSIBLE_")]
    assert injected["AUTHENTIK_TOKEN"] == servers.authentik_token and injected["CLOUDFLARE_API_TOKEN"] == servers.cloudflare_token
    (private / "env" / "envvars").write_text(json.dumps(dict(injected, ANSIBLE_COLLECTIONS_PATH=str(collections_root))))

    # Only the credentials may bring connection settings: nothing from the environment of the tests.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AUTHENTIK_", "CLOUDFLARE_", "ANSIBLE_COLLECTIONS_PATH"))}
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")

    def run(ident: str, extravars: dict, verbosity: int = 0) -> Job:
        (private / "env" / "extravars").write_text(json.dumps(extravars))
        cmd = [str(BIN / "ansible-runner"), "run", str(private), "-p", PLAYBOOK, "--ident", ident]
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
        job = Job(private, ident, proc)
        harness.assert_no_deprecation(job.output(), "ansible-runner")
        return job

    return run


def provider_secret(api, name: str) -> str:
    (provider,) = [p for p in api.authentik.state()["providers"] if p["name"] == name]
    return provider["client_secret"]


def login_methods(api, name: str) -> list[dict]:
    found = []
    for scope, items in api.cloudflare.state()["identity_providers"].items():
        if api.info["account_id"] in scope:
            found.extend(i for i in items if i.get("name") == name)
    return found


def assert_no_secret(job: Job, secrets: dict) -> None:
    for file_name, text in job.stream():
        for label, value in secrets.items():
            assert value not in text, "%s appears in %s" % (label, file_name)


# ---------------------------------------------------------------- the test

def test_job_then_workflow_follow_up_then_removal(api, servers, awx_job):
    # Job 1: a launch with the survey's defaults and a name.
    first = awx_job("job1", survey_answers(cloudflare_access_name=NAME))
    assert first.status == "successful", first.output()
    assert first.rc == 0
    assert first.changed() >= 3, first.stats
    assert not first.stats["failures"] and not first.stats["dark"]

    (provider,) = [p for p in api.authentik.state()["providers"] if p["name"] == NAME]
    (method,) = login_methods(api, "authentik (%s)" % NAME)
    assert method["config"]["client_id"] == provider["client_id"]
    assert method["config"]["client_secret"] == provider["client_secret"]

    # set_stats: in the stats event's artifact_data, exactly what a workflow passes on, no secret
    artifacts = first.artifact_data
    assert set(artifacts) == STATS_KEYS, artifacts
    assert artifacts["cloudflare_access_client_id"] == provider["client_id"]
    assert artifacts["cloudflare_access_login_method_id"] == method["id"]
    assert artifacts["cloudflare_access_test_url"].endswith("/cdn-cgi/access/test-idp/" + method["id"])
    assert artifacts["cloudflare_access_application_slug"] == "awx-job"
    # the playbook's own summary is the last task, and says what was made
    last = first.last_task()
    assert (last["task"], last.get("role") or "") == ("Summary", ""), last
    assert method["id"] in json.dumps(last["res"]["msg"]) and provider["client_id"] in json.dumps(last["res"]["msg"])

    secrets = {
        "the authentik API token": servers.authentik_token,
        "the Cloudflare API token": servers.cloudflare_token,
        "the client secret": provider_secret(api, NAME),
    }
    assert all(len(value) >= 20 for value in secrets.values())
    assert_no_secret(first, secrets)

    # Job 2: the next node of a workflow gets job 1's artifacts as extra variables; nothing to do,
    # no write request. Verbose, as a job launched for debugging would be.
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    second = awx_job("job2", dict(survey_answers(cloudflare_access_name=NAME), **artifacts), verbosity=3)
    assert second.status == "successful", second.output()
    assert second.changed() == 0, second.stats
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []
    assert second.artifact_data == artifacts
    assert_no_secret(second, secrets)

    # Job 3: the same template with State = absent removes what job 1 made, and hands nothing on.
    third = awx_job("job3", survey_answers(cloudflare_access_name=NAME, cloudflare_access_state="absent"))
    assert third.status == "successful", third.output()
    assert third.changed() == 3, third.stats
    assert third.artifact_data == {}
    last = third.last_task()
    assert last["task"] == "Summary" and "Removed" in json.dumps(last["res"]["msg"]), last
    assert all(p["name"] != NAME for p in api.authentik.state()["providers"])
    assert login_methods(api, "authentik (%s)" % NAME) == []
    assert_no_secret(third, secrets)
