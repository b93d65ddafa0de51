"""authentik's public OIDC endpoints under ``/application/o/`` and the flow executor (no API token).

What a relying party such as Cloudflare Access, or a headless test of it, talks to:

* ``GET /application/o/<slug>/.well-known/openid-configuration`` and ``.../jwks/``;
* ``GET /application/o/authorize/``: unknown client (400 page "Client ID Error"), unregistered
  ``redirect_uri`` (400 page "Redirect URI Error"), not signed in (302 to
  ``/if/flow/<authentication flow>/?<query>&next=<authorize URL>``), signed in but refused by the
  application's policies (200 page "Permission denied"), else the authorization flow: implicit
  consent answers 302 to the callback with ``code`` and ``state``; explicit consent sends the
  browser through ``/if/flow/<authorization flow>/`` (a consent stage) first;
* ``GET/POST /api/v3/flows/executor/<slug>/?query=<Q>``: the flow executor with the stages of
  ``default-authentication-flow`` (identification, password, a silent MFA validation, user login)
  and of ``default-provider-authorization-explicit-consent`` (consent, with the CSRF header once
  signed in); answers are the JSON challenges and 302s of samples 24 to 35;
* ``POST /application/o/token/``: the authorization-code grant with client authentication by
  HTTP Basic or form fields, redirect URI and PKCE checks, single-use codes, and RS256 ID and
  access tokens signed with the provider's key (HS256 with the client secret without one);
  errors are authentik's 400 ``{"error", "error_description", "request_id"}``;
* ``GET/POST /application/o/userinfo/`` with the access token;
* ``GET /if/flow/<slug>/``: the HTML shell of the flow UI.

Sessions live in memory (cookie ``authentik_session``; ``authentik_csrf`` and ``authentik_device``
are set at login). ``setup_routes(app)`` is called by ``AuthentikApp.setup_routes``;
``reset(app)`` by ``AuthentikApp.reset_state``.

Knobs for tests (``POST /_test/config``, back to the defaults on reset):

``{"id_token_signing": "provider" | "foreign"}``  "foreign" signs tokens with a key that is not the
    provider's (the header still names the provider's ``kid``): a bad signature.
``{"id_token_expired": true}``                    tokens are issued already expired.
``{"id_token_omit_claims": ["email", ...]}``      claims left out of the ID token.

Helpers for other server modules: ``request_base()`` / ``absolute()`` build URLs from the
request's Host (as authentik does), ``issuer()``, ``signing_material()``, ``html_page()``,
``json_response()``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from tests.servers._control import HTTPError, Request, Response
from tests.servers.authentik.keys import b64url, key_material

if TYPE_CHECKING:  # pragma: no cover
    from tests.servers.authentik.app import AuthentikApp
    from tests.servers.authentik.keys import KeyMaterial

PREFIX = "/application/o/"
EXECUTOR = "/api/v3/flows/executor/"
AUTHORIZE_PATH = PREFIX + "authorize/"
DEFAULT_AUTHENTICATION_FLOW = "default-authentication-flow"

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
ACR = "goauthentik.io/providers/oauth2/default"
AVATAR = "/static/dist/assets/images/user_default.png"
BACKGROUND = "/static/dist/assets/images/flow_background.jpg"
EXECUTOR_ALLOW = "GET, POST, HEAD, OPTIONS"

SESSION_COOKIE = "authentik_session"
CSRF_COOKIE = "authentik_csrf"
DEVICE_COOKIE = "authentik_device"
CSRF_HEADER = "x-authentik-csrf"

# The token endpoint's error texts (authentik's TokenError table).
TOKEN_ERRORS = {
    "invalid_request": "The request is otherwise malformed",
    "invalid_client": ("Client authentication failed (e.g., unknown client, no client authentication included, "
                       "or unsupported authentication method)"),
    "invalid_grant": ("The provided authorization grant or refresh token is invalid, expired, revoked, does not "
                      "match the redirection URI used in the authorization request, or was issued to another client"),
    "unauthorized_client": "The authenticated client is not authorized to use this authorization grant type",
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization server",
    "invalid_scope": ("The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the "
                      "resource owner"),
}
AUTHORIZE_ERRORS = {
    "invalid_request": "The request is otherwise malformed",
    "unsupported_response_type": ("The authorization server does not support obtaining an authorization code "
                                  "using this method"),
}

KNOB_DEFAULTS: dict[str, Any] = {
    "id_token_signing": "provider",
    "id_token_expired": False,
    "id_token_omit_claims": [],
}
FOREIGN_KEY_NAME = "idpbridge test: a key no provider publishes"

# Stages of the flows the executor runs, by flow slug. Flows not listed here have no stages.
FLOW_STAGES = {
    DEFAULT_AUTHENTICATION_FLOW: ["identification", "password", "authenticator-validate", "user-login"],
    "default-provider-authorization-explicit-consent": ["consent"],
}


# ---- state ----------------------------------------------------------------------------------
@dataclass
class Plan:
    """A flow in progress for one session."""

    flow_slug: str
    stages: list[str]
    index: int = 0
    pending_user: str | None = None
    user_pk: int | None = None
    query: str = ""
    consent_token: str | None = None
    # authorization flows: the checked authorize request (what the fulfilment needs)
    authorize: dict | None = None

    @property
    def stage(self) -> str | None:
        return self.stages[self.index] if self.index < len(self.stages) else None


@dataclass
class Session:
    key: str
    user_pk: int | None = None
    auth_time: int | None = None
    csrf: str | None = None
    plans: dict[str, Plan] = field(default_factory=dict)
    new_cookies: list[str] = field(default_factory=list)


@dataclass
class Grant:
    """An authorization code, a one-time ticket for the token endpoint."""

    code: str
    provider_pk: int
    user_pk: int
    scopes: list[str]
    nonce: str | None
    expires: float
    auth_time: int
    session_key: str
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass
class OidcState:
    sessions: dict[str, Session] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, dict] = field(default_factory=dict)
    knobs: dict[str, Any] = field(default_factory=lambda: json.loads(json.dumps(KNOB_DEFAULTS)))


def reset(app: "AuthentikApp") -> None:
    app.oidc = OidcState()


def configure(app: "AuthentikApp", settings: dict[str, Any]) -> None:
    """Apply the knobs of ``settings`` that belong here (see the module docstring)."""
    knobs = app.oidc.knobs
    if "id_token_signing" in settings:
        if settings["id_token_signing"] not in ("provider", "foreign"):
            raise HTTPError(400, {"detail": "id_token_signing must be 'provider' or 'foreign'"})
        knobs["id_token_signing"] = settings["id_token_signing"]
    if "id_token_expired" in settings:
        knobs["id_token_expired"] = bool(settings["id_token_expired"])
    if "id_token_omit_claims" in settings:
        omit = settings["id_token_omit_claims"]
        if not isinstance(omit, list) or not all(isinstance(c, str) for c in omit):
            raise HTTPError(400, {"detail": "id_token_omit_claims must be a list of claim names"})
        knobs["id_token_omit_claims"] = list(omit)


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


def html_page(status: int, title: str, text: str, page_title: str = "authentik") -> Response:
    """authentik answers browser-facing errors with an HTML page."""
    body = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title></head>"
            "<body><main><h1>%s</h1><p>%s</p><a href=\"/\">Go home</a>"
            "<footer>Powered by authentik</footer></main></body></html>\n" % (page_title, title, text))
    return Response(status, body, content_type="text/html; charset=utf-8", exact_content_type=True)


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(status, body, headers=dict(headers or {}), content_type="application/json",
                    exact_content_type=True)


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


def request_id() -> str:
    return uuid.uuid4().hex


def parse_duration(text: str) -> float:
    """Seconds of an authentik duration such as ``minutes=1`` or ``hours=1;minutes=30``."""
    units = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1,
             "milliseconds": 0.001, "microseconds": 0.000001}
    total = 0.0
    for part in str(text or "").split(";"):
        name, _sep, value = part.strip().partition("=")
        if name in units and value:
            total += float(value) * units[name]
    return total


def query_pairs(req: Request) -> list[tuple[str, str]]:
    """The request's query as (key, value) pairs, in the order received."""
    return [(key, value) for key, values in req.query.items() for value in values]


