"""A stateful stand-in for the Cloudflare API v4 (Access identity providers and organization).

Paths live under ``/client/v4``; every answer uses Cloudflare's envelope::

    {"success": bool, "errors": [{"code", "message"}], "messages": [], "result": ..., "result_info": {...}}

``result_info`` is only on lists. See ``CloudflareApp`` for the seeded state, the credentials
and the ``/_test/config`` knobs, and ``tests/servers/_control.py`` for the shared control
interface and faults.

Choices where the real API is not documented (see the fact sheet's UNCONFIRMED items):

* bad bearer token: 403, code 9109 "Invalid access token" (the token verify endpoints answer
  401, code 1000 "Invalid API Token" instead, as the real ones do);
* missing credentials: 400, code 6003 "Invalid request headers", ``error_chain`` 9106;
  malformed ``Authorization``: 6003 with chain 6111; malformed ``X-Auth-Key``: 6003 with 6103;
* token without the account, or read-only token on a write: 403, code 10000 "Authentication error";
* Zero Trust not set up: 403, code 9999 "access.api.error.not_enabled: ...";
* unknown route: 404, codes 7003 + 7000; known path with another method (PATCH): 405, same codes;
* validation: 400, code 12130 "access.api.error.invalid_request: <reason>"; unknown IdP id:
  404, code 12135 "access.api.error.not_found"; read-only IdP written: 400, code 12130;
* ``client_secret`` is never returned (left out of ``config``; knob ``secret_on_read``).
"""

from __future__ import annotations

import copy
import math
import re
import secrets
import time
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from tests.servers._control import App, HTTPError, Request, Response
from tests.servers.cloudflare import contract, scim

API = "/client/v4"
ACC = API + r"/accounts/(?P<account_id>[^/]+)"
ZONE = API + r"/zones/(?P<zone_id>[^/]+)"

DEFAULT_ACCOUNT_ID = "8f3a6c0e2b5d4e7f9a1c3b5d7e9f1a2b"
DEFAULT_OTHER_ACCOUNT_ID = "0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a"
DEFAULT_ZONE_ID = "5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
DEFAULT_ZONE_NAME = "idpbridge-test.example"
DEFAULT_AUTH_DOMAIN = "idpbridge-test.cloudflareaccess.com"
DEFAULT_LEGACY_EMAIL = "admin@idpbridge-test.example"
SEED_TIME = "2024-05-01T09:00:00Z"

# Error codes (HTTP status, code, message).
E_HEADERS = 6003  # "Invalid request headers" (+ error_chain)
E_MISSING_AUTH = 9106
E_AUTH_FORMAT = 6111
E_EMAIL_FORMAT = 6102
E_KEY_FORMAT = 6103
E_UNKNOWN_KEY = 9103
E_BAD_TOKEN = 9109
E_VERIFY_BAD_TOKEN = 1000
E_VERIFY_NEEDS_TOKEN = 1001
E_AUTH = 10000
E_NO_ROUTE_ID = 7003
E_NO_ROUTE = 7000
E_JSON = 6007
E_RATE = 971
E_INTERNAL = 10001
E_INVALID = 12130
E_NOT_FOUND = 12135
E_NOT_ENABLED = 9999

MSG_INVALID = "access.api.error.invalid_request"
MSG_NOT_FOUND = "access.api.error.not_found"
MSG_NOT_ENABLED = "access.api.error.not_enabled: Access is not enabled for this account"

IDP_TYPES = tuple(contract.TYPE_CLASSES)
SINGLETON_TYPES = ("onetimepin", "cloudflare")
OIDC_URL_KEYS = ("auth_url", "token_url", "certs_url")
OIDC_STR_KEYS = ("client_id", "client_secret", "auth_url", "token_url", "certs_url", "email_claim_name")
OIDC_LIST_KEYS = ("scopes", "claims")
OIDC_BOOL_KEYS = ("pkce_enabled",)
# What GET shows for OIDC keys the client left out (UNCONFIRMED on the real API, see module doc).
OIDC_DEFAULTS: dict[str, Any] = {
    "scopes": ["openid", "email", "profile"],
    "claims": [],
    "email_claim_name": "email",
    "pkce_enabled": False,
}
SCIM_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "user_deprovision": False,
    "seat_deprovision": False,
    "identity_update_behavior": "no_action",
}
SCIM_BEHAVIOURS = ("automatic", "reauth", "no_action")
MASKED_SECRET = "*" * 34

RATE_LIMIT = 1200
RATE_WINDOW = 300

