"""Start the authentik and Cloudflare API test servers on 127.0.0.1.

    python tests/servers/serve.py [--authentik-port N] [--cloudflare-port N] [--page-size N]
                                  [--authentik-version X.Y.Z] [--latency authentik-2026.2] [--rate-limit]

The first line printed is one JSON object with everything a client needs::

    {"authentik_url": ..., "authentik_token": ..., "cloudflare_url": ...,
     "cloudflare_token": ..., "account_id": ...}

Then the servers run until the process gets SIGINT or SIGTERM. Tests may also call
``start()`` to run both in threads of their own process.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import threading
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(os.path.dirname(HERE)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

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
    parser.add_argument("--rate-limit", action="store_true",
                        help="Cloudflare answers 429 with Retry-After past 1,200 requests per 5 minutes per token, as the"
                             " real API does (also POST /_test/config {\"rate_limit\": true}); default: no limit")
    args = parser.parse_args(argv)
    running = start(args.authentik_port, args.cloudflare_port, args.page_size,
                    args.authentik_version, args.authentik_token, args.cloudflare_token,
                    args.account_id, args.latency, args.rate_limit)
    print(json.dumps(running.info()), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