def redirect(location: str, headers: dict | None = None) -> Response:
    """A 302 the way Django sends it: an empty text/html body and a Location."""
    out = {"Location": location}
    out.update(headers or {})
    return Response(302, "", headers=out, content_type="text/html; charset=utf-8", exact_content_type=True)


def redirect_uri_allowed(provider: dict, redirect_uri: str) -> bool:
    """authentik's check of a redirect URI against the provider's list (strict or regex entries)."""
    for entry in provider.get("redirect_uris") or []:
        if entry.get("redirect_uri_type", "authorization") != "authorization":
            continue
        if entry.get("matching_mode") == "strict" and entry.get("url") == redirect_uri:
            return True
        if entry.get("matching_mode") == "regex":
            try:
                if re.fullmatch(entry.get("url") or "", redirect_uri):
                    return True
            except re.error:
                continue
    return False


def with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(pairs)


# ---- sessions and cookies --------------------------------------------------------------------
def session_for(app: "AuthentikApp", req: Request) -> Session:
    """The session named by the request's cookie, or a new one (its cookie is sent with the answer)."""
    key = cookies_of(req).get(SESSION_COOKIE)
    session = app.oidc.sessions.get(key) if key else None
    if session is None:
        session = Session(key=secrets.token_urlsafe(32))
        app.oidc.sessions[session.key] = session
    session.new_cookies = ["%s=%s; HttpOnly; Path=/; SameSite=Lax" % (SESSION_COOKIE, session.key)]
    return session


