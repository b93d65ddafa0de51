"""Benchmark: the cloudflare_access role against the same job written with ansible.builtin.uri.

    python tools/bench.py                 # the full benchmark: writes docs/benchmarks.md and docs/benchmarks.png
    python tools/bench.py --pairs 7       # more A/B pairs
    python tools/bench.py --quick         # CI: no latency, one pair, small series; checks request counts only

Starts its own API test servers (tests/servers/serve.py) on 127.0.0.1 with a latency profile
(tests/servers/latency.py, default authentik-2026.2) and stops them by PID at the end. Then, with
the ansible-playbook next to the running Python:

* first run (from the seeded state) and converged run (second run on an unchanged system), as
  paired runs A B A B ... of tests/bench/role.yml (the role) and tests/bench/uri.yml (a careful
  ansible.builtin.uri playbook); medians, min and max of each, and the paired ratio role / uri;
* check mode of the converged role;
* the requests each API saw, per run and per task (a callback writes when each task ran; each
  logged request belongs to the task running at that moment);
* the scale series: the converged role and uri playbook for the whole role looped over several
  login methods (one authentik application and login method each), and with several unrelated login
  methods in the Cloudflare account;
* the protected applications series: one login method protecting 1, 10, 50, 200 applications
  (cloudflare_access_applications), first run, converged run and check mode of the role against the
  uri playbook doing the same (policies and applications listed once, what is missing created), with
  the Cloudflare test server's rate limit on (1,200 requests per 5 minutes, 429 with Retry-After).

The request counts are checked against the project's limits (exit 1 when one is broken): a
converged run and check mode send no write, at most 10 requests to authentik and 3 to
Cloudflare per login method; for protected applications, a converged run sends at most 8
Cloudflare requests plus the pages of the applications and policies lists, check mode the same
requests, a first run exactly two writes per application and no request is refused with 429.
Times are reported, never checked.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "tests" / "bench"
LIMITS = {"authentik": 10, "cloudflare": 3}
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# protected applications: a converged run's Cloudflare requests beyond the pages of the two lists
PROTECTED_BASE = 8
# the largest page the module asks the applications and policies lists for (plugins/module_utils/_access_set_apply.py)
PROTECTED_PAGE = 1000


class Servers:
    """tests/servers/serve.py in a process of its own, stopped by its PID."""

    def __init__(self, latency, rate_limit=False):
        cmd = [sys.executable, str(ROOT / "tests" / "servers" / "serve.py")]
        if latency:
            cmd += ["--latency", latency]
        if rate_limit:
            cmd.append("--rate-limit")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)  # pylint: disable=consider-using-with
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the test servers did not start")
        self.info = json.loads(line)
        self.urls = {"authentik": self.info["authentik_url"],
                     "cloudflare": self.info["cloudflare_url"].rsplit("/client/v4", 1)[0]}
        self.tokens = {"authentik": self.info["authentik_token"], "cloudflare": self.info["cloudflare_token"]}

    def control(self, api, method, action, body=None):
        response = requests.request(method, "%s/_test/%s" % (self.urls[api], action), json=body, timeout=60,
                                    headers={"Authorization": "Bearer " + self.tokens[api]})
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self):
        for api in self.urls:
            self.control(api, "POST", "reset")

    def take_log(self):
        """Every request each server saw since the last call, then an empty log."""
        out = {}
        for api in self.urls:
            out[api] = self.control(api, "GET", "requests")
            self.control(api, "DELETE", "requests")
        return out

    def add_login_methods(self, count):
        """``count`` unrelated OIDC login methods in the account (sent concurrently: the profile is slow)."""
        url = "%s/accounts/%s/access/identity_providers" % (self.info["cloudflare_url"], self.info["account_id"])
        headers = {"Authorization": "Bearer " + self.tokens["cloudflare"]}

        def create(index):
            body = {"name": "unrelated %03d" % index, "type": "oidc",
                    "config": {"client_id": "c%d" % index, "client_secret": "s%d" % index,
                               "auth_url": "https://idp.example.com/auth", "token_url": "https://idp.example.com/token",
                               "certs_url": "https://idp.example.com/certs"}}
            requests.post(url, json=body, headers=headers, timeout=60).raise_for_status()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(create, range(count)))

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Runner:
    """ansible-playbook runs of the bench playbooks against the servers, timed and counted."""

    def __init__(self, servers, tmp):
        self.servers = servers
        self.tmp = tmp
        collections = tmp / "collections"
        (collections / "ansible_collections" / "idpbridge").mkdir(parents=True)
        (collections / "ansible_collections" / "idpbridge" / "authentik_cloudflare").symlink_to(ROOT)
        self.timeline = tmp / "timeline.jsonl"
        info = servers.info
        self.env = dict(
            os.environ, AUTHENTIK_URL=info["authentik_url"], AUTHENTIK_TOKEN=info["authentik_token"],
            CLOUDFLARE_API_URL=info["cloudflare_url"], CLOUDFLARE_API_TOKEN=info["cloudflare_token"],
            CLOUDFLARE_ACCOUNT_ID=info["account_id"], ANSIBLE_COLLECTIONS_PATH=str(collections),
            ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_CALLBACK_PLUGINS=str(BENCH / "callback_plugins"),
            ANSIBLE_CALLBACKS_ENABLED="bench_timeline", IDPB_BENCH_TIMELINE=str(self.timeline),
            ANSIBLE_CONFIG=str(BENCH / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
        self.playbook = str(Path(sys.executable).parent / "ansible-playbook")

    def run(self, which, apps=1, check=False, protected=0):
        """One run of tests/bench/<which>.yml: seconds, requests per API, requests and seconds per task.
        ``protected``: applications the first login method protects (0: the list is not given)."""
        self.servers.take_log()
        if self.timeline.exists():
            self.timeline.unlink()
        cmd = [self.playbook, str(BENCH / ("%s.yml" % which)), "-e", "bench_apps=%d" % apps,
               "-e", "bench_protected=%d" % protected]
        if check:
            cmd.append("--check")
        started = time.monotonic()
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        if proc.returncode:
            print(proc.stdout[-4000:], proc.stderr[-4000:], file=sys.stderr)
            raise SystemExit("%s.yml failed (exit %d)" % (which, proc.returncode))
        log = self.servers.take_log()
        tasks = [json.loads(line) for line in self.timeline.read_text().splitlines()] if self.timeline.exists() else []
        per_task = {}
        for task in tasks:
            key = task["task"]
            entry = per_task.setdefault(key, {"task": key, "action": task["action"], "runs": 0, "seconds": 0.0,
                                              "authentik": 0, "cloudflare": 0})
            if task["status"] != "skipped":
                entry["runs"] += 1
            if task["start"] is not None:
                entry["seconds"] += task["end"] - task["start"]
        for api, entries in log.items():
            for request in entries:
                for task in tasks:
                    if task["start"] is not None and task["start"] <= request["time"] <= task["end"]:
                        per_task[task["task"]][api] += 1
                        break
        return {
            "which": which, "apps": apps, "check": check, "protected": protected, "seconds": seconds,
            "requests": {api: len(entries) for api, entries in log.items()},
            "writes": {api: sum(1 for r in entries if r["method"] in WRITES) for api, entries in log.items()},
            # writes to the Access applications and policies (the protected applications' own)
            "access_writes": sum(1 for r in log.get("cloudflare", []) if r["method"] in WRITES
                                 and ("/access/apps" in r["path"] or "/access/policies" in r["path"])),
            "throttled": {api: sum(1 for r in entries if r["status"] == 429) for api, entries in log.items()},
            "tasks": list(per_task.values()),
        }


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def paired(runner, servers, pairs, first):
    """A B A B ...: role then uri, ``pairs`` times. ``first``: each run from the seeded state."""
    role, uri = [], []
    if not first:
        servers.reset()
        runner.run("role")  # both playbooks then find the same, converged objects
    for _pair in range(pairs):
        for which, into in (("role", role), ("uri", uri)):
            if first:
                servers.reset()
            into.append(runner.run(which))
    ratios = [a["seconds"] / b["seconds"] for a, b in zip(role, uri)]
    return {"role": role, "uri": uri, "ratio": spread(ratios),
            "role_seconds": spread([r["seconds"] for r in role]), "uri_seconds": spread([r["seconds"] for r in uri])}


def scale(runner, servers, app_counts, login_method_counts, method_apps, with_uri=True):
    """Converged role and uri runs for each application count, and for ``method_apps`` applications with
    unrelated login methods in the account."""
    def uri(apps=1):
        return runner.run("uri", apps=apps) if with_uri else None
    by_apps = []
    for count in app_counts:
        servers.reset()
        runner.run("role", apps=count)
        by_apps.append({"apps": count, "role": runner.run("role", apps=count), "uri": uri(count)})
    by_methods = []
    for count in login_method_counts:
        servers.reset()
        servers.add_login_methods(count)
        runner.run("role", apps=method_apps)
        by_methods.append({"login_methods": count, "apps": method_apps, "role": runner.run("role", apps=method_apps),
                           "uri": uri(method_apps)})
    return by_apps, by_methods


def protected_series(runner, servers, counts, with_uri=True):
    """One login method protecting ``count`` applications: the role's first run, converged run and check mode, and
    the uri playbook's first and converged run, each from the seeded state."""
    series = []
    for count in counts:
        servers.reset()
        item = {"count": count, "role_first": runner.run("role", protected=count)}
        item["role"] = runner.run("role", protected=count)
        item["role_check"] = runner.run("role", protected=count, check=True)
        if with_uri:
            servers.reset()
            item["uri_first"] = runner.run("uri", protected=count)
            item["uri"] = runner.run("uri", protected=count)
        series.append(item)
    return series


