"""Start the authentik and Cloudflare API test servers on 127.0.0.1.

    python tests/servers/serve.py [--authentik-port N] [--cloudflare-port N] [--page-size N]
                                  [--authentik-version X.Y.Z] [--latency authentik-2026.2] [--rate-limit]
                                  [--print-env] [--env-file FILE]

The first line printed is one JSON object with everything a client needs::

    {"authentik_url": ..., "authentik_token": ..., "cloudflare_url": ...,
     "cloudflare_token": ..., "account_id": ...}

With ``--print-env`` the first lines are ``export AUTHENTIK_URL=...`` lines instead, for a shell.
Both need the SDKs of tests/servers/requirements.txt (the contract checks); without them serve.py
refuses to start and says which Python to use. Then the servers run until the process gets SIGINT
or SIGTERM. Tests may also call ``start()`` to run both in threads of their own process.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import signal
import sys
import threading
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# Run as a script, Python puts this folder first on sys.path, where tests/servers/cloudflare would
# shadow the real ``cloudflare`` SDK (and switch the contract checks off). Only the checkout's root
# belongs on the path; the servers are imported as tests.servers.*.
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != os.path.realpath(HERE)]
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# What the servers import or check requests with: (import name, pip name). Without the two SDKs the
# contract checks cannot run: a server would then refuse every write (authentik) or accept any body
# unchecked (Cloudflare), so serve.py refuses to start instead.
NEEDS = (("cryptography", "cryptography"), ("pydantic", "pydantic"),
         ("authentik_client", "authentik-client"), ("cloudflare", "cloudflare"))


def missing_packages() -> list[str]:
    """The pip names of what the servers need and this Python lacks (a module found inside
    tests/servers does not count: that is our own package, not the SDK)."""
    missing = []
    for module, package in NEEDS:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        origin = os.path.realpath(getattr(spec, "origin", None) or "") if spec else ""
        if spec is None or origin.startswith(os.path.realpath(HERE) + os.sep):
            missing.append(package)
    return missing


def refusal(missing: list[str]) -> str:
    venv = os.path.join(ROOT, ".cache", "venvs")
    return ("serve.py: this Python (%s) lacks %s, which the test servers need to check requests against the "
            "vendors' SDKs; not starting.\nRun them with a Python that has tests/servers/requirements.txt, e.g.\n"
            "  python -m venv .venv-servers && .venv-servers/bin/python -m pip install -r tests/servers/requirements.txt\n"
            "  .venv-servers/bin/python tests/servers/serve.py\n"
            "or with the one ./demo and tests/run build: %s/demo/bin/python (or %s/core221/bin/python) tests/servers/serve.py"
            % (sys.executable, ", ".join(missing), os.path.relpath(venv), os.path.relpath(venv)))


if __name__ == "__main__" and missing_packages():
    print(refusal(missing_packages()), file=sys.stderr, flush=True)
    sys.exit(2)

from tests.servers._control import Server  # noqa: E402
from tests.servers.authentik.app import DEFAULT_VERSION, AuthentikApp  # noqa: E402
from tests.servers.cloudflare.app import CloudflareApp  # noqa: E402
from tests.servers.latency import PROFILES  # noqa: E402
from tests.servers.latency import profile as latency_profile  # noqa: E402


@dataclass
class Running:
    authentik: Server
    cloudflare: Server
    authentik_token: str
    cloudflare_token: str
    account_id: str

    @property
    def authentik_url(self) -> str:
        return self.authentik.url

    @property
    def cloudflare_url(self) -> str:
        return self.cloudflare.url + "/client/v4"

    def info(self) -> dict:
        return {
            "authentik_url": self.authentik_url,
            "authentik_token": self.authentik_token,
            "cloudflare_url": self.cloudflare_url,
            "cloudflare_token": self.cloudflare_token,
            "account_id": self.account_id,
            # a seeded authentik user who can sign in, for the demo's headless test sign-in
            "authentik_test_username": self.authentik.app.test_username,
            "authentik_test_password": self.authentik.app.test_password,
        }

    def stop(self) -> None:
        self.authentik.stop()
        self.cloudflare.stop()


def start(authentik_port: int = 0, cloudflare_port: int = 0, page_size: int | None = None,
          authentik_version: str = DEFAULT_VERSION, authentik_token: str | None = None,
          cloudflare_token: str | None = None, account_id: str | None = None,
          latency: str | None = None, rate_limit: bool = False) -> Running:
    ak_token = authentik_token or secrets.token_urlsafe(32)
    cf_token = cloudflare_token or secrets.token_urlsafe(30)
    account = account_id or secrets.token_hex(16)
    ak_app = AuthentikApp(token=ak_token, page_size=page_size or 100, version=authentik_version)
    cf_app = CloudflareApp(token=cf_token, page_size=page_size or 20, account_id=account, rate_limit=rate_limit)
    ak_app.latency, cf_app.latency = latency_profile(latency)
    ak = Server(ak_app, port=authentik_port).start()
    cf = Server(cf_app, port=cloudflare_port).start()
    return Running(ak, cf, ak_token, cf_token, account)


def contract_problems() -> list[str]:
    """Why a server's contract checks cannot run in this process ([] when both can)."""
    from tests.servers.authentik import contract as ak_contract  # pylint: disable=import-outside-toplevel
    from tests.servers.cloudflare import contract as cf_contract  # pylint: disable=import-outside-toplevel

    problems = []
    if cf_contract.load_sdk() is None:
        problems.append("Cloudflare: %s (every write would be accepted unchecked)" % cf_contract.SDK_MISSING)
    if ak_contract.load_models() is None:
        problems.append("authentik: %s (every write would be refused)" % ak_contract.NOT_INSTALLED)
    return problems