def cookies_of(req: Request) -> dict[str, str]:
    out = {}
    for part in (req.header("cookie") or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            out[name] = value
    return out


def finish(session: Session, resp: Response) -> Response:
    """Attach the session's cookies to an answer.

    The test server's headers are a dict, so each ``Set-Cookie`` line gets a key of its own
    spelling (HTTP header names are case-insensitive; clients read every line).
    """
    spellings = ["Set-Cookie", "set-cookie", "SET-COOKIE", "Set-cookie", "set-Cookie"]
    for spelling, line in zip(spellings, session.new_cookies):
        resp.headers[spelling] = line
    return resp


def log_in(app: "AuthentikApp", session: Session, user_pk: int) -> Session:
    """Sign the session's user in: a new session key (the old one is dropped) plus the CSRF and device cookies."""
    app.oidc.sessions.pop(session.key, None)
    session.key = secrets.token_urlsafe(48)
    app.oidc.sessions[session.key] = session
    session.user_pk = user_pk
    session.auth_time = int(time.time())
    session.csrf = secrets.token_urlsafe(24)[:32]
    session.new_cookies = [
        "%s=%s; HttpOnly; Path=/; SameSite=Lax" % (SESSION_COOKIE, session.key),
        "%s=%s; Max-Age=31449600; Path=/; SameSite=Lax" % (CSRF_COOKIE, session.csrf),
        "%s=%s; Max-Age=2592000; HttpOnly; Path=/; SameSite=Lax" % (DEVICE_COOKIE, secrets.token_hex(16)),
    ]
    return session


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
        "acr_values_supported": [ACR],
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


# ---- tokens -----------------------------------------------------------------------------------
def subject(provider: dict, user: dict) -> str:
    mode = provider.get("sub_mode") or "hashed_user_id"
    if mode == "user_id":
        return str(user["pk"])
    if mode == "user_uuid":
        return user["uuid"]
    if mode == "user_username":
        return user["username"]
    if mode == "user_email":
        return user["email"]
    if mode == "user_upn":
        return user.get("attributes", {}).get("upn") or user["uid"]
    return user["uid"]


def scope_claims(app: "AuthentikApp", provider: dict, user: dict, scopes: list[str]) -> dict:
    """What the provider's scope mappings for ``scopes`` return for ``user`` (the managed ones)."""
    claims: dict[str, Any] = {}
    for mapping in app.provider_scope_mappings(provider):
        if mapping["scope_name"] not in scopes:
            continue
        kind = (mapping.get("managed") or "").rsplit("scope-", 1)[-1]
        if kind == "email":
            claims.update({"email": user["email"], "email_verified": False})
        elif kind == "profile":
            groups = [app.groups[g]["name"] for g in user["groups"] if g in app.groups]
            claims.update({"name": user["name"], "given_name": user["name"], "preferred_username": user["username"],
                           "nickname": user["username"], "groups": groups})
        elif kind == "entitlements":
            claims.update({"entitlements": [], "roles": []})
    return claims


def sign_jwt(app: "AuthentikApp", provider: dict, claims: dict, foreign: bool = False) -> str:
    """An RS256 JWT with the provider's key (its kid in the header), or HS256 with the client secret."""
    material = signing_material(app, provider)
    if material is None:
        header = {"alg": "HS256", "typ": "JWT"}
        signing_input = _jws_input(header, claims)
        signature = hmac.new(app.provider_secret(provider).encode("utf-8"), signing_input, hashlib.sha256).digest()
        return signing_input.decode("ascii") + "." + b64url(signature)
    header = {"alg": "RS256", "kid": material.kid, "typ": "JWT"}
    signing_input = _jws_input(header, claims)
    signer = key_material(FOREIGN_KEY_NAME) if foreign else material
    return signing_input.decode("ascii") + "." + b64url(signer.sign_rs256(signing_input))


def _jws_input(header: dict, claims: dict) -> bytes:
    def part(value: dict) -> str:
        return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))
    return ("%s.%s" % (part(header), part(claims))).encode("ascii")


