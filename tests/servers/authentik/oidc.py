"""authentik's public OIDC endpoints under ``/application/o/`` (no API token).

This module holds the routes that speak OIDC rather than the REST API: today the discovery
document and the JWKS of a provider bound to an application. ``setup_routes(app)`` is called
by ``AuthentikApp.setup_routes``; more endpoints (authorize, token, userinfo, the flow executor)
go here the same way, registered with ``app.public_route(...)``.

Useful helpers for such endpoints: ``request_base()`` / ``absolute()`` build URLs from the
request's Host (as authentik does), ``issuer()``, ``signing_material()`` (the provider's
``KeyMaterial`` with ``kid`` and ``sign_rs256``), ``html_page()`` for authentik's HTML answers,
``json_response()`` for the plain ``application/json`` these endpoints send.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from tests.servers._control import Request, Response

if TYPE_CHECKING:  # pragma: no cover
    from tests.servers.authentik.app import AuthentikApp
    from tests.servers.authentik.keys import KeyMaterial

PREFIX = "/application/o/"

BASE_CLAIMS = ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce"]
GRANT_TYPES_SUPPORTED = [
    "authorization_code",
    "refresh_token",
    "implicit",
    "client_credentials",
    "password",
    "urn:ietf:params:oauth:grant-type:device_code",
]
RESPONSE_TYPES_SUPPORTED = ["code", "id_token", "id_token token", "code token", "code id_token", "code id_token token"]


# ---- helpers --------------------------------------------------------------------------------
def request_base(app: "AuthentikApp", req: Request) -> str:
    """``scheme://host`` as the client reached us (X-Forwarded-Proto/Host honoured, like authentik)."""
    default_scheme, _sep, default_host = (app.base_url or "http://127.0.0.1").partition("://")
    scheme = (req.header("x-forwarded-proto") or default_scheme).split(",")[0].strip()
    host = (req.header("x-forwarded-host") or req.header("host") or default_host).split(",")[0].strip()
    return "%s://%s" % (scheme, host)


def absolute(app: "AuthentikApp", req: Request, path: str) -> str:
    return request_base(app, req) + path


def issuer(app: "AuthentikApp", req: Request, provider: dict) -> str | None:
    """The issuer of ``provider``: per application slug, or the root URL in ``global`` mode."""
    if provider.get("issuer_mode") == "global":
        return absolute(app, req, "/")
    application = app.application_for_provider(provider["pk"])
    if application is None:
        return None
    return absolute(app, req, "%s%s/" % (PREFIX, application["slug"]))


def signing_material(app: "AuthentikApp", provider: dict) -> "KeyMaterial | None":
    """The provider's signing key material when it has a private key (else tokens are HS256)."""
    return app.keypair_material(provider.get("signing_key"), need_private_key=True)


def signing_alg(app: "AuthentikApp", provider: dict) -> str:
    return "RS256" if signing_material(app, provider) is not None else "HS256"


def html_page(status: int, title: str, text: str) -> Response:
    """authentik answers browser-facing errors with an HTML page."""
    body = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title></head>"
            "<body><main><h1>%s</h1><p>%s</p><a href=\"/\">Go home</a>"
            "<footer>Powered by authentik</footer></main></body></html>\n" % ("authentik", title, text))
    return Response(status, body, content_type="text/html; charset=utf-8", exact_content_type=True)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(status, body, content_type="application/json", exact_content_type=True)


def not_found_page() -> Response:
    return html_page(404, "Not Found", "Not Found")


def bound_provider(app: "AuthentikApp", slug: str) -> tuple[dict, dict] | None:
    """(application, OAuth2 provider) for an application slug, None when either is missing."""
    application = app.application_by_slug(slug)
    if application is None or application.get("provider") is None:
        return None
    provider = app.providers.get(application["provider"])
    if provider is None:
        return None
    return application, provider


# ---- documents ------------------------------------------------------------------------------
def discovery_document(app: "AuthentikApp", req: Request, application: dict, provider: dict) -> dict:
    slug = application["slug"]
    mappings = app.provider_scope_mappings(provider)
    scopes = [m["scope_name"] for m in mappings]
    claims = list(BASE_CLAIMS)
    for mapping in mappings:
        for claim in mapping.get("claims", []):
            if claim not in claims:
                claims.append(claim)
    return {
        "issuer": issuer(app, req, provider),
        "authorization_endpoint": absolute(app, req, PREFIX + "authorize/"),
        "token_endpoint": absolute(app, req, PREFIX + "token/"),
        "userinfo_endpoint": absolute(app, req, PREFIX + "userinfo/"),
        "end_session_endpoint": absolute(app, req, "%s%s/end-session/" % (PREFIX, slug)),
        "introspection_endpoint": absolute(app, req, PREFIX + "introspect/"),
        "revocation_endpoint": absolute(app, req, PREFIX + "revoke/"),
        "device_authorization_endpoint": absolute(app, req, PREFIX + "device/"),
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "response_types_supported": list(RESPONSE_TYPES_SUPPORTED),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "jwks_uri": absolute(app, req, "%s%s/jwks/" % (PREFIX, slug)),
        "grant_types_supported": list(GRANT_TYPES_SUPPORTED),
        "id_token_signing_alg_values_supported": [signing_alg(app, provider)],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "acr_values_supported": ["goauthentik.io/providers/oauth2/default"],
        "scopes_supported": scopes,
        "request_parameter_supported": False,
        "claims_supported": claims,
        "claims_parameter_supported": False,
        "code_challenge_methods_supported": ["plain", "S256"],
    }


def jwks_document(app: "AuthentikApp", provider: dict) -> dict:
    """``{"keys": [...]}``, or ``{}`` when the provider has no key with a private key (sample 19b)."""
    keys = []
    material = signing_material(app, provider)
    if material is not None:
        keys.append(material.jwk("sig", "RS256"))
    encryption = app.keypair_material(provider.get("encryption_key"), need_private_key=True)
    if encryption is not None:
        keys.append(encryption.jwk("enc", "RSA-OAEP-256"))
    return {"keys": keys} if keys else {}


# ---- handlers -------------------------------------------------------------------------------
def discovery(app: "AuthentikApp", req: Request) -> Response:
    found = bound_provider(app, req.params["slug"])
    if found is None:
        return not_found_page()
    return json_response(discovery_document(app, req, *found))


def jwks(app: "AuthentikApp", req: Request) -> Response:
    found = bound_provider(app, req.params["slug"])
    if found is None:
        return not_found_page()
    return json_response(jwks_document(app, found[1]))


def setup_routes(app: "AuthentikApp") -> None:
    slug = r"/application/o/(?P<slug>[^/]+)/"
    app.public_route("GET", slug + r"\.well-known/openid-configuration/?", partial(discovery, app))
    app.public_route("GET", slug + r"jwks/", partial(jwks, app))
