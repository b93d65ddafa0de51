"""Benchmark: requests and wall time of the cloudflare_access role against the API test servers.

    python tools/bench_role.py [--runs N]

Runs the role on an empty system (first run), again (rerun), in check mode, and removes it, and
prints per step: the number of requests each test server saw (reads / writes) and the wall time.
Uses the ansible-playbook next to the running Python.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import serve  # noqa: E402

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: idpbridge.authentik_cloudflare.cloudflare_access
      vars:
        cloudflare_access_name: Bench
        cloudflare_access_state: "{{ state | default('present') }}"
        cloudflare_access_bindings: [{group: engineering}]
"""


def counts(url, token):
    log = requests.get(url + "/_test/requests", headers={"Authorization": "Bearer " + token}, timeout=10).json()
    requests.delete(url + "/_test/requests", headers={"Authorization": "Bearer " + token}, timeout=10)
    writes = sum(1 for r in log if r["method"] in ("POST", "PUT", "PATCH", "DELETE"))
    return len(log) - writes, writes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole sequence N times")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="idpb-bench-"))
    (tmp / "ansible_collections" / "idpbridge").mkdir(parents=True)
    (tmp / "ansible_collections" / "idpbridge" / "authentik_cloudflare").symlink_to(ROOT)
    (tmp / "play.yml").write_text(PLAY)
    running = serve.start()
    info = running.info()
    env = dict(os.environ, AUTHENTIK_URL=info["authentik_url"], AUTHENTIK_TOKEN=info["authentik_token"],
               CLOUDFLARE_API_URL=info["cloudflare_url"], CLOUDFLARE_API_TOKEN=info["cloudflare_token"],
               CLOUDFLARE_ACCOUNT_ID=info["account_id"], ANSIBLE_COLLECTIONS_PATH=str(tmp),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    steps = [("first run", []), ("rerun", []), ("check mode", ["--check"]), ("remove", ["-e", "state=absent"]),
             ("remove again", ["-e", "state=absent"])]
    rows = []
    try:
        for repeat in range(args.runs):
            for name, extra in steps:
                started = time.monotonic()
                proc = subprocess.run([playbook, str(tmp / "play.yml")] + extra, env=env, capture_output=True, text=True,
                                      check=False)
                took = time.monotonic() - started
                if proc.returncode:
                    print(proc.stdout[-3000:], proc.stderr[-3000:])
                    return 1
                ak = counts(running.authentik.url, info["authentik_token"])
                cf = counts(running.cloudflare.url, info["cloudflare_token"])
                rows.append({"repeat": repeat + 1, "step": name, "authentik_reads": ak[0], "authentik_writes": ak[1],
                             "cloudflare_reads": cf[0], "cloudflare_writes": cf[1], "seconds": round(took, 2)})
    finally:
        running.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    header = ("step", "authentik reads", "authentik writes", "cloudflare reads", "cloudflare writes", "seconds")
    print("%-13s %15s %16s %17s %18s %8s" % header)
    for row in rows:
        print("%-13s %15d %16d %17d %18d %8.2f" % (row["step"], row["authentik_reads"], row["authentik_writes"],
                                                   row["cloudflare_reads"], row["cloudflare_writes"], row["seconds"]))
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