def token_claims(app: "AuthentikApp", req: Request, provider: dict, grant: Grant) -> dict:
    user = app.users[grant.user_pk]
    now = int(time.time())
    lifetime = int(parse_duration(provider.get("access_token_validity") or "hours=1"))
    iat, auth_time = now, grant.auth_time
    if app.oidc.knobs["id_token_expired"]:
        iat, auth_time = now - lifetime - 600, now - lifetime - 600
    claims: dict[str, Any] = {
        "iss": issuer(app, req, provider),
        "sub": subject(provider, user),
        "aud": provider["client_id"],
        "exp": iat + lifetime,
        "iat": iat,
        "auth_time": auth_time,
        "acr": ACR,
        "amr": ["pwd"],
    }
    if grant.nonce:
        claims["nonce"] = grant.nonce
    claims["sid"] = hashlib.sha256(grant.session_key.encode("ascii")).hexdigest()
    if provider.get("include_claims_in_id_token", True):
        claims.update(scope_claims(app, provider, user, grant.scopes))
    return claims


# ---- handlers: discovery, JWKS ------------------------------------------------------------------
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


# ---- handlers: authorize ----------------------------------------------------------------------
def authorize_error(redirect_uri: str, error: str, state: str | None, description: str | None = None) -> Response:
    pairs = [("error", error), ("error_description", description or AUTHORIZE_ERRORS[error])]
    if state:
        pairs.append(("state", state))
    return redirect(with_query(redirect_uri, pairs))


