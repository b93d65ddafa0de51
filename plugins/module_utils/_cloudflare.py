# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The Cloudflare client: connection options, auth, the envelope, errors with hints, pages, the account or
zone scope, the Access organization (team domain), and finding an object of one kind by name or id (the
same for login methods, Access applications and reusable policies; each kind's own file says how it is read).

The resources live in files named after them: login methods in ``_login_method``, Access applications and
reusable policies in ``_access``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from collections import namedtuple

from ansible.module_utils.basic import env_fallback, missing_required_lib
from urllib.parse import quote, urlsplit

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, ApiClient, check_token, validate_base_url,
)

DEFAULT_API_URL = "https://api.cloudflare.com/client/v4"
API_PATH = "/client/v4"

PERMISSION_GROUP = "Access: Organizations, Identity Providers, and Groups"
WRITE_PERMISSION = PERMISSION_GROUP + " Write"
READ_PERMISSION = PERMISSION_GROUP + " Read"

CALLBACK_PATH = "/cdn-cgi/access/callback"

# Cloudflare account and zone ids are 32 hexadecimal characters.
SCOPE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
# Ids of login methods are UUIDs; anything that is safe as one path segment is let through.
SAFE_ID = re.compile(r"^[A-Za-z0-9._~-]+$")

# Error codes (see the API fact sheet: treat them as hints, branch on HTTP status first).
CODE_AUTH = 10000            # token lacks the permission or the account
CODE_BAD_TOKEN = 9109        # invalid access token
CODE_UNKNOWN_KEY = 9103      # unknown X-Auth-Key or X-Auth-Email
CODE_BAD_HEADERS = 6003      # malformed or missing auth headers (chain: 6111, 6102, 6103, 9106)
CODE_MISSING_AUTH = 9106
CODE_VERIFY_BAD_TOKEN = 1000
CODE_NO_ROUTE = (7000, 7003)
CODE_NOT_FOUND = 12135

# Keys of a returned object that hold a secret (a login method's client secret, its SCIM secret).
SECRET_KEYS = frozenset(("client_secret", "secret"))


# ---- options ----------------------------------------------------------------------------------
def cloudflare_argument_spec(zone=False):
    """Connection options shared by every Cloudflare module (see the _cloudflare doc fragment).

    ``account_id`` has no fallback here on purpose: ``scope_from_params`` reads
    CLOUDFLARE_ACCOUNT_ID itself, so that an explicit ``zone_id`` wins over the environment.
    """
    spec = dict(
        api_url=dict(type="str", default=DEFAULT_API_URL, fallback=(env_fallback, ["CLOUDFLARE_API_URL"])),
        api_token=dict(type="str", no_log=True, fallback=(env_fallback, ["CLOUDFLARE_API_TOKEN"])),
        api_email=dict(type="str", fallback=(env_fallback, ["CLOUDFLARE_EMAIL"])),
        api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["CLOUDFLARE_API_KEY"])),
        account_id=dict(type="str"),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="float", default=30),
        retries=dict(type="int", default=3),
    )
    if zone:
        spec["zone_id"] = dict(type="str")
    return spec


class Scope:
    """Where the Access objects live: an account (``/accounts/<id>``) or a zone (``/zones/<id>``)."""

    def __init__(self, kind, ident):
        self.kind = kind  # "account" | "zone"
        self.id = ident

    @property
    def path(self):
        return "/%ss/%s" % (self.kind, quote(self.id, safe=""))

    def __str__(self):
        return "%s %s" % (self.kind, self.id)

    def __eq__(self, other):
        return isinstance(other, Scope) and (self.kind, self.id) == (other.kind, other.id)

    def __ne__(self, other):
        return not self == other