def protected_limit(count):
    """Cloudflare requests a converged run protecting ``count`` applications may send: a few whatever the count, and
    the pages of the applications and policies lists (``count`` entries each, plus the seeded ones)."""
    return PROTECTED_BASE + 2 * max(1, int(math.ceil(count / float(PROTECTED_PAGE))))


def protected_broken(series):
    """The protected applications targets on requests; a list of broken ones."""
    broken = []
    for item in series:
        name = "protected applications, %d" % item["count"]
        conv, check, first = item["role"], item["role_check"], item["role_first"]
        if conv["writes"]["cloudflare"] or conv["writes"]["authentik"]:
            broken.append("%s: converged run wrote" % name)
        if conv["requests"]["cloudflare"] > protected_limit(item["count"]):
            broken.append("%s: converged run sent %d requests to Cloudflare (limit %d)"
                          % (name, conv["requests"]["cloudflare"], protected_limit(item["count"])))
        if check["requests"] != conv["requests"] or sum(check["writes"].values()):
            broken.append("%s: check mode sent %s, the converged run %s" % (name, check["requests"], conv["requests"]))
        if first["access_writes"] != 2 * item["count"]:
            broken.append("%s: first run wrote %d times to applications and policies (want %d)"
                          % (name, first["access_writes"], 2 * item["count"]))
        for run_name, run in (("first run", first), ("converged run", conv), ("check mode", check)):
            if sum(run["throttled"].values()):
                broken.append("%s: %s got %d answers 429" % (name, run_name, sum(run["throttled"].values())))
    return broken