def authorize(app: "AuthentikApp", req: Request) -> Response:
    if not req.query:
        return not_found_page()
    client_id = req.arg("client_id") or ""
    provider = app.provider_by_client_id(client_id) if client_id else None
    if provider is None:
        return html_page(400, "Client ID Error", "The client identifier (client_id) is missing or invalid.")
    redirect_uri = req.arg("redirect_uri") or ""
    if not redirect_uri or not redirect_uri_allowed(provider, redirect_uri):
        return html_page(400, "Redirect URI Error",
                         "The request fails due to a missing, invalid, or mismatching redirection URI (redirect_uri).")
    state = req.arg("state")
    if req.arg("response_type") != "code":
        # The test server knows the authorization-code flow only (what Cloudflare Access uses).
        return authorize_error(redirect_uri, "unsupported_response_type", state)
    challenge = req.arg("code_challenge")
    method = req.arg("code_challenge_method") or "plain"
    if challenge and method not in ("plain", "S256"):
        return authorize_error(redirect_uri, "invalid_request", state, "Unsupported challenge method %s" % method)
    application = app.application_for_provider(provider["pk"])
    if application is None:
        return not_found_page()
    session = session_for(app, req)
    pairs = query_pairs(req)
    here = AUTHORIZE_PATH + "?" + urlencode(pairs)
    if session.user_pk is None:
        flow = app.flows.get(provider.get("authentication_flow") or "") or app.flow_by_slug(DEFAULT_AUTHENTICATION_FLOW)
        session.plans.pop(flow["slug"], None)
        return finish(session, redirect("/if/flow/%s/?%s" % (flow["slug"], urlencode(pairs + [("next", here)]))))
    user = app.users[session.user_pk]
    if not app.passes_policies(application["pk"], user["pk"]):
        page = html_page(200, "Permission denied", "%s Not you? Request has been denied." % user["username"],
                         page_title="Permission denied - authentik")
        return finish(session, page)
    granted = {
        "provider_pk": provider["pk"], "redirect_uri": redirect_uri, "state": state, "nonce": req.arg("nonce"),
        "scopes": requested_scopes(app, provider, req.arg("scope")),
        "code_challenge": challenge, "code_challenge_method": method if challenge else None,
    }
    flow = app.flows.get(provider["authorization_flow"]) or {}
    stages = FLOW_STAGES.get(flow.get("slug"), [])
    if not stages:
        # implicit consent: no stage to pass, straight back to the client
        return finish(session, redirect(fulfil(app, session, granted)))
    session.plans[flow["slug"]] = Plan(flow_slug=flow["slug"], stages=list(stages), user_pk=user["pk"],
                                       authorize=granted)
    return finish(session, redirect("/if/flow/%s/?%s" % (flow["slug"], urlencode(pairs))))


def requested_scopes(app: "AuthentikApp", provider: dict, scope: str | None) -> list[str]:
    """The requested scopes the provider maps (all of its scopes when none were asked for)."""
    mapped = [m["scope_name"] for m in app.provider_scope_mappings(provider)]
    asked = (scope or "").split()
    if not asked:
        return mapped
    return [s for s in mapped if s in asked]


def fulfil(app: "AuthentikApp", session: Session, granted: dict) -> str:
    """Issue an authorization code and return the client's callback URL carrying it."""
    provider = app.providers[granted["provider_pk"]]
    code = uuid.uuid4().hex
    app.oidc.grants[code] = Grant(
        code=code, provider_pk=provider["pk"], user_pk=session.user_pk, scopes=list(granted["scopes"]),
        nonce=granted["nonce"], expires=time.time() + parse_duration(provider.get("access_code_validity") or "minutes=1"),
        auth_time=session.auth_time or int(time.time()), session_key=session.key,
        code_challenge=granted["code_challenge"], code_challenge_method=granted["code_challenge_method"],
    )
    pairs = [("code", code)]
    if granted["state"]:
        pairs.append(("state", granted["state"]))
    return with_query(granted["redirect_uri"], pairs)


def flow_interface(app: "AuthentikApp", req: Request) -> Response:
    """``/if/flow/<slug>/``: the web UI's shell; a headless client only needs its query string."""
    if app.flow_by_slug(req.params["slug"]) is None:
        return not_found_page()
    body = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>authentik</title></head>"
            "<body><ak-flow-executor flowSlug=\"%s\"></ak-flow-executor></body></html>\n" % req.params["slug"])
    page = Response(200, body, content_type="text/html; charset=utf-8", exact_content_type=True)
    return finish(session_for(app, req), page)


# ---- handlers: flow executor -------------------------------------------------------------------
def executor_json(body: dict, status: int = 200) -> Response:
    return json_response(body, status, headers={"Allow": EXECUTOR_ALLOW})


