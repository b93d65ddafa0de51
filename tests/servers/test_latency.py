"""The latency profiles (tests/servers/latency.py): per-route seconds, and the wait over real HTTP."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.servers import serve
from tests.servers.latency import PROFILES, authentik_2026_2, cloudflare_flat, profile

FOUND = {"results": [{"pk": 1}], "pagination": {}}
EMPTY = {"results": [], "pagination": {}}


@pytest.mark.parametrize("method, path, query, status, body, seconds", [
    ("GET", "/api/v3/flows/instances/", {"slug": ["x"]}, 200, FOUND, 0.47),
    ("GET", "/api/v3/flows/instances/", {"page_size": ["100"]}, 200, FOUND, 0.47),
    ("GET", "/api/v3/flows/instances/", {"slug": ["nope"]}, 200, EMPTY, 0.034),
    ("GET", "/api/v3/flows/instances/some-flow/", {}, 200, {"pk": 1}, 0.45),
    ("GET", "/api/v3/core/applications/cf/", {}, 200, {"pk": 1}, 0.495),
    ("GET", "/api/v3/core/applications/cf/", {}, 404, {"detail": "Not found."}, 0.084),
    ("GET", "/api/v3/core/applications/", {"slug": ["cf"]}, 200, FOUND, 0.90),
    ("GET", "/api/v3/core/applications/", {"superuser_full_list": ["true"], "slug": ["cf"]}, 200, FOUND, 0.515),
    ("PATCH", "/api/v3/core/applications/cf/", {}, 200, {}, 0.88),
    ("POST", "/api/v3/core/applications/", {}, 201, {}, 0.10),
    ("GET", "/api/v3/providers/oauth2/", {"name": ["x"]}, 200, FOUND, 0.045),
    ("PATCH", "/api/v3/providers/oauth2/3/", {}, 200, {}, 0.15),
    ("GET", "/application/o/cf/.well-known/openid-configuration", {}, 200, {}, 0.27),
    ("GET", "/application/o/cf/jwks/", {}, 200, {}, 0.26),
    ("GET", "/api/v3/something/unmeasured/", {}, 200, {}, 0.05),
    ("POST", "/api/v3/something/unmeasured/", {}, 201, {}, 0.10),
])
def test_authentik_profile_follows_the_measured_table(method, path, query, status, body, seconds):
    assert authentik_2026_2(method, path, query, status, body) == pytest.approx(seconds)


def test_cloudflare_is_flat_and_profiles_are_named():
    assert cloudflare_flat("GET", "/client/v4/accounts/x/access/organizations", {}, 200, {}) == 0.15
    assert cloudflare_flat("POST", "/client/v4/accounts/x/access/identity_providers", {}, 201, {}) == 0.15
    assert profile("authentik-2026.2") == PROFILES["authentik-2026.2"]
    assert profile(None) == (None, None) and profile("none") == (None, None)
    with pytest.raises(ValueError, match="unknown latency profile 'fast'"):
        profile("fast")


def test_served_answers_wait_and_concurrent_ones_wait_together():
    running = serve.start(latency="authentik-2026.2")
    try:
        url = running.authentik_url + "/api/v3/flows/instances/"
        headers = {"Authorization": "Bearer " + running.authentik_token}
        started = time.monotonic()
        assert requests.get(url, params={"slug": "default-provider-invalidation-flow"}, headers=headers,
                            timeout=10).json()["results"]
        assert time.monotonic() - started >= 0.45
        # two lookups at once: the waits happen outside the app's lock, so neither waits for the other
        done = []

        def lookup():
            requests.get(url, params={"slug": "default-provider-invalidation-flow"}, headers=headers, timeout=10)
            done.append(time.monotonic())
        started = time.monotonic()
        threads = [threading.Thread(target=lookup) for _index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(done) == 2
        assert max(done) - started < 0.9, "one after the other would take at least 0.94 s"
        log = requests.get(running.authentik_url + "/_test/requests", headers=headers, timeout=10).json()
        assert len(log) == 3
        # the control interface itself does not wait
        started = time.monotonic()
        requests.get(running.authentik_url + "/_test/requests", headers=headers, timeout=10)
        assert time.monotonic() - started < 0.45
    finally:
        running.stop()