def scope_from_params(params, environ=None):
    """The ``Scope`` the options ask for; ``ValueError`` unless exactly one of account and zone is given.

    An account id from CLOUDFLARE_ACCOUNT_ID is used only when neither option is set, so a task
    that sets ``zone_id`` works in an environment that also carries the account id.
    """
    environ = os.environ if environ is None else environ
    account = (params.get("account_id") or "").strip()
    zone = (params.get("zone_id") or "").strip()
    if account and zone:
        raise ValueError("Give either account_id or zone_id, not both: a login method lives in an account "
                         "or (legacy) in one zone")
    if zone:
        kind, ident, option = "zone", zone, "zone_id"
    elif account:
        kind, ident, option = "account", account, "account_id"
    else:
        ident = (environ.get("CLOUDFLARE_ACCOUNT_ID") or "").strip()
        kind, option = "account", "account_id (CLOUDFLARE_ACCOUNT_ID)"
        if not ident:
            raise ValueError("Give account_id (or set CLOUDFLARE_ACCOUNT_ID), or zone_id for zone-level Access")
    return Scope(kind, check_scope_id(ident, option, kind))


def check_scope_id(ident, option, kind="account"):
    """The account (or zone) id ``ident`` in lower case, or ``ValueError`` naming ``option``."""
    what = "Account" if kind == "account" else "Zone"
    ident = (ident or "").strip()
    if not ident:
        raise ValueError("%s is not set: give the %s ID shown in the Cloudflare dashboard (32 hexadecimal characters)."
                         % (option, what))
    if not SCOPE_ID.match(ident):
        raise ValueError("%s must be the 32 hexadecimal characters Cloudflare shows as the %s ID, got %r."
                         % (option, what, ident))
    return ident.lower()


TOKEN_OPTION = "api_token (CLOUDFLARE_API_TOKEN)"
LEGACY_OPTIONS = "api_email and api_key (CLOUDFLARE_EMAIL, CLOUDFLARE_API_KEY)"
TOKEN_WHAT = "a Cloudflare API token with %s on the account" % WRITE_PERMISSION


def auth_headers(params, token_option=TOKEN_OPTION, legacy_options=LEGACY_OPTIONS):
    """``(headers, auth_kind, warnings)`` for the credentials in ``params``; ``ValueError`` if unusable.

    ``token_option`` and ``legacy_options`` are how messages name where the token and the legacy pair come from
    (the role names its variable).
    """
    token = (params.get("api_token") or "").strip()
    email = (params.get("api_email") or "").strip()
    key = (params.get("api_key") or "").strip()
    warnings = []
    if token:
        check_token(token, token_option, TOKEN_WHAT)
        if key:
            warnings.append("Both api_token and api_key are set (options or CLOUDFLARE_* variables); using api_token")
        return {"Authorization": "Bearer %s" % token}, "token", warnings
    if email or key:
        if not (email and key):
            raise ValueError("The legacy global API key needs both %s; better, use an API token (%s)."
                             % (legacy_options, token_option))
        check_token(key, "api_key (CLOUDFLARE_API_KEY)", "the global API key")
        return {"X-Auth-Email": email, "X-Auth-Key": key}, "legacy", warnings
    raise ValueError("No Cloudflare credentials: %s is not set: give %s (or the legacy pair %s)."
                     % (token_option, TOKEN_WHAT, legacy_options))


def api_base_url(url, option="api_url (CLOUDFLARE_API_URL)"):
    """The API base URL: validated, no trailing slash, ``/client/v4`` added to a bare host."""
    base = validate_base_url(url, option, example=DEFAULT_API_URL)
    if urlsplit(base).path in ("", "/"):
        base += API_PATH
    return base


LOOPBACK_HOSTS = ("localhost", "::1")


def check_url(value, option):
    """Raise ``ValueError`` unless ``value`` is an absolute http(s) URL."""
    if not isinstance(value, str) or not value or re.search(r"\s", value):
        raise ValueError("%s must be an absolute https:// URL, got %r" % (option, value))
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("%s must be an absolute https:// URL such as https://auth.example.com/application/o/token/, "
                         "got %r" % (option, value))
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS and not parts.hostname.startswith("127."):
        raise ValueError("%s must be an https:// URL: Cloudflare reaches it over the internet, and plain http is accepted "
                         "for 127.0.0.1 and localhost (test servers) only; got %r" % (option, value))