def executor_redirect(slug: str, query: str) -> Response:
    resp = redirect("%s%s/?%s" % (EXECUTOR, slug, urlencode([("query", query)])))
    resp.headers["Allow"] = EXECUTOR_ALLOW
    return resp


def flow_info(app: "AuthentikApp", flow: dict, plan: Plan) -> dict:
    next_url = dict(parse_qsl(plan.query)).get("next")
    if flow["designation"] == "authorization" and plan.authorize:
        application = app.application_for_provider(plan.authorize["provider_pk"]) or {}
        title = flow["title"] % {"app": application.get("name", "")} if "%(app)s" in flow["title"] else flow["title"]
    else:
        title = flow["title"]
    cancel = "/flows/-/cancel/" + ("?next=" + quote(next_url, safe="") if next_url else "")
    return {"title": title, "background": BACKGROUND, "background_themed_urls": None, "cancel_url": cancel,
            "layout": flow.get("layout", "stacked")}


def challenge(app: "AuthentikApp", flow: dict, plan: Plan, errors: dict | None = None) -> dict:
    stage = plan.stage
    body: dict[str, Any] = {"flow_info": flow_info(app, flow, plan)}
    if stage == "identification":
        application = None
        next_url = dict(parse_qsl(plan.query)).get("next") or ""
        client_id = dict(parse_qsl(urlsplit(next_url).query)).get("client_id")
        provider = app.provider_by_client_id(client_id) if client_id else None
        if provider is not None:
            application = app.application_for_provider(provider["pk"])
        body.update({
            "component": "ak-stage-identification", "user_fields": ["email", "username"], "password_fields": False,
            "allow_show_password": False, "application_pre": application["slug"] if application else None,
            "flow_designation": flow["designation"], "captcha_stage": None, "primary_action": "Log in",
            "sources": [], "show_source_labels": False, "enable_remember_me": False, "passkey_challenge": None,
        })
    elif stage == "password":
        body.update({"component": "ak-stage-password"})
        if errors:
            body["response_errors"] = errors
        body.update({"pending_user": plan.pending_user, "pending_user_avatar": AVATAR, "allow_show_password": False})
        return body
    elif stage == "consent":
        provider = app.providers[plan.authorize["provider_pk"]]
        application = app.application_for_provider(provider["pk"]) or {}
        user = app.users.get(plan.user_pk) or {}
        if plan.consent_token is None:
            plan.consent_token = str(uuid.uuid4())
        permissions = [{"name": m.get("description", ""), "id": m["scope_name"]}
                       for m in sorted(app.provider_scope_mappings(provider), key=lambda m: m["scope_name"])
                       if m["scope_name"] in plan.authorize["scopes"]]
        body.update({
            "component": "ak-stage-consent", "pending_user": user.get("username"), "pending_user_avatar": AVATAR,
            "header_text": "You're about to sign into %s." % application.get("name", ""),
            "permissions": permissions, "additional_permissions": [], "token": plan.consent_token,
        })
    if errors:
        body["response_errors"] = errors
    return body


def field_error(name: str, text: str, code: str) -> dict:
    return {name: [{"string": text, "code": code}]}


def flow_error() -> dict:
    return {"component": "ak-stage-flow-error", "request_id": request_id()}


def executor(app: "AuthentikApp", req: Request) -> Response:
    flow = app.flow_by_slug(req.params["slug"])
    if flow is None:
        return json_response({"detail": "No Flow matches the given query."}, 404)
    session = session_for(app, req)
    query = req.arg("query") or ""
    plan = session.plans.get(flow["slug"])
    if plan is None:
        stages = FLOW_STAGES.get(flow["slug"], [])
        if flow["designation"] == "authorization" or session.user_pk is not None and flow["designation"] == "authentication":
            # an authorization flow only runs when the authorize endpoint planned it; an authenticated
            # session does not log in again
            return finish(session, executor_json(flow_error()))
        plan = Plan(flow_slug=flow["slug"], stages=list(stages))
        session.plans[flow["slug"]] = plan
    plan.query = query
    if req.method == "POST":
        return finish(session, executor_post(app, req, session, flow, plan))
    return finish(session, executor_get(app, session, flow, plan))