def offboarding(runner, servers, sizes, tmp):
    """Converged runs of tests/bench/offboarding.yml (the role with the leaver check and the access review) for
    each directory size: that many authentik users in the group the application allows, each holding a live
    Access session through the role's login method, so the leaver check has nobody to revoke."""
    runner.env["IDPB_BENCH_REVIEW"] = str(tmp / "access-review.json")
    cf = servers.info["cloudflare_url"] + "/accounts/%s/access" % servers.info["account_id"]
    headers = {"Authorization": "Bearer " + servers.tokens["cloudflare"]}
    out = []
    for size in sizes:
        servers.reset()
        servers.control("authentik", "POST", "users", {"users": [
            {"username": "bench-%04d" % i, "email": "bench-%04d@example.org" % i, "groups": ["bench"]}
            for i in range(size)]})
        runner.run("offboarding")  # first run: the login method and the application
        idps = requests.get(cf + "/identity_providers", params={"per_page": 100}, headers=headers, timeout=60).json()
        (idp,) = [i for i in idps["result"] if i["name"] == "authentik (Bench offboarding)"]
        servers.control("cloudflare", "POST", "access/sessions", {"people": [
            {"email": "bench-%04d@example.org" % i, "idp_id": idp["id"], "apps": ["offboarding.bench.example.com"]}
            for i in range(size)]})
        runner.run("offboarding")  # the review file is written once
        run = runner.run("offboarding")
        run["directory_users"] = size
        out.append(run)
    return out


