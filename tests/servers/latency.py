"""Latency profiles for the API test servers: how long a real server takes to answer, per route.

The test servers answer in about a millisecond, so every design looks equally fast against them.
A profile makes each answer wait as long as the real server's would, so that a benchmark against
the test servers ranks designs the way the real servers do (a flow lookup is slow on authentik, a
provider lookup fast; every Cloudflare call crosses the internet).

    python tests/servers/serve.py --latency authentik-2026.2

``authentik-2026.2`` is measured on a real authentik 2026.2.2 (its own server process and
PostgreSQL on loopback, 2 cores), one request at a time, warm; see docs/benchmarks.md. Cloudflare's
API is remote for everyone: the profile gives it a flat 0.15 s per request.

A profile is a function ``(method, path, query, status, body) -> seconds``. The server sleeps that
long after answering is decided and before the answer is sent, outside the app's lock, so
concurrent requests wait concurrently (as on a real server with several workers). The integration
tests run without a profile.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Latency = Callable[[str, str, dict, int, Any], float]

# (method, path regex under /api/v3, seconds when found, seconds when empty or 404)
_AUTHENTIK_API = [
    # flows: about 0.45 s whatever matches, one flow or all of them; nothing found is fast
    ("GET", r"/flows/instances/", 0.47, 0.034),
    ("GET", r"/flows/instances/[^/]+/", 0.45, 0.034),
    ("GET", r"/core/applications/[^/]+/", 0.495, 0.084),
    ("PATCH", r"/core/applications/[^/]+/", 0.88, 0.084),
    ("PUT", r"/core/applications/[^/]+/", 0.88, 0.084),
    ("DELETE", r"/core/applications/[^/]+/", 0.61, 0.084),
    ("POST", r"/core/applications/", 0.10, 0.10),
    ("GET", r"/providers/oauth2/", 0.045, 0.045),
    ("GET", r"/providers/oauth2/\d+/setup_urls/", 0.037, 0.037),
    ("GET", r"/providers/oauth2/\d+/", 0.068, 0.04),
    ("POST", r"/providers/oauth2/", 0.093, 0.093),
    ("PATCH", r"/providers/oauth2/\d+/", 0.15, 0.04),
    ("PUT", r"/providers/oauth2/\d+/", 0.15, 0.04),
    ("DELETE", r"/providers/oauth2/\d+/", 0.093, 0.04),
    ("GET", r"/crypto/certificatekeypairs/.*", 0.034, 0.034),
    ("GET", r"/propertymappings/.*", 0.047, 0.047),
    ("GET", r"/core/groups/.*", 0.058, 0.058),
    ("GET", r"/core/users/me/", 0.042, 0.042),
    ("GET", r"/core/users/.*", 0.066, 0.066),
    ("GET", r"/policies/bindings/.*", 0.042, 0.042),
    ("GET", r"/admin/version/", 0.036, 0.036),
]
_AUTHENTIK_API = [(m, re.compile("^/api/v3" + p + "$"), found, empty) for m, p, found, empty in _AUTHENTIK_API]

# outside the REST API: the OIDC endpoints and the flow executor
_AUTHENTIK_OTHER = [
    ("GET", re.compile(r"^/application/o/[^/]+/\.well-known/openid-configuration$"), 0.27),
    ("GET", re.compile(r"^/application/o/[^/]+/jwks/$"), 0.26),
]

AUTHENTIK_READ_DEFAULT = 0.05   # an unmeasured read: what most small reads cost
AUTHENTIK_WRITE_DEFAULT = 0.10  # an unmeasured write: what the measured small writes cost
CLOUDFLARE_FLAT = 0.15


def _empty(status: int, body: Any) -> bool:
    if status == 404:
        return True
    return isinstance(body, dict) and "results" in body and not body.get("results")


def authentik_2026_2(method: str, path: str, query: dict, status: int, body: Any) -> float:
    """Seconds a real authentik 2026.2 takes to answer this request."""
    if path.startswith("/api/v3/"):
        if method == "GET" and path == "/api/v3/core/applications/":
            # the list is cached per user; superuser_full_list skips that cache and is faster
            return 0.515 if query.get("superuser_full_list") else 0.90
        for m, pattern, found, empty in _AUTHENTIK_API:
            if m == method and pattern.match(path):
                return empty if _empty(status, body) else found
    else:
        for m, pattern, seconds in _AUTHENTIK_OTHER:
            if m == method and pattern.match(path):
                return seconds
    return AUTHENTIK_READ_DEFAULT if method in ("GET", "HEAD", "OPTIONS") else AUTHENTIK_WRITE_DEFAULT


def cloudflare_flat(method: str, path: str, query: dict, status: int, body: Any) -> float:
    """Every Cloudflare API call crosses the internet: a flat round trip."""
    return CLOUDFLARE_FLAT


# name -> (authentik latency, cloudflare latency)
PROFILES: dict[str, tuple[Latency, Latency]] = {
    "authentik-2026.2": (authentik_2026_2, cloudflare_flat),
}


def profile(name: str | None) -> tuple[Latency | None, Latency | None]:
    """The (authentik, cloudflare) latency functions of profile ``name``; (None, None) for none."""
    if not name or name == "none":
        return None, None
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError("unknown latency profile %r; known: %s" % (name, ", ".join(sorted(PROFILES)))) from None