def executor_get(app: "AuthentikApp", session: Session, flow: dict, plan: Plan) -> Response:
    stage = plan.stage
    if stage == "authenticator-validate":
        # The user has no authenticator device: the stage passes without a challenge.
        plan.index += 1
        return executor_redirect(flow["slug"], plan.query)
    if stage == "user-login":
        user = app.users[plan.user_pk]
        log_in(app, session, user["pk"])
        plan.index += 1
        stage = None
    if stage is None:
        return executor_json(flow_done(app, session, flow, plan))
    return executor_json(challenge(app, flow, plan))


def flow_done(app: "AuthentikApp", session: Session, flow: dict, plan: Plan) -> dict:
    """The end of a flow: where the browser goes next (``xak-flow-redirect``)."""
    session.plans.pop(flow["slug"], None)
    if plan.authorize is not None:
        return {"component": "xak-flow-redirect", "to": fulfil(app, session, plan.authorize)}
    target = dict(parse_qsl(plan.query)).get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return {"component": "xak-flow-redirect", "to": target}


def executor_post(app: "AuthentikApp", req: Request, session: Session, flow: dict, plan: Plan) -> Response:
    if session.user_pk is not None:
        sent = req.header(CSRF_HEADER) or ""
        if not session.csrf or not hmac.compare_digest(sent.encode("utf-8"), session.csrf.encode("utf-8")):
            return executor_json(flow_error())  # "CSRF Failed: CSRF token missing." in the server log
    try:
        answer = req.json() if req.raw_body else {}
    except HTTPError:
        answer = None
    if not isinstance(answer, dict):
        answer = {}
    stage = plan.stage
    if stage == "identification":
        uid = answer.get("uid_field")
        if not isinstance(uid, str) or not uid:
            return executor_json(challenge(app, flow, plan, field_error("uid_field", "This field is required.", "required")))
        plan.pending_user = uid
        plan.index += 1
        return executor_redirect(flow["slug"], plan.query)
    if stage == "password":
        password = answer.get("password")
        if not isinstance(password, str) or password == "":
            return executor_json(challenge(app, flow, plan, field_error("password", "This field is required.", "required")))
        user = app.check_password(plan.pending_user or "", password)
        if user is None:
            return executor_json(challenge(app, flow, plan, field_error("password", "Invalid password", "invalid")))
        plan.user_pk = user["pk"]
        plan.index += 1
        return executor_redirect(flow["slug"], plan.query)
    if stage == "consent":
        token = answer.get("token")
        if not isinstance(token, str) or not hmac.compare_digest(token, plan.consent_token or ""):
            refused = field_error("token", "Invalid consent token, re-showing prompt", "invalid")
            return executor_json(challenge(app, flow, plan, refused))
        plan.index += 1
        return executor_redirect(flow["slug"], plan.query)
    return executor_get(app, session, flow, plan)