def offboarding_markdown(series):
    lines = ["## Offboarding: the leaver check and the access review (converged)", "",
             "`tests/bench/offboarding.yml`: the role for one protected application, with `cloudflare_access_revoke_"
             "leavers` (its default) and `cloudflare_access_review_dest`; every directory user holds a live Access "
             "session through the login method and may enter, so there is nobody to revoke and the review file stays "
             "as it is.", "",
             _row(["directory users", "run s", "requests authentik / Cloudflare", "writes",
                   "leaver check s (authentik / Cloudflare)", "review s (authentik / Cloudflare)"]), _row(["---"] * 6)]
    for run in series:
        tasks = dict((t["task"].split(" : ")[-1], t) for t in run["tasks"])
        cells = []
        for name in ("End the Access sessions of people authentik no longer admits", "Write the access review"):
            task = tasks.get(name) or {"seconds": 0, "authentik": 0, "cloudflare": 0}
            cells.append("%s (%d / %d)" % (_s(task["seconds"]), task["authentik"], task["cloudflare"]))
        lines.append(_row([run["directory_users"], _s(run["seconds"]),
                           "%d / %d" % (run["requests"]["authentik"], run["requests"]["cloudflare"]),
                           sum(run["writes"].values())] + cells))
    return "\n".join(lines + [""])


def cloudflare_limit(apps, login_methods):
    """Cloudflare requests a converged run for ``apps`` applications may cost, with ``login_methods`` login methods
    in the account: per application the organization, the login method and the policies, and once per run the
    further pages of the login method list (Cloudflare has no name filter; the test server's page size is 20)."""
    return 3 * apps + max(1, int(math.ceil(login_methods / 20.0))) - 1


def check_limits(results):
    """The request limits the project keeps; a list of broken ones."""
    broken = []
    runs = [("converged run", r, 1) for r in results["converged"]["role"]]
    runs += [("check mode", r, 1) for r in results["check"]]
    runs += [("converged run, %d applications" % s["apps"], s["role"], s["apps"]) for s in results["by_apps"]]
    runs += [("converged run, %d applications and %d unrelated login methods" % (s["apps"], s["login_methods"]),
              s["role"], s["apps"] + s["login_methods"]) for s in results["by_methods"]]
    for name, run, login_methods in runs:
        limits = {"authentik": LIMITS["authentik"] * run["apps"], "cloudflare": cloudflare_limit(run["apps"], login_methods)}
        for api, limit in limits.items():
            if run["writes"][api]:
                broken.append("%s: %d write(s) to %s" % (name, run["writes"][api], api))
            if run["requests"][api] > limit:
                broken.append("%s: %d requests to %s (limit %d)" % (name, run["requests"][api], api, limit))
    return broken + protected_broken(results.get("protected", []))


# ---- report -------------------------------------------------------------------------------------
def _s(value):
    return "%.2f" % value