# ---- errors -----------------------------------------------------------------------------------
def format_errors(errors):
    """``(text, codes)`` of an envelope's ``errors`` list: ``[code] message (chain)`` joined by ``; ``."""
    parts = []
    codes = []
    for error in errors or []:
        if not isinstance(error, dict):
            parts.append(str(error))
            continue
        code = error.get("code")
        text = error.get("message") or "no message"
        if code is not None:
            codes.append(code)
            text = "[%s] %s" % (code, text)
        chain = error.get("error_chain")
        if isinstance(chain, list) and chain:
            inner, inner_codes = format_errors(chain)
            codes.extend(inner_codes)
            text = "%s (%s)" % (text, inner)
        parts.append(text)
    return "; ".join(parts), codes


CHALLENGE_MESSAGE = "a Cloudflare challenge page (bot protection), not an API answer"


def is_not_enabled(message):
    text = (message or "").lower()
    return "not_enabled" in text or "access is not enabled" in text


def not_enabled_hint(scope):
    return ("Zero Trust was never set up on %s: it has no Access organization (team domain) yet. Open the Cloudflare "
            "dashboard, go to Zero Trust once and choose a team name, then rerun" % scope)


def _api_code(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class CloudflareClient(ApiClient):
    """The Cloudflare API v4 with one account or zone scope."""

    api_name = "Cloudflare"
    url_option = "api_url (CLOUDFLARE_API_URL; the role's cloudflare_access_cloudflare_api_url)"
    pages_are_errors = False  # call() reports an answer that is not an envelope

    def __init__(self, base_url, headers, scope, auth_kind="token", **kwargs):
        super(CloudflareClient, self).__init__(base_url, headers, **kwargs)
        self.scope = scope
        self.auth_kind = auth_kind
        self._cache = {}

    @classmethod
    def from_module(cls, module):
        """The client for a module's options; fails the module on unusable options (before any request)."""
        if not HAS_REQUESTS:
            module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        params = module.params
        try:
            base = api_base_url(params.get("api_url") or DEFAULT_API_URL)
            headers, kind, warnings = auth_headers(params)
            scope = scope_from_params(params)
        except ValueError as exc:
            module.fail_json(msg=str(exc))
        for warning in warnings:
            module.warn(warning)
        return cls(base, headers, scope, auth_kind=kind, timeout=params["timeout"],
                   validate_certs=params["validate_certs"], ca_path=params.get("ca_path"),
                   retries=params["retries"], warn=module.warn)

    # ---- errors ------------------------------------------------------------------------
    def parse_error(self, status, body):
        if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
            return format_errors(body["errors"])
        if isinstance(body, str) and re.search(r"Just a moment|challenge-platform|cf-chl|Attention Required", body):
            return CHALLENGE_MESSAGE, []
        return super(CloudflareClient, self).parse_error(status, body)

    def credentials_hint(self):
        if self.auth_kind == "legacy":
            return ("Check api_email and api_key (CLOUDFLARE_EMAIL, CLOUDFLARE_API_KEY): the global API key must belong "
                    "to that user; better, use an API token")
        return ("Check the API token (api_token or CLOUDFLARE_API_TOKEN): it is wrong, expired, revoked or not yet "
                "active; see My Profile > API Tokens in the Cloudflare dashboard")

    def hint_for(self, status, api_message, codes, method, path):
        codes = [_api_code(c) for c in codes or []]
        if is_not_enabled(api_message):
            return not_enabled_hint(self.scope)
        if api_message == CHALLENGE_MESSAGE:
            return ("Check api_url (CLOUDFLARE_API_URL; the role's cloudflare_access_cloudflare_api_url): it must be the API, "
                    "%s, not a site behind Cloudflare; a proxy between here and the API can cause this too" % DEFAULT_API_URL)
        if status == 403 and CODE_AUTH in codes:
            if method in ("GET", "HEAD"):
                needed = "'%s' (or '%s')" % (READ_PERMISSION, WRITE_PERMISSION)
            else:
                needed = "'%s'" % WRITE_PERMISSION
            if self.auth_kind == "legacy":
                return ("The user of this global API key may not do this on %s: it needs the Access role that includes %s"
                        % (self.scope, needed))
            permission = ("the account permission %s for %s (the account that holds the login methods must be included "
                          "in the token's account resources); edit the token under My Profile > API Tokens" % (needed, self.scope))
            if method not in ("GET", "HEAD"):
                return "The API token lacks a permission: it needs " + permission
            # a read is the first request: Cloudflare answers the same for an id that exists nowhere
            return ("The API token lacks a permission, or the %s id is wrong (Cloudflare answers the same for an id "
                    "that exists nowhere): check %s_id (CLOUDFLARE_ACCOUNT_ID for an account; the role's "
                    "cloudflare_access_cloudflare_account_id) against the dashboard, and that the token has %s"
                    % (self.scope.kind, self.scope.kind, permission))
        if status == 401 or CODE_BAD_TOKEN in codes or CODE_UNKNOWN_KEY in codes or CODE_VERIFY_BAD_TOKEN in codes:
            return self.credentials_hint()
        if CODE_BAD_HEADERS in codes:
            if CODE_MISSING_AUTH in codes:
                return "No credentials reached Cloudflare; set api_token (or CLOUDFLARE_API_TOKEN)"
            return self.credentials_hint()
        if status == 404 and any(c in CODE_NO_ROUTE for c in codes):
            return ("Check %s_id and api_url: Cloudflare has no such route (a wrong or mistyped id gives this)"
                    % self.scope.kind)
        if status == 429:
            return ("Cloudflare's rate limit was hit (1200 requests per 5 minutes per user, counted across the dashboard "
                    "and all tokens); wait five minutes, raise the retries option, or run less often")
        if status is not None and status >= 500:
            return "Cloudflare had an internal error; retry later (https://www.cloudflarestatus.com)"
        return None

    # ---- the envelope --------------------------------------------------------------------
    def call(self, method, path, params=None, body=None, what=None, ok_statuses=None):
        """``(status, result, result_info)`` of an API call, the envelope unwrapped.

        A status in ``ok_statuses`` (e.g. 404) is returned with ``result=None`` instead of raised.
        """
        status, payload = self.request(method, path, params=params, body=body, what=what, ok_statuses=ok_statuses)
        if not 200 <= status < 300:
            return status, None, None
        if not isinstance(payload, dict) or not ("result" in payload or "success" in payload):
            raise self._error(what, method, path, status,
                              "the answer is not a Cloudflare API envelope: %s" % self.parse_error(status, payload)[0],
                              hint="Check api_url: it must be the Cloudflare API v4, such as %s" % DEFAULT_API_URL)
        if payload.get("success") is False:
            message, codes = self.parse_error(status, payload)
            raise self._error(what, method, path, status, message, codes=codes)
        return status, payload.get("result"), payload.get("result_info")

    def result(self, method, path, params=None, body=None, what=None):
        return self.call(method, path, params=params, body=body, what=what)[1]

    def paginate(self, path, params=None, what=None, per_page=None, max_pages=1000):
        """Every item of a list endpoint, walking ``page`` = 1, 2, ... (see ``is_last_page``).

        Without ``per_page`` the server's page size is used. Items already seen (same ``id``) on
        an earlier page are skipped, in case the list shifted while it was read.
        """
        items = []
        seen = set()
        page = 1
        while True:
            query = dict(params or {})
            query["page"] = page
            if per_page:
                query["per_page"] = per_page
            _status, result, info = self.call("GET", path, params=query, what=what)
            if result is None:
                result = []
            if not isinstance(result, list):
                raise self._error(what, "GET", path, _status, "expected a list in result, got %s" % type(result).__name__)
            for item in result:
                ident = item.get("id") if isinstance(item, dict) else None
                if ident is not None:
                    if ident in seen:
                        continue
                    seen.add(ident)
                items.append(item)
            if is_last_page(result, info, page, per_page, len(items)):
                return items
            page += 1
            if page > max_pages:
                raise ApiError("Gave up listing %s after %d pages; the list never ended" % (path, max_pages),
                               method="GET", path=path)

    # ---- scope, organization, team domain ----------------------------------------------------
    def organization(self):
        """The Access organization of the scope (read once per run). ``LookupFailed`` when there is none."""
        if "organization" not in self._cache:
            org = self.result("GET", self.scope.path + "/access/organizations",
                              what="read the Zero Trust organization of %s" % self.scope)
            if not isinstance(org, dict) or not org.get("auth_domain"):
                raise LookupFailed("Cloudflare returned no Access organization for %s. %s" % (self.scope, not_enabled_hint(self.scope)))
            self._cache["organization"] = org
        return self._cache["organization"]

    def team_domain(self, objects=(), optional=True):
        """The team domain (``<team>.cloudflareaccess.com``) of the scope, or None.

        Taken from the organization when it was already read, else from a login method's
        ``config.redirect_url`` (the API reports the callback URL there, no request needed), else
        from one GET of the organization. With ``optional``, a failing read gives a warning and None.
        """
        if "organization" in self._cache:
            return clean_auth_domain(self._cache["organization"].get("auth_domain"))
        for obj in objects:
            domain = auth_domain_from_identity_provider(obj)
            if domain:
                return domain
        try:
            return clean_auth_domain(self.organization().get("auth_domain"))
        except (ApiError, LookupFailed) as exc:
            if not optional:
                raise
            self.warn("Could not read the team domain of %s, so test_url and callback_url are left out: %s"
                      % (self.scope, exc))
            return None

    # ---- one object of a kind, by name or id ---------------------------------------------------
    # With ``predict_missing`` (check mode), an object named but not found stands in as
    # ``(not yet created: <name>)`` with a warning: an earlier task of the same check-mode run would have
    # created it, so failing here would not tell the truth.
    predict_missing = False

    def _missing(self, what, ref, message):
        if self.predict_missing:
            self.warn("%s %r does not exist (yet); in check mode it is assumed to be created by an earlier task"
                      % (what, ref))
            return "(not yet created: %s)" % ref
        raise LookupFailed(message)

    def list_once(self, key, path, what):
        """Every item of the list at ``path`` (all pages), read once per run and kept under ``key``."""
        if key not in self._cache:
            self._cache[key] = self.paginate(path, what=what)
        return self._cache[key]

    def read_or_none(self, path, what):
        """The object at its detail ``path``, or None when Cloudflare does not know the id (404)."""
        status, result, _info = self.call("GET", path, ok_statuses=(404,), what=what)
        return None if status == 404 else result

    def unique(self, kind, name):
        """The one object of ``kind`` named ``name``, None when there is none; ``LookupFailed`` when several."""
        found = kind.named(self, name)
        if len(found) > 1:
            raise LookupFailed(duplicates_message(kind.plural, name, found, self.scope, kind.where, kind.option,
                                                  kind.describe))
        return found[0] if found else None

    def find_by_name_or_id(self, kind, ident=None, name=None, unknown_id=None):
        """The object of ``kind`` given by id (one GET of its detail path) or else by name; None when there is none.

        ``unknown_id``: the message of the ``LookupFailed`` raised when Cloudflare does not know the id, with ``%s``
        for the id and for the scope (None: no error, None is returned).
        """
        if ident:
            found = kind.read(self, ident)
            if found is None and unknown_id:
                raise LookupFailed(unknown_id % (ident, self.scope))
            return found
        return self.unique(kind, name)

    def select(self, kind, ident=None, name=None):
        """What an info module shows: the object given by id or name (an empty list when there is none), else all."""
        if ident or name is not None:
            found = self.find_by_name_or_id(kind, ident, name)
            return [found] if found is not None else []
        return kind.every(self)

    def id_of(self, kind, ref, missing):
        """The id of an object of ``kind`` given by name or id: ``ref`` itself when an object has that id, else the
        id of the one named ``ref``. None of either: ``LookupFailed(missing())`` (with ``predict_missing``, a stand-in)."""
        for obj in kind.every(self):
            if isinstance(obj, dict) and obj.get("id") == ref:
                return ref
        found = self.unique(kind, ref)
        if found is None:
            return self._missing(kind.the, ref, missing())
        return found["id"]


# One kind of object of the scope, found by name or id in the same way as every other kind; the file of the
# resource makes one (``LOGIN_METHODS`` in ``_login_method``, ``APPLICATIONS`` and ``POLICIES`` in ``_access``).
# ``read(client, id)`` is the object of that id or None, ``named(client, name)`` the ones of that name,
# ``every(client)`` all of them (read once per run). ``plural``, ``where`` (the dashboard page), ``option`` (the
# option that picks one by id) and ``describe(obj)`` (None: the id) word the message for several of one name;
# ``the`` names the kind in a sentence.
Kind = namedtuple("Kind", "the plural where option read named every describe", defaults=(None,))


def is_last_page(result, info, page, requested_per_page, seen_count):
    """Whether the page just read is the last one, so no request is spent on an empty page.

    Last when: the page is empty; ``result_info.total_pages`` says so; ``total_count`` items
    were seen; or the page held fewer items than the page size (``result_info.per_page``, else
    what we asked for). Without any of that, keep going until an empty page, as the SDK does.
    """
    if not result:
        return True
    info = info if isinstance(info, dict) else {}
    total_pages = _api_code(info.get("total_pages"))
    if total_pages is not None and total_pages >= 1 and page >= total_pages:
        return True
    total_count = _api_code(info.get("total_count"))
    if total_count is not None and seen_count >= total_count:
        return True
    per_page = _api_code(info.get("per_page")) or requested_per_page
    count = _api_code(info.get("count"))
    if count is None:
        count = len(result)
    if per_page and count < per_page:
        return True
    return False


def duplicates_message(what, name, found, scope, where, option, describe=None):
    """The message for several objects of one name: ``what`` (plural), the ids (``describe`` each), where to fix it."""
    describe = describe or (lambda obj: str(obj.get("id")))
    listed = ", ".join(describe(obj) for obj in found)
    return ("%d %s in %s are named %r: %s. The module will not guess which one is meant: rename or delete the extra "
            "ones in %s, or pick one with %s" % (len(found), what, scope, name, listed, where, option))


# ---- URLs -------------------------------------------------------------------------------------
def clean_auth_domain(value):
    """``myteam.cloudflareaccess.com`` from a domain or URL; None for nothing."""
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    if "://" in value:
        value = urlsplit(value).netloc
    return value.split("/", 1)[0].rstrip(".") or None


def callback_url(auth_domain):
    return "https://%s%s" % (auth_domain, CALLBACK_PATH)


def auth_domain_from_identity_provider(obj):
    """The team domain from ``config.redirect_url`` (``https://<domain>/cdn-cgi/access/callback``), or None."""
    if not isinstance(obj, dict):
        return None
    url = (obj.get("config") or {}).get("redirect_url") if isinstance(obj.get("config"), dict) else None
    if not isinstance(url, str):
        return None
    match = re.match(r"^https://([A-Za-z0-9.-]+)%s/?$" % re.escape(CALLBACK_PATH), url.strip())
    return match.group(1) if match else None