# Knobs of POST /_test/config besides page_size/organization/auth_domain/tokens, with defaults.
SETTINGS_DEFAULTS: dict[str, Any] = {
    "secret_on_read": "absent",        # absent | null | masked : how GET shows config.client_secret
    "echo_secret_on_write": False,     # POST/PUT answers carry the secret in clear
    "put_without_secret": "keep",      # keep | clear | reject : PUT of an OIDC IdP without client_secret
    "create_status": 201,              # success status of POST identity_providers
    "delete_status": 202,              # success status of DELETE identity_providers/{id}
    "max_per_page": 1000,              # largest per_page accepted on lists
    "scim_base_url": "server",         # server | team_domain | absent : scim_config.scim_base_url (scim.py)
    "rate_limit": False,               # enforce the API's rate limit: 429 with Retry-After once a credential used it up
    "rate_limit_requests": RATE_LIMIT,  # requests per credential and window (Cloudflare: 1,200 per 5 minutes)
    "rate_limit_window": RATE_WINDOW,  # seconds of the window
}
SETTINGS_CHOICES = {
    "scim_base_url": ("server", "team_domain", "absent"),
    "secret_on_read": ("absent", "null", "masked"),
    "put_without_secret": ("keep", "clear", "reject"),
}

_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~+/=-]+")
_GLOBAL_KEY = re.compile(r"[0-9a-f]{37}")


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(result: Any = None, result_info: dict | None = None, messages: list | None = None) -> dict:
    body = {"success": True, "errors": [], "messages": list(messages or []), "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def failure(code: int, message: str, chain: list[dict] | None = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if chain:
        error["error_chain"] = chain
    return {"success": False, "errors": [error], "messages": [], "result": None}


def fail(status: int, code: int, message: str, chain: list[dict] | None = None,
         headers: dict[str, str] | None = None) -> HTTPError:
    return HTTPError(status, failure(code, message, chain), headers=headers)


def invalid(reason: str) -> HTTPError:
    return fail(400, E_INVALID, "%s: %s" % (MSG_INVALID, reason))


def is_http_url(value: Any) -> bool:
    if not isinstance(value, str) or not value or any(ch.isspace() for ch in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class Principal:
    """Who a request authenticated as."""

    def __init__(self, kind: str, token_id: str, write: bool, accounts: set[str], zones: set[str], status: str = "active"):
        self.kind = kind  # "token" | "legacy"
        self.token_id = token_id
        self.write = write
        self.accounts = accounts
        self.zones = zones
        self.status = status
        self.permissions: set[str] | None = None  # permission group names; None: not restricted (access_users.py)


class CloudflareApp(App):
    """Cloudflare API v4 test double: Access identity providers and organization, account and zone scope.

    Public attributes: ``token`` (full access), ``readonly_token`` (may GET, 403 on writes),
    ``legacy_email``/``legacy_key`` (global API key pair, full access), ``account_id``,
    ``other_account_id`` (exists, but no credential may use it), ``zone_id``, ``zone_name``,
    ``auth_domain`` (current team domain of the account organization, ``None`` when Zero Trust
    is off), ``onetimepin_id`` and ``readonly_idp_id`` (seeded IdPs in account scope),
    ``api_url`` (``<server url>/client/v4`` once bound).

    Stored secrets: ``dump_state()`` (also ``GET /_test/state``) lists every IdP with its full
    config including ``client_secret``; ``stored_secret(idp_id)`` returns one directly and
    ``identity_providers("account"|"zone")`` returns the stored records.

    ``POST /_test/config`` knobs (all undone by ``POST /_test/reset``):

    * ``page_size``: default ``per_page`` of lists; ``max_per_page`` (1000): larger is a 400;
    * ``organization``: ``null`` = Zero Trust never set up (every Access call answers 403 / 9999),
      or an object that replaces the organization (seeded defaults + the given keys);
      ``zone_organization``: the same for the zone; ``auth_domain`` / ``zone_auth_domain``: the team domain;
    * ``secret_on_read``: ``absent`` (default) | ``null`` | ``masked`` (34 ``*``);
      ``echo_secret_on_write`` (false): POST/PUT answers carry the secret;
    * ``put_without_secret``: ``keep`` (default) | ``clear`` | ``reject`` for an OIDC PUT without ``client_secret``;
    * ``create_status`` (201) / ``delete_status`` (202);
    * ``tokens``: ``[{"token", "write": bool, "accounts": [...], "zones": [...], "status": "active"}]`` adds tokens;
      an optional ``"permissions": [<permission group name>, ...]`` limits the people endpoints (access_users.py).
    * ``rate_limit`` (false; the constructor's ``rate_limit`` sets what a reset goes back to): Cloudflare's limit
      of ``rate_limit_requests`` (1200) requests per credential in ``rate_limit_window`` (300) seconds. A window
      opens with a credential's first request; once it is used up, every API request of that credential answers
      429 (code 971) with ``Retry-After`` (whole seconds until the window ends) and is not counted. SCIM and the
      control interface are not limited. The ``Ratelimit`` headers count per credential, limit on or off.
    """

    name = "cloudflare"

    def __init__(self, token: str, page_size: int = 20, account_id: str = DEFAULT_ACCOUNT_ID, *,
                 zone_id: str = DEFAULT_ZONE_ID, zone_name: str = DEFAULT_ZONE_NAME,
                 other_account_id: str = DEFAULT_OTHER_ACCOUNT_ID, readonly_token: str | None = None,
                 legacy_email: str = DEFAULT_LEGACY_EMAIL, legacy_key: str | None = None,
                 auth_domain: str = DEFAULT_AUTH_DOMAIN, rate_limit: bool = False):
        self.account_id = account_id
        self.initial_rate_limit = rate_limit
        self.other_account_id = other_account_id
        self.zone_id = zone_id
        self.zone_name = zone_name
        self.readonly_token = readonly_token or secrets.token_urlsafe(30)
        self.legacy_email = legacy_email
        self.legacy_key = legacy_key or secrets.token_hex(19)[:37]
        self.default_auth_domain = auth_domain
        self.initial_page_size = page_size
        self.onetimepin_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "idpbridge-test:%s:onetimepin" % account_id))
        self.readonly_idp_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "idpbridge-test:%s:read-only" % account_id))
        self.settings: dict[str, Any] = {}
        self.idps: dict[tuple[str, str], dict[str, dict]] = {}
        self.orgs: dict[tuple[str, str], dict | None] = {}
        self.tokens: dict[str, Principal] = {}
        # per credential (the Authorization or X-Auth-Key header): [window start, requests counted]
        self.windows: dict[str, list[float]] = {}
        super().__init__(token, page_size)

    # ---- properties -------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return self.base_url + API

    @property
    def account_scope(self) -> tuple[str, str]:
        return ("accounts", self.account_id)

    @property
    def zone_scope(self) -> tuple[str, str]:
        return ("zones", self.zone_id)

    @property
    def auth_domain(self) -> str | None:
        org = self.orgs.get(self.account_scope)
        return org["auth_domain"] if org else None

    # ---- seeded state -------------------------------------------------------------------------
    def reset_state(self) -> None:
        self.page_size = self.initial_page_size
        self.settings = dict(SETTINGS_DEFAULTS, rate_limit=self.initial_rate_limit)
        accounts = {self.account_id}
        zones = {self.zone_id}
        self.tokens = {
            self.token: Principal("token", uuid.uuid5(uuid.NAMESPACE_URL, "tok:" + self.token).hex, True, set(accounts), set(zones)),
            self.readonly_token: Principal("token", uuid.uuid5(uuid.NAMESPACE_URL, "tok:" + self.readonly_token).hex,
                                           False, set(accounts), set(zones)),
        }
        self.orgs = {self.account_scope: self.make_org({}), self.zone_scope: self.make_org({})}
        self.idps = {self.account_scope: {}, self.zone_scope: {}}
        store = self.idps[self.account_scope]
        store[self.onetimepin_id] = self._record(self.onetimepin_id, "One-time PIN login", "onetimepin", {}, None, created=SEED_TIME)
        store[self.readonly_idp_id] = self._record(
            self.readonly_idp_id, "Managed corporate SSO", "oidc",
            {"client_id": "managed-client", "client_secret": "managed-secret",
             "auth_url": "https://sso.corp.example/authorize", "token_url": "https://sso.corp.example/token",
             "certs_url": "https://sso.corp.example/jwks", **copy.deepcopy(OIDC_DEFAULTS)},
            None, read_only=True, created=SEED_TIME)
        self.windows = {}
        self.access.reset()
        self.people.reset()
        scim.reset(self)

    def make_org(self, overrides: dict) -> dict:
        org = {
            "name": "idpbridge test",
            "auth_domain": self.default_auth_domain,
            "auto_redirect_to_identity": False,
            "allow_authenticate_via_warp": False,
            "is_ui_read_only": False,
            "ui_read_only_toggle_reason": "",
            "session_duration": "24h",
            "warp_auth_session_duration": "24h",
            "user_seat_expiration_inactive_time": "",
            "login_design": {"background_color": "#ffffff", "text_color": "#000000", "logo_path": "",
                             "header_text": "", "footer_text": ""},
            "custom_pages": {},
            "created_at": SEED_TIME,
            "updated_at": SEED_TIME,
        }
        org.update(copy.deepcopy(overrides))
        return org

    @staticmethod
    def _record(idp_id: str, name: str, idp_type: str, config: dict, scim: dict | None,
                read_only: bool = False, created: str | None = None) -> dict:
        stamp = created or now()
        return {
            "id": idp_id,
            "name": name,
            "type": idp_type,
            "config": config,
            "scim_config": dict(SCIM_DEFAULTS, **(scim or {})),
            "scim_secret": None,
            "read_only": read_only,
            "version": uuid.uuid4().hex,
            "created_at": stamp,
            "updated_at": stamp,
        }

    # ---- introspection for tests ------------------------------------------------------------------
    def dump_state(self) -> Any:
        with self.lock:
            return {
                "account_id": self.account_id,
                "zone_id": self.zone_id,
                "identity_providers": {"%s/%s" % key: [copy.deepcopy(rec) for rec in store.values()]
                                       for key, store in self.idps.items()},
                "organizations": {"%s/%s" % key: copy.deepcopy(org) for key, org in self.orgs.items()},
                "settings": dict(self.settings, page_size=self.page_size),
                **self.access.dump(),
                **self.people.dump(),
                "scim": scim.dump(self),
            }

    def identity_providers(self, scope: str = "account") -> list[dict]:
        """Stored IdP records (with secrets) of ``scope`` ("account" or "zone")."""
        key = self.account_scope if scope == "account" else self.zone_scope
        with self.lock:
            return [copy.deepcopy(rec) for rec in self.idps[key].values()]

    def stored_secret(self, idp_id: str) -> str | None:
        """The ``client_secret`` Cloudflare holds for ``idp_id`` (any scope); KeyError if unknown."""
        with self.lock:
            for store in self.idps.values():
                if idp_id in store:
                    return store[idp_id]["config"].get("client_secret")
        raise KeyError(idp_id)

    # ---- run-time configuration ----------------------------------------------------------------------
    def configure(self, settings: dict[str, Any]) -> None:
        if not isinstance(settings, dict):
            raise HTTPError(400, {"detail": "config must be a JSON object"})
        with self.lock:
            super().configure(settings)
            if "organization" in settings:
                self.orgs[self.account_scope] = self._org_setting(settings["organization"])
            if "zone_organization" in settings:
                self.orgs[self.zone_scope] = self._org_setting(settings["zone_organization"])
            for knob, scope in (("auth_domain", self.account_scope), ("zone_auth_domain", self.zone_scope)):
                if knob in settings:
                    if not isinstance(settings[knob], str) or not settings[knob]:
                        raise HTTPError(400, {"detail": "%s must be a non-empty string" % knob})
                    org = self.orgs.get(scope) or self.make_org({})
                    org["auth_domain"] = settings[knob]
                    self.orgs[scope] = org
            for knob, default in SETTINGS_DEFAULTS.items():
                if knob not in settings:
                    continue
                value = settings[knob]
                if knob in SETTINGS_CHOICES and value not in SETTINGS_CHOICES[knob]:
                    raise HTTPError(400, {"detail": "%s must be one of %s" % (knob, ", ".join(SETTINGS_CHOICES[knob]))})
                if isinstance(default, bool):
                    value = bool(value)
                elif isinstance(default, int):
                    value = int(value)
                self.settings[knob] = value
            for spec in settings.get("tokens") or []:
                self._add_token(spec)

    def _org_setting(self, value: Any) -> dict | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise HTTPError(400, {"detail": "organization must be null or an object"})
        return self.make_org(value)

    def _add_token(self, spec: Any) -> None:
        if not isinstance(spec, dict) or not isinstance(spec.get("token"), str) or not spec["token"]:
            raise HTTPError(400, {"detail": "tokens: each item needs a non-empty 'token'"})
        token = spec["token"]
        self.tokens[token] = Principal(
            "token", uuid.uuid5(uuid.NAMESPACE_URL, "tok:" + token).hex, bool(spec.get("write", True)),
            set(spec.get("accounts", [self.account_id])), set(spec.get("zones", [self.zone_id])),
            str(spec.get("status", "active")))
        if spec.get("permissions") is not None:
            self.tokens[token].permissions = set(spec["permissions"])

    # ---- envelopes for the shared framework ------------------------------------------------------------
    def fault_body(self, status: int) -> Any:
        status = int(status)
        if status == 429:
            return failure(E_RATE, "Please wait and consider throttling your request speed")
        if status >= 500:
            return failure(E_INTERNAL, "Internal server error (HTTP %d)" % status)
        if status in (401, 403):
            return failure(E_AUTH, "Authentication error")
        if status == 404:
            return failure(E_NOT_FOUND, MSG_NOT_FOUND)
        return failure(E_INVALID, "%s: injected fault (HTTP %d)" % (MSG_INVALID, status))

    def not_found_body(self, req: Request) -> Any:
        return self._no_route(req)

    def parse_error_body(self, message: str) -> Any:
        return failure(E_JSON, "Malformed JSON in request body", [{"code": E_JSON, "message": message}])

    def method_not_allowed(self, req: Request, allowed: list[str]) -> Response:
        return Response(405, self._no_route(req), headers={"Allow": ", ".join(sorted(set(allowed)))})

    @staticmethod
    def _no_route(req: Request) -> dict:
        path = req.path[len(API):] if req.path.startswith(API) else req.path
        body = failure(E_NO_ROUTE_ID, "Could not route to %s, perhaps your object identifier is invalid?" % path)
        body["errors"].append({"code": E_NO_ROUTE, "message": "No route for that URI"})
        return body

    # ---- authentication ------------------------------------------------------------------------------
    def authenticate(self, req: Request) -> Principal:
        verify = req.path.endswith("/tokens/verify")
        auth = req.header("authorization")
        email = req.header("x-auth-email")
        key = req.header("x-auth-key")
        if auth is not None:
            scheme, _sep, raw = auth.strip().partition(" ")
            raw = raw.strip()
            principal = self.tokens.get(raw) if scheme.lower() == "bearer" else None
            if principal is None and (scheme.lower() != "bearer" or not _TOKEN_CHARS.fullmatch(raw)):
                raise fail(400, E_HEADERS, "Invalid request headers",
                           [{"code": E_AUTH_FORMAT, "message": "Invalid format for Authorization header"}])
            if principal is None or principal.status != "active":
                if verify:
                    raise fail(401, E_VERIFY_BAD_TOKEN, "Invalid API Token")
                raise fail(403, E_BAD_TOKEN, "Invalid access token")
            return principal
        if email is not None or key is not None:
            if key != self.legacy_key and (key is None or not _GLOBAL_KEY.fullmatch(key)):
                raise fail(400, E_HEADERS, "Invalid request headers",
                           [{"code": E_KEY_FORMAT, "message": "Invalid format for X-Auth-Key header"}])
            if email is None or "@" not in email:
                raise fail(400, E_HEADERS, "Invalid request headers",
                           [{"code": E_EMAIL_FORMAT, "message": "Invalid format for X-Auth-Email header"}])
            if email.strip().lower() != self.legacy_email.lower() or key != self.legacy_key:
                raise fail(403, E_UNKNOWN_KEY, "Unknown X-Auth-Key or X-Auth-Email")
            if verify:
                raise fail(400, E_VERIFY_NEEDS_TOKEN, 'Missing "Authorization" header')
            return Principal("legacy", "global-api-key", True, {self.account_id}, {self.zone_id})
        raise fail(400, E_HEADERS, "Invalid request headers",
                   [{"code": E_MISSING_AUTH, "message": "Missing X-Auth-Key, X-Auth-Email or Authorization headers"}])

    def dispatch(self, req: Request) -> Response:
        if scim.owns(req.path):
            return scim.serve(self, req)  # SCIM 2.0: the bearer is the login method's SCIM secret
        headers, retry_after = self._rate_limit(req)
        try:
            if retry_after is not None:
                raise HTTPError(429, self.fault_body(429), {"Retry-After": str(retry_after)})
            if not req.path.startswith(API + "/"):
                raise HTTPError(404, self._no_route(req))
            req.principal = self.authenticate(req)  # type: ignore[attr-defined]
            resp = super().dispatch(req)
        except HTTPError as exc:
            exc.response.headers.update(headers)
            raise
        resp.headers.update(headers)
        return resp

    def _rate_limit(self, req: Request) -> tuple[dict[str, str], int | None]:
        """The Ratelimit headers of this request, and the Retry-After seconds when the limit refuses it."""
        limit, window = int(self.settings["rate_limit_requests"]), float(self.settings["rate_limit_window"])
        credential = req.header("authorization") or req.header("x-auth-key") or ""
        now = time.monotonic()
        entry = self.windows.get(credential)
        if entry is None or now - entry[0] >= window:
            entry = self.windows[credential] = [now, 0]
        reset = max(1, int(math.ceil(entry[0] + window - now)))
        policy = {"Ratelimit-Policy": '"default";q=%d;w=%d' % (limit, int(window))}
        if self.settings["rate_limit"] and entry[1] >= limit:
            return dict(policy, Ratelimit='"default";r=0;t=%d' % reset), reset
        entry[1] += 1
        return dict(policy, Ratelimit='"default";r=%d;t=%d' % (max(0, limit - entry[1]), reset)), None

    def _scope(self, req: Request, write: bool = False, access: bool = True) -> tuple[str, str]:
        """Check the principal may use the path's account/zone (and write), and that Access is on."""
        principal: Principal = req.principal  # type: ignore[attr-defined]
        if req.params.get("account_id") is not None:
            key = ("accounts", req.params["account_id"])
            allowed = key[1] in principal.accounts and key[1] == self.account_id
        else:
            key = ("zones", req.params["zone_id"])
            allowed = key[1] in principal.zones and key[1] == self.zone_id
        if not allowed:
            raise fail(403, E_AUTH, "Authentication error")
        if write and not principal.write:
            raise fail(403, E_AUTH, "Authentication error")
        if access and self.orgs.get(key) is None:
            raise fail(403, E_NOT_ENABLED, MSG_NOT_ENABLED)
        return key

    # ---- routes --------------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        self.route("GET", API + r"/user/tokens/verify", self.verify_token)
        self.route("GET", ACC + r"/tokens/verify", self.verify_token)
        self.route("GET", API + r"/user", self.get_user)
        self.route("GET", API + r"/accounts", self.list_accounts)
        self.route("GET", ACC, self.get_account)
        self.route("GET", ZONE, self.get_zone)
        for prefix in (ACC, ZONE):
            collection = prefix + r"/access/identity_providers"
            item = collection + r"/(?P<idp_id>[^/]+)"
            self.route("GET", collection, self.list_idps)
            self.route("POST", collection, self.create_idp)
            self.route("GET", item, self.get_idp)
            self.route("PUT", item, self.update_idp)
            self.route("DELETE", item, self.delete_idp)
            self.route("GET", prefix + r"/access/organizations", self.get_org)
            self.route("POST", prefix + r"/access/organizations", self.create_org)
            self.route("PUT", prefix + r"/access/organizations", self.update_org)
        from tests.servers.cloudflare import access_apps  # pylint: disable=import-outside-toplevel
        access_apps.register(self)  # Access applications and reusable policies
        from tests.servers.cloudflare import access_logs, access_users, signin  # pylint: disable=import-outside-toplevel
        access_users.register(self)  # Access users, sessions, seats, revoke_user (app.people)
        access_logs.register(self)  # the access-request log
        signin.register(self)  # /_test/access/signin and /_test/access/sessions
        scim.setup_routes(self, ACC)

    # ---- tokens, user, accounts, zones -------------------------------------------------------------------
    def verify_token(self, req: Request) -> Response:
        if req.params.get("account_id") is not None:
            self._scope(req, access=False)
        principal: Principal = req.principal  # type: ignore[attr-defined]
        return Response(200, envelope({"id": principal.token_id, "status": principal.status},
                                      messages=[{"code": 10000, "message": "This API Token is valid and active", "type": None}]))

    def get_user(self, req: Request) -> Response:
        return Response(200, envelope({
            "id": uuid.uuid5(uuid.NAMESPACE_URL, "user:" + self.legacy_email).hex,
            "email": self.legacy_email, "first_name": "Test", "last_name": "Admin",
            "suspended": False, "two_factor_authentication_enabled": False,
        }))

    def _account(self) -> dict:
        return {"id": self.account_id, "name": "idpbridge test account", "type": "standard",
                "settings": {"enforce_twofactor": False}, "created_on": SEED_TIME}

    def list_accounts(self, req: Request) -> Response:
        principal: Principal = req.principal  # type: ignore[attr-defined]
        items = [self._account()] if self.account_id in principal.accounts else []
        page, per_page = self._page_args(req)
        return self._list_response(items, page, per_page)

    def get_account(self, req: Request) -> Response:
        self._scope(req, access=False)
        return Response(200, envelope(self._account()))

    def get_zone(self, req: Request) -> Response:
        self._scope(req, access=False)
        return Response(200, envelope({
            "id": self.zone_id, "name": self.zone_name, "status": "active", "paused": False, "type": "full",
            "account": {"id": self.account_id, "name": "idpbridge test account"},
            "created_on": SEED_TIME, "modified_on": SEED_TIME,
        }))

    # ---- paging ---------------------------------------------------------------------------------------
    def _page_args(self, req: Request) -> tuple[int, int]:
        values = []
        for name, default in (("page", 1), ("per_page", self.page_size)):
            raw = req.arg(name)
            if raw is None or raw == "":
                values.append(default)
                continue
            try:
                number = int(raw)
            except ValueError:
                number = 0
            if number < 1:
                raise invalid("%s must be a positive integer" % name)
            values.append(number)
        if values[1] > self.settings["max_per_page"]:
            raise invalid("per_page must be at most %d" % self.settings["max_per_page"])
        return values[0], values[1]

    @staticmethod
    def _list_response(items: list, page: int, per_page: int) -> Response:
        start = (page - 1) * per_page
        chunk = items[start:start + per_page]
        info = {"page": page, "per_page": per_page, "count": len(chunk), "total_count": len(items),
                "total_pages": int(math.ceil(len(items) / float(per_page)))}
        return Response(200, envelope(chunk, result_info=info))

    # ---- identity providers ----------------------------------------------------------------------------
    def _find(self, scope: tuple[str, str], idp_id: str) -> dict:
        rec = self.idps[scope].get(idp_id)
        if rec is None:
            raise fail(404, E_NOT_FOUND, MSG_NOT_FOUND)
        return rec

    def _scope_auth_domain(self, scope: tuple[str, str]) -> str:
        org = self.orgs.get(scope) or self.orgs.get(self.account_scope)
        return org["auth_domain"] if org else self.default_auth_domain

    def render_idp(self, rec: dict, scope: tuple[str, str], echo_secret: bool = False,
                   reveal_scim_secret: bool = False) -> dict:
        """The API view of a stored IdP record."""
        config = copy.deepcopy(rec["config"])
        if "client_secret" in config:
            secret = config.pop("client_secret")
            mode = self.settings["secret_on_read"]
            if echo_secret:
                config["client_secret"] = secret
            elif mode == "null":
                config["client_secret"] = None
            elif mode == "masked":
                config["client_secret"] = MASKED_SECRET
        config["redirect_url"] = "https://%s/cdn-cgi/access/callback" % self._scope_auth_domain(scope)
        scim = dict(rec["scim_config"])
        if scim.get("enabled"):
            where = {"server": self.base_url, "team_domain": "https://" + self._scope_auth_domain(scope)}
            if self.settings["scim_base_url"] in where:
                scim["scim_base_url"] = "%s/populations/%s/scim/v2" % (where[self.settings["scim_base_url"]], rec["id"])
            if reveal_scim_secret and rec.get("scim_secret"):
                scim["secret"] = rec["scim_secret"]
        return {
            "id": rec["id"],
            "uid": rec["id"],
            "name": rec["name"],
            "type": rec["type"],
            "config": config,
            "scim_config": scim,
            "read_only": rec["read_only"],
            "version": rec["version"],
        }

    def list_idps(self, req: Request) -> Response:
        scope = self._scope(req)
        page, per_page = self._page_args(req)
        records = list(self.idps[scope].values())
        scim_filter = req.arg("scim_enabled")
        if scim_filter is not None and scim_filter.lower() in ("true", "1"):
            records = [rec for rec in records if rec["scim_config"].get("enabled")]
        return self._list_response([self.render_idp(rec, scope) for rec in records], page, per_page)

    def get_idp(self, req: Request) -> Response:
        scope = self._scope(req)
        return Response(200, envelope(self.render_idp(self._find(scope, req.params["idp_id"]), scope)))

    def _body(self, req: Request) -> Any:
        body = req.json()
        if body is None:
            raise invalid("request body is required")
        return body

    def check_contract(self, req: Request, errors: list[str]) -> None:
        """Answer 400, as the API answers an invalid body, when a contract check (tests/servers/cloudflare/*contract.py)
        found errors; without the SDK the request is recorded as unchecked, never silently, and goes on."""
        if errors == [contract.SDK_MISSING]:
            req.contract_errors.append(contract.SDK_MISSING)
            return
        if errors:
            chain = [{"code": E_INVALID, "message": err} for err in errors]
            self.contract_failure(req, errors, failure(E_INVALID, "%s: %s" % (MSG_INVALID, errors[0]), chain))

    def _check_idp_contract(self, req: Request, body: Any, operation: str) -> None:
        self.check_contract(req, contract.check_identity_provider(body, operation))

    def create_idp(self, req: Request) -> Response:
        scope = self._scope(req, write=True)
        body = self._body(req)
        self._check_idp_contract(req, body, "create")
        name, idp_type, config, scim = self._validate_idp(body, scope, None)
        idp_id = str(uuid.uuid4())
        rec = self._record(idp_id, name, idp_type, config, scim)
        reveal = self._maybe_new_scim_secret(rec, False)
        self.idps[scope][idp_id] = rec
        result = self.render_idp(rec, scope, echo_secret=self.settings["echo_secret_on_write"], reveal_scim_secret=reveal)
        return Response(self.settings["create_status"], envelope(result))

    def update_idp(self, req: Request) -> Response:
        scope = self._scope(req, write=True)
        rec = self._find(scope, req.params["idp_id"])
        self._refuse_read_only(rec)
        body = self._body(req)
        self._check_idp_contract(req, body, "update")
        name, idp_type, config, scim = self._validate_idp(body, scope, rec)
        was_enabled = bool(rec["scim_config"].get("enabled"))
        rec.update(name=name, type=idp_type, config=config, version=uuid.uuid4().hex, updated_at=now())
        if scim is not None:
            rec["scim_config"] = dict(SCIM_DEFAULTS, **scim)
        reveal = self._maybe_new_scim_secret(rec, was_enabled)
        result = self.render_idp(rec, scope, echo_secret=self.settings["echo_secret_on_write"], reveal_scim_secret=reveal)
        return Response(200, envelope(result))

    def delete_idp(self, req: Request) -> Response:
        scope = self._scope(req, write=True)
        rec = self._find(scope, req.params["idp_id"])
        self._refuse_read_only(rec)
        del self.idps[scope][rec["id"]]
        return Response(self.settings["delete_status"], envelope({"id": rec["id"]}))

    @staticmethod
    def _refuse_read_only(rec: dict) -> None:
        if rec["read_only"]:
            raise invalid("identity provider %s is read_only and cannot be updated or deleted via the API" % rec["id"])

    @staticmethod
    def _maybe_new_scim_secret(rec: dict, was_enabled: bool) -> bool:
        """SCIM's secret is made when SCIM is first switched on and shown in that answer only."""
        if rec["scim_config"].get("enabled") and not was_enabled and not rec.get("scim_secret"):
            rec["scim_secret"] = secrets.token_hex(32)
            return True
        return False

    def _validate_idp(self, body: Any, scope: tuple[str, str], existing: dict | None) -> tuple[str, str, dict, dict | None]:
        """Server-side rules (400 / 12130). Returns name, type, stored config, scim_config or None."""
        if not isinstance(body, dict):
            raise invalid("request body must be a JSON object")
        for field in ("name", "type", "config"):
            if field not in body or body[field] is None:
                raise invalid("%s is required" % field)
        name, idp_type, config = body["name"], body["type"], body["config"]
        if not isinstance(name, str) or not name.strip():
            raise invalid("name must be a non-empty string")
        if idp_type not in IDP_TYPES:
            raise invalid("type must be one of %s" % ", ".join(IDP_TYPES))
        if not isinstance(config, dict):
            raise invalid("config must be an object")
        config = copy.deepcopy(config)
        if idp_type in SINGLETON_TYPES:
            for other in self.idps[scope].values():
                if other["type"] == idp_type and (existing is None or other["id"] != existing["id"]):
                    raise invalid("only one identity provider of type %s is allowed" % idp_type)
        if idp_type == "oidc":
            config = self._validate_oidc_config(config, existing)
        elif "client_secret" not in config and existing is not None and "client_secret" in existing["config"] \
                and existing["type"] == idp_type and self.settings["put_without_secret"] == "keep":
            config["client_secret"] = existing["config"]["client_secret"]
        scim = body.get("scim_config")
        if scim is not None:
            scim = self._validate_scim(scim)
        return name, idp_type, config, scim

    def _validate_oidc_config(self, config: dict, existing: dict | None) -> dict:
        for key in OIDC_STR_KEYS:
            if key in config and not isinstance(config[key], str):
                raise invalid("config.%s must be a string" % key)
        for key in OIDC_LIST_KEYS:
            if key in config and (not isinstance(config[key], list) or not all(isinstance(v, str) for v in config[key])):
                raise invalid("config.%s must be a list of strings" % key)
        for key in OIDC_BOOL_KEYS:
            if key in config and not isinstance(config[key], bool):
                raise invalid("config.%s must be a boolean" % key)
        if "client_secret" not in config and existing is not None:
            mode = self.settings["put_without_secret"]
            if mode == "reject":
                raise invalid("config.client_secret is required")
            if mode == "keep" and existing["config"].get("client_secret") is not None:
                config["client_secret"] = existing["config"]["client_secret"]
        required = ["client_id", "auth_url", "token_url", "certs_url"]
        if existing is None:
            required.insert(1, "client_secret")
        for key in required:
            if not config.get(key):
                raise invalid("config.%s is required" % key)
        for key in OIDC_URL_KEYS:
            if not is_http_url(config[key]):
                raise invalid("config.%s must be a valid http(s) URL" % key)
        for key, default in OIDC_DEFAULTS.items():
            config.setdefault(key, copy.deepcopy(default))
        return config

    @staticmethod
    def _validate_scim(scim: Any) -> dict:
        """A sent scim_config replaces the stored one as a whole (defaults for left-out keys)."""
        if not isinstance(scim, dict):
            raise invalid("scim_config must be an object")
        merged = dict(SCIM_DEFAULTS)
        for key, value in scim.items():
            if key in ("enabled", "user_deprovision", "seat_deprovision"):
                if not isinstance(value, bool):
                    raise invalid("scim_config.%s must be a boolean" % key)
            elif key == "identity_update_behavior":
                if value not in SCIM_BEHAVIOURS:
                    raise invalid("scim_config.identity_update_behavior must be one of %s" % ", ".join(SCIM_BEHAVIOURS))
            else:
                continue  # read-only or unknown keys are not stored (the contract check reports unknown ones)
            merged[key] = value
        if merged["seat_deprovision"] and not merged["user_deprovision"]:
            raise invalid("scim_config.seat_deprovision cannot be enabled unless user_deprovision is enabled")
        return merged

    # ---- organization ------------------------------------------------------------------------------
    def _check_org_contract(self, req: Request, body: Any, operation: str) -> None:
        self.check_contract(req, contract.check_organization(body, operation))

    def get_org(self, req: Request) -> Response:
        scope = self._scope(req)
        return Response(200, envelope(copy.deepcopy(self.orgs[scope])))

    def create_org(self, req: Request) -> Response:
        scope = self._scope(req, write=True, access=False)
        body = self._body(req)
        self._check_org_contract(req, body, "create")
        if self.orgs.get(scope) is not None:
            raise invalid("an organization already exists for this %s" % scope[0][:-1])
        self._validate_org(body, create=True)
        stamp = now()
        org = self.make_org(body)
        org.update(created_at=stamp, updated_at=stamp)
        self.orgs[scope] = org
        return Response(201, envelope(copy.deepcopy(org)))

    def update_org(self, req: Request) -> Response:
        scope = self._scope(req, write=True)
        body = self._body(req)
        self._check_org_contract(req, body, "update")
        self._validate_org(body, create=False)
        org = self.orgs[scope]
        org.update(copy.deepcopy(body))
        org["updated_at"] = now()
        return Response(200, envelope(copy.deepcopy(org)))

    @staticmethod
    def _validate_org(body: Any, create: bool) -> None:
        if not isinstance(body, dict):
            raise invalid("request body must be a JSON object")
        for key in ("name", "auth_domain"):
            if create and key not in body:
                raise invalid("%s is required" % key)
            if key in body and (not isinstance(body[key], str) or not body[key].strip()):
                raise invalid("%s must be a non-empty string" % key)
        domain = body.get("auth_domain")
        if domain is not None and not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)+", domain):
            raise invalid("auth_domain must be a host name")