def _row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def markdown(results, args, plot_name):
    conv, first = results["converged"], results["first"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `python tools/bench.py` (%s); do not edit by hand. The API test servers ran with the "
        "latency profile `%s` (tests/servers/latency.py: authentik per route as measured on a real authentik "
        "2026.2.2, Cloudflare a flat 0.15 s per request); every run is a full `ansible-playbook` process, "
        "so the times include Ansible's own start-up and each module's." % (
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), args.latency or "none"),
        "",
        "*role* is `tests/bench/role.yml` (the `cloudflare_access` role with its defaults, the verification "
        "included); *uri* is `tests/bench/uri.yml`, the same job written with `ansible.builtin.uri` the way a "
        "careful user would: filtered lookups, create what is missing, no comparison of existing settings, "
        "no test. Runs are paired (role, uri, role, uri, ...) and the ratio is taken per pair.",
        "",
        "## Role against the uri playbook (one application)",
        "",
        _row(["run", "pairs", "role median s (min-max)", "uri median s (min-max)", "ratio role/uri median (min-max)",
              "role requests authentik / Cloudflare", "uri requests authentik / Cloudflare"]),
        _row(["---"] * 7),
    ]
    for name, data in (("first run", first), ("converged run", conv)):
        rs, us, ra = data["role_seconds"], data["uri_seconds"], data["ratio"]
        role_req, uri_req = data["role"][-1]["requests"], data["uri"][-1]["requests"]
        lines.append(_row([name, rs["n"], "%s (%s-%s)" % (_s(rs["median"]), _s(rs["min"]), _s(rs["max"])),
                           "%s (%s-%s)" % (_s(us["median"]), _s(us["min"]), _s(us["max"])),
                           "**%s** (%s-%s)" % (_s(ra["median"]), _s(ra["min"]), _s(ra["max"])),
                           "%d / %d" % (role_req["authentik"], role_req["cloudflare"]),
                           "%d / %d" % (uri_req["authentik"], uri_req["cloudflare"])]))
    check = spread([r["seconds"] for r in results["check"]])
    last_check = results["check"][-1]
    lines += [
        "",
        "Check mode of the converged role: median %s s (%s-%s, %d runs), %d / %d requests, %d writes."
        % (_s(check["median"]), _s(check["min"]), _s(check["max"]), check["n"], last_check["requests"]["authentik"],
           last_check["requests"]["cloudflare"], sum(last_check["writes"].values())),
        "",
        "Targets: converged ratio at most 0.75, first run at most 1.0; a converged run and check mode at most "
        "10 requests to authentik and 3 to Cloudflare, no write.",
        "",
        "## Where the converged role spends its time (last converged run)",
        "",
        _row(["task", "module", "seconds", "requests authentik", "requests Cloudflare"]),
        _row(["---"] * 5),
    ]
    for task in conv["role"][-1]["tasks"]:
        lines.append(_row([task["task"], task["action"].split(".")[-1], _s(task["seconds"]), task["authentik"],
                           task["cloudflare"]]))
    lines += ["", "The uri playbook's converged run, for comparison:", "",
              _row(["task", "seconds", "requests authentik", "requests Cloudflare"]), _row(["---"] * 4)]
    for task in conv["uri"][-1]["tasks"]:
        lines.append(_row([task["task"], _s(task["seconds"]), task["authentik"], task["cloudflare"]]))
    base = results["by_apps"][0] if results["by_apps"] else None
    lines += ["", "## Scale: the whole role looped over several login methods", "",
              "One authentik application and Cloudflare login method per loop item (`tests/bench/role.yml` includes the "
              "role once per item; no protected applications).", "",
              _row(["login methods", "role s", "role s per login method", "role requests authentik / Cloudflare",
                    "uri s", "uri s per login method", "uri requests authentik / Cloudflare"]),
              _row(["---"] * 7)]
    for item in results["by_apps"]:
        role, uri, n = item["role"], item["uri"], item["apps"]
        lines.append(_row([n, _s(role["seconds"]), _s(role["seconds"] / n),
                           "%d / %d" % (role["requests"]["authentik"], role["requests"]["cloudflare"]),
                           _s(uri["seconds"]), _s(uri["seconds"] / n),
                           "%d / %d" % (uri["requests"]["authentik"], uri["requests"]["cloudflare"])]))
    if base and len(results["by_apps"]) > 1:
        last = results["by_apps"][-1]
        marginal = (last["role"]["seconds"] - base["role"]["seconds"]) / (last["apps"] - base["apps"])
        lines += ["", "Each further login method costs the role %s s (from %d to %d); one alone "
                  "costs %s s, of which a share is `ansible-playbook`'s own start-up." % (
                      _s(marginal), base["apps"], last["apps"], _s(base["role"]["seconds"]))]
    apps = results["by_methods"][0]["apps"] if results["by_methods"] else 0
    lines += ["", "## Scale: unrelated login methods in the Cloudflare account (%d applications)" % apps, "",
              _row(["unrelated login methods", "role s", "role s per application", "role requests authentik / Cloudflare",
                    "uri s", "uri requests authentik / Cloudflare"]), _row(["---"] * 6)]
    for item in results["by_methods"]:
        role, uri = item["role"], item["uri"]
        lines.append(_row([item["login_methods"], _s(role["seconds"]), _s(role["seconds"] / item["apps"]),
                           "%d / %d" % (role["requests"]["authentik"], role["requests"]["cloudflare"]),
                           _s(uri["seconds"]), "%d / %d" % (uri["requests"]["authentik"], uri["requests"]["cloudflare"])]))
    lines += ["", "Cloudflare has no name filter for login methods: the list is read page by page (20 per page). The role "
              "reads it once per run, in the first application's login method task, and passes the ids it saw to the "
              "next applications (`known_ids`), which read their login method by id: one request each, whatever the "
              "account holds. The uri playbook lists once in all.", ""]
    lines += protected_markdown(results.get("protected", []), args)
    if plot_name:
        lines += ["![Wall time of converged runs: the role looped over login methods, and protected applications]"
                  "(%s)" % plot_name, ""]
    broken = check_limits(results)
    lines += ["## Request limits", "", ("All kept." if not broken else "Broken: " + "; ".join(broken)), ""]
    return "\n".join(lines)