def env_lines(info: dict) -> list[str]:
    """``export`` lines for the variables the README's examples read (the modules' own fallbacks)."""
    import shlex  # pylint: disable=import-outside-toplevel

    pairs = (("AUTHENTIK_URL", "authentik_url"), ("AUTHENTIK_TOKEN", "authentik_token"),
             ("CLOUDFLARE_API_URL", "cloudflare_url"), ("CLOUDFLARE_API_TOKEN", "cloudflare_token"),
             ("CLOUDFLARE_ACCOUNT_ID", "account_id"))
    lines = ["export %s=%s" % (var, shlex.quote(str(info[key]))) for var, key in pairs]
    lines.append("# a seeded authentik user for cloudflare_access_test_username/_password: %s / %s"
                 % (info["authentik_test_username"], info["authentik_test_password"]))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--authentik-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--cloudflare-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--page-size", type=int, default=None,
                        help="page size of every list (default: the APIs' own, 100 and 20)")
    parser.add_argument("--authentik-version", default=DEFAULT_VERSION,
                        help="authentik release to emulate (default %(default)s)")
    parser.add_argument("--authentik-token", default=None, help="default: a random token")
    parser.add_argument("--cloudflare-token", default=None, help="default: a random token")
    parser.add_argument("--account-id", default=None, help="default: a random account id")
    parser.add_argument("--latency", default=None, choices=sorted(PROFILES) + ["none"],
                        help="answer as slowly as a real server would (tests/servers/latency.py); default: at once")
    parser.add_argument("--print-env", action="store_true",
                        help="print export lines (AUTHENTIK_URL, CLOUDFLARE_API_TOKEN, ...) for a shell instead of the JSON line")
    parser.add_argument("--env-file", default=None,
                        help="also write those export lines to this file once the servers are up (then: . FILE)")
    parser.add_argument("--rate-limit", action="store_true",
                        help="Cloudflare answers 429 with Retry-After past 1,200 requests per 5 minutes per token, as the"
                             " real API does (also POST /_test/config {\"rate_limit\": true}); default: no limit")
    args = parser.parse_args(argv)
    missing = missing_packages()
    if missing:
        print(refusal(missing), file=sys.stderr, flush=True)
        return 2
    problems = contract_problems()
    if problems:
        print("serve.py: CONTRACT CHECKS CANNOT RUN, not starting:\n  " + "\n  ".join(problems), file=sys.stderr, flush=True)
        return 2
    running = start(args.authentik_port, args.cloudflare_port, args.page_size,
                    args.authentik_version, args.authentik_token, args.cloudflare_token,
                    args.account_id, args.latency, args.rate_limit)
    info = running.info()
    if args.env_file:
        tmp = args.env_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("\n".join(env_lines(info)) + "\n")
        os.replace(tmp, args.env_file)
    print("\n".join(env_lines(info)) if args.print_env else json.dumps(info), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
