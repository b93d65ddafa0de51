"""Helpers shared by the authentik module integration tests (not a test module)."""

from __future__ import annotations

from typing import Any

NS = "idpbridge.authentik_cloudflare."
PROVIDER = NS + "authentik_provider_oauth2"
PROVIDER_INFO = NS + "authentik_provider_oauth2_info"
APPLICATION = NS + "authentik_application"
BINDING = NS + "authentik_policy_binding"

CALLBACK = "https://team.cloudflareaccess.com/cdn-cgi/access/callback"
IMPLICIT = "default-provider-authorization-implicit-consent"
EXPLICIT = "default-provider-authorization-explicit-consent"
SELF_SIGNED = "authentik Self-signed Certificate"


def task(name: str, module: str, args: dict | None = None, **keywords: Any) -> dict:
    """One task: ``task("create", PROVIDER, {"name": "x"}, register="r", check_mode=True)``."""
    out: dict[str, Any] = {"name": name, module: dict(args or {})}
    out.update(keywords)
    return out


def writes(api) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every write the authentik server saw."""
    return [(r["method"], r["path"], r.get("body")) for r in api.authentik.writes()]


def counts(entries: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for entry in entries:
        out[entry["method"]] = out.get(entry["method"], 0) + 1
    return out


def create_provider(api, name: str, **fields: Any) -> dict:
    """A provider created behind the modules' back (direct API call)."""
    listed = api.authentik.call("GET", "/flows/instances/", params={"page_size": 100}).json()["results"]
    flows = dict((f["slug"], f["pk"]) for f in listed)
    body = {"name": name, "authorization_flow": flows[IMPLICIT],
            "invalidation_flow": flows["default-provider-invalidation-flow"],
            "redirect_uris": [{"matching_mode": "strict", "url": CALLBACK}]}
    body.update(fields)
    resp = api.authentik.call("POST", "/providers/oauth2/", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def create_application(api, slug: str, provider_pk: int | None = None, **fields: Any) -> dict:
    body = {"name": fields.pop("name", slug), "slug": slug}
    if provider_pk is not None:
        body["provider"] = provider_pk
    body.update(fields)
    resp = api.authentik.call("POST", "/core/applications/", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def assert_no_secret(result, *secrets: str) -> None:
    """None of ``secrets`` appears in the play's output (stdout, stderr) or recorded results."""
    import json
    recorded = json.dumps(result.results)
    for secret in secrets:
        assert secret, "empty secret given to assert_no_secret"
        assert secret not in result.stdout, "secret found in stdout"
        assert secret not in result.stderr, "secret found in stderr"
        assert secret not in recorded, "secret found in a task result"
