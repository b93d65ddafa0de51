"""Helpers shared by the Cloudflare integration tests (options, arranging state, reading the server)."""

from __future__ import annotations

import secrets

FQCN = "idpbridge.authentik_cloudflare."
MODULE = FQCN + "cloudflare_access_identity_provider"
PERMISSION = "Access: Organizations, Identity Providers, and Groups Write"
MASK = "********"

AUTH_URL = "https://auth.example.com/application/o/authorize/"
TOKEN_URL = "https://auth.example.com/application/o/token/"
CERTS_URL = "https://auth.example.com/application/o/cloudflare-access/jwks/"


def new_secret(label="secret"):
    return "cf-%s-%s" % (label, secrets.token_hex(12))


def oidc(name="authentik", secret=None, **over):
    """Options of an authentik OIDC login method; ``None`` values are left out."""
    args = {
        "name": name,
        "type": "oidc",
        "client_id": "authentik-client-1",
        "client_secret": secret,
        "auth_url": AUTH_URL,
        "token_url": TOKEN_URL,
        "certs_url": CERTS_URL,
        "claims": ["groups", "preferred_username"],
        "pkce_enabled": True,
    }
    args.update(over)
    return {k: v for k, v in args.items() if v is not None}


def task(title, args, module=MODULE, **extra):
    out = {"name": title, module: args}
    out.update(extra)
    return out


def scope_key(api, kind="accounts"):
    if kind == "accounts":
        return "accounts/%s" % api.info["account_id"]
    return "zones/%s" % api.cloudflare.state()["zone_id"]


def stored(api, kind="accounts"):
    """The login methods the server holds in a scope, secrets included."""
    return api.cloudflare.state()["identity_providers"][scope_key(api, kind)]


def stored_named(api, name, kind="accounts"):
    found = [idp for idp in stored(api, kind) if idp["name"] == name]
    assert len(found) == 1, found
    return found[0]


def writes(api):
    return [(r["method"], r["path"]) for r in api.cloudflare.writes()]


def idp_path(api, ident=None):
    path = "/client/v4/accounts/%s/access/identity_providers" % api.info["account_id"]
    return path + ("/" + ident if ident else "")


def arrange(api, name, secret="arranged-secret", idp_type="oidc", config=None):
    """Create a login method directly through the API (behind the module's back); returns its id."""
    if config is None:
        config = {"client_id": "authentik-client-1", "client_secret": secret, "auth_url": AUTH_URL,
                  "token_url": TOKEN_URL, "certs_url": CERTS_URL, "claims": ["groups", "preferred_username"],
                  "pkce_enabled": True}
    resp = api.cloudflare.call("POST", "/accounts/%s/access/identity_providers" % api.info["account_id"],
                               json={"name": name, "type": idp_type, "config": config})
    assert resp.status_code in (200, 201), resp.text
    return resp.json()["result"]["id"]


def failure(result, title):
    """The result of a task that failed (with ignore_errors)."""
    assert result.status(title) in ("failed", "ignored"), (title, result.task(title))
    return result.task(title)


def no_leak(result, *values):
    for value in values:
        assert value not in result.stdout, "secret in stdout"
        assert value not in result.stderr, "secret in stderr"