def protected_markdown(series, args):
    """The protected applications section of the report."""
    if not series:
        return []
    lines = ["## Protected applications of one login method", "",
             "`cloudflare_access_applications` with 1 to %d entries (one task of the module "
             "`cloudflare_access_applications`) against the uri playbook protecting the same applications the way a "
             "careful user would (policies and applications listed once, all pages; what is missing created; nothing "
             "compared). The Cloudflare test server's rate limit was on (%s). Each run kind from the seeded state."
             % (max(item["count"] for item in series), "1,200 requests per 5 minutes, 429 with Retry-After"
                if args.rate_limit else "off"), "",
             _row(["applications", "role first s", "role converged s", "role check s", "uri first s", "uri converged s",
                   "ratio role/uri converged", "converged requests Cloudflare (limit)", "check requests Cloudflare",
                   "first run writes to apps and policies", "429 answers"]),
             _row(["---"] * 11)]
    for item in series:
        role, uri = item["role"], item.get("uri")
        throttled = sum(sum(item[k]["throttled"].values()) for k in ("role_first", "role", "role_check", "uri_first", "uri")
                        if k in item)
        lines.append(_row([
            item["count"], _s(item["role_first"]["seconds"]), _s(role["seconds"]), _s(item["role_check"]["seconds"]),
            _s(item["uri_first"]["seconds"]) if uri else "-", _s(uri["seconds"]) if uri else "-",
            ("**%s**" % _s(role["seconds"] / uri["seconds"])) if uri else "-",
            "%d (%d)" % (role["requests"]["cloudflare"], protected_limit(item["count"])),
            item["role_check"]["requests"]["cloudflare"], item["role_first"]["access_writes"], throttled]))
    first, last = series[0], series[-1]
    lines += ["", "Converged wall time at %d applications is %s times that at %d. Targets: converged run at most %d "
              "Cloudflare requests plus the pages of the two lists, no write; wall time at 200 at most 1.5 times that at "
              "1; role/uri at most 0.5 at 50 and 200; first run exactly two writes per application and no 429; check "
              "mode the same requests as the converged run." % (
                  last["count"], _s(last["role"]["seconds"] / first["role"]["seconds"]), first["count"], PROTECTED_BASE),
              "",
              "Where the converged role spends its time at %d applications:" % last["count"], "",
              _row(["task", "module", "seconds", "requests authentik", "requests Cloudflare"]), _row(["---"] * 5)]
    for task in last["role"]["tasks"]:
        lines.append(_row([task["task"], task["action"].split(".")[-1], _s(task["seconds"]), task["authentik"],
                           task["cloudflare"]]))
    lines.append("")
    return lines


