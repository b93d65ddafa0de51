"""What the reliability tests share: running the role, counting objects on both servers, secrets."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import yaml

from tests.integration.conftest import BIN, _env, assert_no_deprecation

ROLE = "idpbridge.authentik_cloudflare.cloudflare_access"
FQCN = "idpbridge.authentik_cloudflare."
TEST_USER = "idpbridge-tester"
TEST_PASSWORD = "tst-pw-Kq7Vd2Lm9Xr4Bz8Wn3"  # seeded in the authentik test server


def role_task(name, **role_vars):
    task = {"name": "Run the role", "ansible.builtin.include_role": {"name": ROLE},
            "vars": dict({"cloudflare_access_name": name, "cloudflare_access_verify": False}, **role_vars)}
    return task


def fast(task, timeout=None, retries=None):
    """``task`` in a block whose module_defaults set timeout/retries for both APIs' modules."""
    options = {}
    if timeout is not None:
        options["timeout"] = timeout
    if retries is not None:
        options["retries"] = retries
    defaults = {"group/" + FQCN + "authentik": options, "group/" + FQCN + "cloudflare": options}
    return {"name": "With short timeouts", "module_defaults": defaults, "block": [task]}


def objects(api, name):
    """(providers, applications, login methods) named after ``name`` on the test servers."""
    ak = api.authentik.state()
    slug = slugify(name)
    providers = [p for p in ak["providers"] if p["name"] == name]
    apps = [a for a in ak.get("applications", []) if a.get("slug") == slug]
    idps = login_methods(api, name)
    return len(providers), len(apps), len(idps)


def objects_text(api, name):
    return "authentik %d/%d, Cloudflare %d" % objects(api, name)


def login_methods(api, name):
    state = api.cloudflare.state()
    found = []
    for scope, items in state["identity_providers"].items():
        if api.info["account_id"] in scope:
            found.extend(i for i in items if i["name"] == "authentik (%s)" % name)
    return found


def provider_secret(api, name):
    for provider in api.authentik.state()["providers"]:
        if provider["name"] == name:
            return provider.get("client_secret")
    return None


def slugify(name):
    return re.sub(r"^-|-$", "", re.sub(r"[^a-z0-9]+", "-", name.lower()))


def writes(api):
    """(authentik writes, Cloudflare writes) seen since the last log clear."""
    return len(api.authentik.writes()), len(api.cloudflare.writes())


def clear(api):
    api.authentik.clear_log()
    api.cloudflare.clear_log()


def message(result):
    """The failure message of the first failed task of a run, or ''."""
    for record in result.results:
        if record["status"] == "failed":
            return record["result"].get("msg") or ""
    return ""


def secrets_of(api):
    """Every secret value the run must never show: tokens, client secrets, the test password."""
    values = {api.info["authentik_token"], api.info["cloudflare_token"], TEST_PASSWORD}
    for provider in api.authentik.state()["providers"]:
        if provider.get("client_secret"):
            values.add(provider["client_secret"])
    for items in api.cloudflare.state()["identity_providers"].values():
        for item in items:
            secret = (item.get("config") or {}).get("client_secret")
            if secret and len(secret) > 8:
                values.add(secret)
    return values


def start_playbook(servers, tmp_path, tasks, label, env=None):
    """``ansible-playbook`` of ``tasks`` started in a session of its own (for kills and races): the Popen."""
    book = tmp_path / ("%s.yml" % label)
    book.write_text(yaml.safe_dump([{"name": label, "hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    inventory = tmp_path / "inventory-bg.ini"
    inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    out = open(tmp_path / ("%s.out" % label), "w", encoding="utf-8")  # pylint: disable=consider-using-with  # closed by finish()
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", str(inventory), str(book)],
                            env=dict(_env(servers, env), IDPB_RECORD_FILE=str(tmp_path / ("%s.json" % label))),
                            cwd=str(tmp_path), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    proc.out_path = tmp_path / ("%s.out" % label)
    proc.out_file = out
    return proc


def finish(proc, timeout=300):
    """Wait for ``proc``; (rc, output)."""
    rc = proc.wait(timeout=timeout)
    proc.out_file.close()
    output = proc.out_path.read_text(errors="replace")
    assert_no_deprecation(output)
    return rc, output


def descendants(pid):
    """Every process below ``pid`` (from /proc): ansible-core 2.19+ starts each worker in a session of its own,
    so a signal to ansible-playbook's process group does not reach them."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_group(proc):
    """SIGKILL of the run, as a scheduler kills a job: ansible-playbook and every worker and module process below it."""
    below = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    for pid in below:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    proc.wait(timeout=30)
    proc.out_file.close()
    assert_no_deprecation(proc.out_path.read_text(errors="replace"), "the killed ansible-playbook")
