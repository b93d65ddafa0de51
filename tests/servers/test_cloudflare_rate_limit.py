"""The Cloudflare test server's rate limit: off by default, like Cloudflare's when switched on."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.servers._control import Server
from tests.servers.cloudflare.app import RATE_LIMIT, RATE_WINDOW, CloudflareApp

TOKEN = "cf-rate-token-0123456789abcdefghijklmnopq"
OTHER = "cf-rate-other-0123456789abcdefghijklmnopq"
ACCOUNT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@pytest.fixture(scope="module")
def server():
    srv = Server(CloudflareApp(token=TOKEN, account_id=ACCOUNT)).start()
    yield srv
    srv.stop()


def _control(srv, action, body=None):
    resp = requests.post(srv.url + "/_test/" + action, json=body, timeout=5, headers={"Authorization": "Bearer " + TOKEN})
    assert resp.status_code == 204, resp.text


def _get(srv, token=TOKEN):
    return requests.get("%s/client/v4/accounts/%s/access/identity_providers" % (srv.url, ACCOUNT), timeout=5,
                        headers={"Authorization": "Bearer " + token})


@pytest.fixture()
def srv(server):
    _control(server, "reset")
    return server


def test_the_figures_are_cloudflares():
    # 1,200 requests per five minutes per user or token (Cloudflare's API rate limit documentation)
    assert (RATE_LIMIT, RATE_WINDOW) == (1200, 300)


def test_off_by_default_and_headers_count_down(srv):
    _control(srv, "config", {"rate_limit_requests": 3})
    answers = [_get(srv) for _attempt in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.headers["Ratelimit"].split(";")[1] for a in answers] == ["r=2", "r=1", "r=0", "r=0", "r=0"]
    assert answers[0].headers["Ratelimit-Policy"] == '"default";q=3;w=300'
    assert all("Retry-After" not in a.headers for a in answers)


def test_used_up_answers_429_with_retry_after_until_the_window_ends(srv):
    _control(srv, "config", {"rate_limit": True, "rate_limit_requests": 3, "rate_limit_window": 2})
    assert [_get(srv).status_code for _attempt in range(3)] == [200, 200, 200]
    refused = _get(srv)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] in ("1", "2")
    body = refused.json()
    assert body["success"] is False and body["errors"][0]["code"] == 971
    # writes are refused alike and change nothing
    created = requests.post("%s/client/v4/accounts/%s/access/identity_providers" % (srv.url, ACCOUNT), timeout=5,
                            headers={"Authorization": "Bearer " + TOKEN}, json={"name": "x", "type": "onetimepin", "config": {}})
    assert created.status_code == 429
    # another credential has a window of its own (an unknown token is refused for what it is, not throttled)
    assert _get(srv, OTHER).status_code == 403
    # the refused requests are logged with their status, and are not counted against the next window
    log = requests.get(srv.url + "/_test/requests", timeout=5, headers={"Authorization": "Bearer " + TOKEN}).json()
    assert [entry["status"] for entry in log] == [200, 200, 200, 429, 429, 403]
    time.sleep(int(refused.headers["Retry-After"]) + 0.1)
    assert [_get(srv).status_code for _attempt in range(4)] == [200, 200, 200, 429]


def test_reset_returns_to_the_constructors_setting(srv):
    _control(srv, "config", {"rate_limit": True, "rate_limit_requests": 1})
    assert [_get(srv).status_code for _attempt in range(2)] == [200, 429]
    _control(srv, "reset")
    assert [_get(srv).status_code for _attempt in range(3)] == [200, 200, 200]
    limited = Server(CloudflareApp(token=TOKEN, account_id=ACCOUNT, rate_limit=True)).start()
    try:
        _control(limited, "config", {"rate_limit_requests": 1})
        _control(limited, "reset")  # the limit stays on after a reset, back to Cloudflare's figures
        assert limited.app.settings["rate_limit"] is True
        assert limited.app.settings["rate_limit_requests"] == RATE_LIMIT
    finally:
        limited.stop()


def test_serve_switches_it_on():
    serve = Path(__file__).resolve().parent / "serve.py"
    proc = subprocess.Popen([sys.executable, str(serve), "--rate-limit"], stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        info = json.loads(proc.stdout.readline())
        base = info["cloudflare_url"].rsplit("/client/v4", 1)[0]
        headers = {"Authorization": "Bearer " + info["cloudflare_token"]}
        requests.post(base + "/_test/config", json={"rate_limit_requests": 1}, headers=headers, timeout=5).raise_for_status()
        url = "%s/accounts/%s/access/identity_providers" % (info["cloudflare_url"], info["account_id"])
        assert [requests.get(url, headers=headers, timeout=5).status_code for _attempt in range(2)] == [200, 429]
    finally:
        proc.terminate()
        proc.wait(10)
