"""The HTTP layer's answers to faults added with the reliability suite: Retry-After dates, 500 on reads,
creates that may have been applied, web pages where JSON was expected."""

from __future__ import annotations

import email.utils

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _http
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import check_url

from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.plugins.module_utils.test_http import (  # noqa: F401  pylint: disable=unused-import
    client_for,
    server,
    sleeps,
)


def test_retry_after_as_an_http_date():
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert _http._retry_after_seconds(date, now=now) == pytest.approx(30, abs=1)
    assert _http._retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert _http._retry_after_seconds("soon", now=now) is None
    assert _http._retry_after_seconds("2.5") == 2.5


def test_a_500_on_a_read_is_retried(server, sleeps):  # noqa: F811
    server.add("GET", "/api/x/", {"status": 500}, {"status": 200, "body": {"ok": 1}})
    assert client_for(server.url).get("/api/x/") == {"ok": 1}
    assert sleeps == [1.0]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_create_that_may_have_been_applied_is_sent_once_and_says_so(server, sleeps, status):  # noqa: F811
    server.add("POST", "/api/x/", default={"status": status, "body": {"detail": "boom"}})
    with pytest.raises(ApiError) as info:
        client_for(server.url).post("/api/x/", {"name": "a"})
    assert len(server.seen) == 1 and sleeps == []
    assert "may have applied it" in str(info.value) and "does not create it twice" in str(info.value)


def test_a_web_page_where_json_was_expected(server, sleeps):  # noqa: F811
    server.add("GET", "/api/x/", {"status": 200, "headers": {"Content-Type": "text/html"},
                                  "body": "<html><title>Sign in - Portal</title></html>"})
    with pytest.raises(ApiError) as info:
        client_for(server.url).get("/api/x/")
    assert "an HTML page titled 'Sign in - Portal', not JSON" in str(info.value)
    assert "the URL option" in str(info.value)


@pytest.mark.parametrize("url,ok", [
    ("https://auth.example.com/application/o/token/", True),
    ("http://127.0.0.1:9000/application/o/token/", True),
    ("http://localhost/application/o/token/", True),
    ("http://auth.example.com/application/o/token/", False),
])
def test_urls_for_cloudflare_must_be_https_off_the_local_host(url, ok):
    if ok:
        check_url(url, "token_url")
    else:
        with pytest.raises(ValueError, match="token_url must be an https:// URL"):
            check_url(url, "token_url")