def plot(results, path):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    apps = [item["apps"] for item in results["by_apps"]]
    fig, axis = plt.subplots(figsize=(6, 4), dpi=100)
    axis.plot(apps, [item["role"]["seconds"] for item in results["by_apps"]], "o-", label="role looped over login methods")
    axis.plot(apps, [item["uri"]["seconds"] for item in results["by_apps"]], "s--", label="uri, several login methods")
    protected = [item for item in results.get("protected", []) if item.get("uri")]
    if protected:
        counts = [item["count"] for item in protected]
        axis.plot(counts, [item["role"]["seconds"] for item in protected], "^-", label="role, protected applications")
        axis.plot(counts, [item["uri"]["seconds"] for item in protected], "v--", label="uri, protected applications")
        axis.set_xscale("symlog", linthresh=10)
    axis.set_xlabel("login methods, or protected applications of one login method")
    axis.set_ylabel("wall time, seconds")
    axis.set_title("Converged run against the latency profile")
    axis.grid(True, alpha=0.3)
    axis.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--pairs", type=int, default=5, help="A/B pairs per run kind (default %(default)s)")
    parser.add_argument("--apps", default="1,10,50",
                        help="login method counts of the series that loops the whole role over several login methods")
    parser.add_argument("--protected", default="1,10,50,200",
                        help="application counts of the protected applications series (one login method)")
    parser.add_argument("--no-rate-limit", dest="rate_limit", action="store_false",
                        help="switch the Cloudflare test server's rate limit off (default: on, like Cloudflare's)")
    parser.add_argument("--login-methods", default="1,50,200", help="unrelated login method counts")
    parser.add_argument("--login-method-apps", type=int, default=10,
                        help="applications of the unrelated login method series (default %(default)s)")
    parser.add_argument("--latency", default="authentik-2026.2", help="latency profile of the test servers ('none': none)")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"), help="the report (Markdown)")
    parser.add_argument("--quick", action="store_true",
                        help="CI: no latency, one pair, 2 login methods, 25 unrelated ones, 3 protected applications, "
                             "no uri runs in the series, no report")
    parser.add_argument("--json", help="also write every measurement to this file")
    parser.add_argument("--offboarding", default="10,1000",
                        help="directory sizes of the offboarding series ('' skips it; default %(default)s)")
    parser.add_argument("--offboarding-only", action="store_true", help="run only the offboarding series and print it")
    args = parser.parse_args()
    if args.quick:
        args.pairs, args.apps, args.login_methods, args.latency, args.output = 1, "2", "25", "none", ""
        args.login_method_apps, args.protected = 2, "3"
        args.offboarding = "10"
    if args.latency == "none":
        args.latency = None
    app_counts = [int(n) for n in args.apps.split(",") if n]
    method_counts = [int(n) for n in args.login_methods.split(",") if n]
    protected_counts = [int(n) for n in args.protected.split(",") if n]
    tmp = Path(tempfile.mkdtemp(prefix="idpb-bench-"))
    servers = Servers(args.latency, args.rate_limit)
    try:
        runner = Runner(servers, tmp)
        sizes = [int(n) for n in args.offboarding.split(",") if n]
        if args.offboarding_only:
            print(offboarding_markdown(offboarding(runner, servers, sizes, tmp)))
            return 0
        results = {"first": paired(runner, servers, args.pairs, first=True)}
        results["converged"] = paired(runner, servers, args.pairs, first=False)
        results["check"] = [runner.run("role", check=True) for _run in range(max(1, min(3, args.pairs)))]
        results["by_apps"], results["by_methods"] = scale(runner, servers, app_counts, method_counts,
                                                          args.login_method_apps, with_uri=not args.quick)
        results["protected"] = protected_series(runner, servers, protected_counts, with_uri=not args.quick)
        results["offboarding"] = offboarding(runner, servers, sizes, tmp)
    finally:
        servers.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.output:
        out = Path(args.output)
        plot_path = out.with_suffix(".png")
        plot(results, plot_path)
        out.write_text(markdown(results, args, plot_path.name) + "\n" + offboarding_markdown(results["offboarding"]))
        print("wrote %s and %s" % (out, plot_path))
    for name in ("first", "converged"):
        data = results[name]
        print("%-14s role %5.2f s  uri %5.2f s  ratio role/uri median %.2f (min %.2f, max %.2f, %d pairs)" % (
            name + " run", data["role_seconds"]["median"], data["uri_seconds"]["median"], data["ratio"]["median"],
            data["ratio"]["min"], data["ratio"]["max"], data["ratio"]["n"]))
    last = results["converged"]["role"][-1]
    print("converged role requests: authentik %d, Cloudflare %d"
          % (last["requests"]["authentik"], last["requests"]["cloudflare"]))
    for task in last["tasks"]:
        print("  %-50s %5.2f s  authentik %d  Cloudflare %d"
              % (task["task"][:50], task["seconds"], task["authentik"], task["cloudflare"]))
    for item in results["protected"]:
        print("protected %4d: role first %6.2f s, converged %5.2f s (Cloudflare %d requests), check %5.2f s%s" % (
            item["count"], item["role_first"]["seconds"], item["role"]["seconds"], item["role"]["requests"]["cloudflare"],
            item["role_check"]["seconds"], (", uri converged %5.2f s, ratio %.2f" % (
                item["uri"]["seconds"], item["role"]["seconds"] / item["uri"]["seconds"])) if item.get("uri") else ""))
    broken = check_limits(results)
    for item in broken:
        print("request limit broken: " + item)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