# ---- handlers: token, userinfo -----------------------------------------------------------------
def token_error(error: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": TOKEN_ERRORS[error], "request_id": request_id()}, status)


def client_credentials(req: Request, form: dict[str, str]) -> tuple[str, str]:
    """(client_id, client_secret) from HTTP Basic, else from the form (authentik's extract_client_auth)."""
    header = req.header("authorization") or ""
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        client_id, _sep, client_secret = decoded.partition(":")
        return client_id, client_secret
    return form.get("client_id", ""), form.get("client_secret", "")


def pkce_s256(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())


def token(app: "AuthentikApp", req: Request) -> Response:
    form = req.form() if req.raw_body else {}
    client_id, client_secret = client_credentials(req, form)
    provider = app.provider_by_client_id(client_id) if client_id else None
    if provider is None:
        return token_error("invalid_client")
    grant_type = form.get("grant_type", "")
    if grant_type != "authorization_code":
        # The test server emulates the authorization-code grant only.
        return token_error("unsupported_grant_type")
    if provider.get("client_type", "confidential") == "confidential" and not hmac.compare_digest(
            app.provider_secret(provider).encode("utf-8"), client_secret.encode("utf-8")):
        return token_error("invalid_client")  # the code stays usable (sample 30)
    raw_code = form.get("code", "")
    if not raw_code:
        return token_error("invalid_grant")
    if not redirect_uri_allowed(provider, form.get("redirect_uri", "")):
        return token_error("invalid_client")  # sample 30d: not invalid_grant
    grant = app.oidc.grants.get(raw_code)
    if grant is None or grant.expires < time.time() or grant.provider_pk != provider["pk"]:
        return token_error("invalid_grant")
    verifier = form.get("code_verifier")
    if grant.code_challenge:
        if not verifier:
            return token_error("invalid_grant")
        expected = pkce_s256(verifier) if grant.code_challenge_method == "S256" else verifier
        if not hmac.compare_digest(expected, grant.code_challenge):
            return token_error("invalid_grant")
    elif verifier:
        return token_error("invalid_grant")  # no downgrade: a verifier for a code without challenge
    claims = token_claims(app, req, provider, grant)
    id_claims = dict(claims)
    for name in app.oidc.knobs["id_token_omit_claims"]:
        id_claims.pop(name, None)
    user = app.users[grant.user_pk]
    access_claims = dict(claims, azp=provider["client_id"], uid=user["uid"], scope=" ".join(sorted(grant.scopes)))
    foreign = app.oidc.knobs["id_token_signing"] == "foreign"
    access_token = sign_jwt(app, provider, access_claims, foreign=foreign)
    app.oidc.access_tokens[access_token] = {"provider_pk": provider["pk"], "user_pk": grant.user_pk,
                                            "scopes": list(grant.scopes), "nonce": grant.nonce,
                                            "expires": access_claims["exp"]}
    del app.oidc.grants[raw_code]
    return json_response({
        "access_token": access_token,
        "token_type": "Bearer",
        "scope": " ".join(sorted(grant.scopes)),
        "expires_in": int(parse_duration(provider.get("access_token_validity") or "hours=1")),
        "id_token": sign_jwt(app, provider, id_claims, foreign=foreign),
    })


def userinfo(app: "AuthentikApp", req: Request) -> Response:
    scheme, _sep, value = (req.header("authorization") or "").partition(" ")
    info = app.oidc.access_tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    if info is None or info["expires"] < time.time() or info["provider_pk"] not in app.providers:
        return json_response({"error": "invalid_token",
                              "error_description": ("The access token provided is expired, revoked, malformed, "
                                                    "or invalid for other reasons")}, 401,
                             headers={"WWW-Authenticate": 'error="invalid_token"'})
    provider = app.providers[info["provider_pk"]]
    user = app.users[info["user_pk"]]
    body: dict[str, Any] = {"sub": subject(provider, user)}
    body.update(scope_claims(app, provider, user, info["scopes"]))
    if info["nonce"]:
        body["nonce"] = info["nonce"]
    return json_response(body)


def setup_routes(app: "AuthentikApp") -> None:
    slug = r"/application/o/(?P<slug>[^/]+)/"
    app.public_route("GET", slug + r"\.well-known/openid-configuration/?", partial(discovery, app))
    app.public_route("GET", slug + r"jwks/", partial(jwks, app))
    app.public_route("GET", r"/application/o/authorize/", partial(authorize, app))
    app.public_route("POST", r"/application/o/token/", partial(token, app))
    app.public_route("GET", r"/application/o/userinfo/", partial(userinfo, app))
    app.public_route("POST", r"/application/o/userinfo/", partial(userinfo, app))
    app.public_route("GET", r"/if/flow/(?P<slug>[^/]+)/", partial(flow_interface, app))
    app.public_route("GET", r"/api/v3/flows/executor/(?P<slug>[^/]+)/", partial(executor, app))
    app.public_route("POST", r"/api/v3/flows/executor/(?P<slug>[^/]+)/", partial(executor, app))
