"""Concurrent lookups: ``concurrently``, the per-run cache that keeps failures, one flow list for two flows."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import AuthentikClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import concurrently
from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.fake_module import FakeModule


@pytest.fixture
def client():
    module = FakeModule(dict(url="https://auth.example.com", token="t0ken-value-123456", validate_certs=True,
                             ca_path=None, timeout=5, retries=0))
    return AuthentikClient.from_module(module)


def test_concurrently_keeps_order_and_hands_back_errors():
    boom = ValueError("boom")

    def fail():
        raise boom
    outcomes = concurrently([lambda: 1, fail, lambda: "three"])
    assert outcomes == [(1, None), (None, boom), ("three", None)]
    assert concurrently([]) == []
    assert concurrently([lambda: 7]) == [(7, None)]


def test_concurrently_runs_the_calls_at_the_same_time():
    barrier = threading.Barrier(3, timeout=5)

    def meet():
        barrier.wait()  # only returns once all three calls are running at once
        return threading.get_ident()
    outcomes = concurrently([meet, meet, meet])
    assert all(error is None for _result, error in outcomes)
    assert len(set(result for result, _error in outcomes)) == 3


def test_a_failed_lookup_fails_again_without_a_new_request(client):
    calls = []

    def paginate(path, params=None, what=None, limit=None):
        calls.append(path)
        return []
    client.paginate = paginate
    for _attempt in range(2):
        with pytest.raises(LookupFailed, match="No authentik certificate-key pair is named 'k'"):
            client.keypair_pk("k")
    assert calls == ["/crypto/certificatekeypairs/"]

    def broken(path, params=None, what=None, limit=None):
        calls.append(path)
        raise ApiError("GET %s returned HTTP 500" % path, status=500)
    client.paginate = broken
    for _attempt in range(2):
        with pytest.raises(ApiError, match="HTTP 500"):
            client.group_pk("g")
    assert calls.count("/core/groups/") == 1


FLOWS = [{"pk": "f-auth", "slug": "auth", "designation": "authorization"},
         {"pk": "f-inv", "slug": "inv", "designation": "invalidation"},
         {"pk": "f-other", "slug": "other", "designation": "authentication"}]


def test_two_flows_come_from_one_list(client):
    calls = []

    def paginate(path, params=None, what=None, limit=None):
        calls.append((path, dict(params or {})))
        return list(FLOWS)
    client.paginate = paginate
    client.load_flows(["auth", "inv", None, "auth"])
    assert calls == [("/flows/instances/", {"page_size": 100})]
    assert client.flow_pk("auth", "authorization") == "f-auth"
    assert client.flow_pk("inv", "invalidation") == "f-inv"
    assert len(calls) == 1
    # a slug the list does not hold is known to be missing, without another request
    client.load_flows(["gone", "also-gone"])
    with pytest.raises(LookupFailed, match="No authentik flow has the slug 'gone'"):
        client.flow_pk("gone", "authorization")
    assert len(calls) == 2


def test_one_flow_is_looked_up_on_its_own(client):
    calls = []

    def paginate(path, params=None, what=None, limit=None):
        calls.append(dict(params or {}))
        return [f for f in FLOWS if f["slug"] == (params or {}).get("slug")]
    client.paginate = paginate
    client.load_flows(["auth"])
    assert calls == []
    assert client.flow_pk("auth", "authorization") == "f-auth"
    assert calls == [{"slug": "auth"}]


def test_a_failed_flow_list_falls_back_to_one_lookup_each(client):
    calls = []

    def paginate(path, params=None, what=None, limit=None):
        calls.append(dict(params or {}))
        if "page_size" in (params or {}):
            raise ApiError("GET /flows/instances/ returned HTTP 403", status=403)
        return [f for f in FLOWS if f["slug"] == params.get("slug")]
    client.paginate = paginate
    client.load_flows(["auth", "inv"])
    assert client.flow_pk("inv", "invalidation") == "f-inv"
    assert calls == [{"page_size": 100}, {"slug": "inv"}]


def test_concurrent_lookups_fill_the_cache_at_once(client):
    started = []

    def paginate(path, params=None, what=None, limit=None):
        started.append(time.monotonic())
        time.sleep(0.2)
        return [{"pk": path, "name": (params or {}).get("name"), "private_key_available": True}]
    client.paginate = paginate
    begin = time.monotonic()
    concurrently([lambda: client.keypair_pk("k"), lambda: client.group_pk("g")])
    assert max(started) - begin < 0.2, "both lookups were sent before either answered"
    assert client.keypair_pk("k") == "/crypto/certificatekeypairs/"
    assert client.group_pk("g") == "/core/groups/"
    assert len(started) == 2
