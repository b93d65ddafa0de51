# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""authentik resources: the client, its errors and pages, lookups by name or slug, versions,
client secrets (a string field up to 2026.8, a Secret object from 2026.11) and the OIDC endpoint
URLs of a provider."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.basic import env_fallback, missing_required_lib
from urllib.parse import quote

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, ApiClient, validate_base_url,
)

API_PREFIX = "/api/v3"
OLDEST_SUPPORTED = (2024, 10)
UNKNOWN_VERSION = (9999, 0, 0)  # what version() answers when the token may not read it: assume the newest

DEFAULT_AUTHORIZATION_FLOW = "default-provider-authorization-implicit-consent"
DEFAULT_INVALIDATION_FLOW = "default-provider-invalidation-flow"
DEFAULT_SIGNING_KEY = "authentik Self-signed Certificate"

SCOPE_MANAGED_PREFIX = "goauthentik.io/providers/oauth2/scope-"

# 2026.11 (not released when this was written; read from authentik's source): a provider's client
# secret is a Secret object. The provider holds its UUID (client_secret_ref; "secret" in earlier
# development snapshots), the value is read through the Secret's view_value endpoint.
SECRETS_PATH = "/secrets/secrets/"
SECRET_REF_KEYS = ("client_secret_ref", "secret")


def release_text(version):
    """``(2025, 10, 0)`` -> ``"2025.10"``."""
    return "%d.%d" % tuple(version[:2])


def needs_release(what, minimum, running, hint="Remove the option"):
    """The ``LookupFailed`` for an option the server's release cannot honour, naming the minimum release."""
    return LookupFailed("%s needs authentik %s or newer; this server runs %s. %s"
                        % (what, release_text(minimum), running, hint))


def too_old(running):
    return LookupFailed("authentik %s is older than %s, the oldest release this collection supports; upgrade authentik"
                        % (running, release_text(OLDEST_SUPPORTED)))


def secret_ref_key(provider):
    """The key under which ``provider`` (an API object) references its Secret (2026.11), or None."""
    if not isinstance(provider, dict) or "client_secret" in provider:
        return None
    for key in SECRET_REF_KEYS:
        if key in provider:
            return key
    return None


def authentik_argument_spec():
    """Connection options shared by every authentik module (see the _authentik doc fragment)."""
    return dict(
        url=dict(type="str", required=True, fallback=(env_fallback, ["AUTHENTIK_URL"])),
        token=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["AUTHENTIK_TOKEN"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["AUTHENTIK_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["AUTHENTIK_CA_PATH"])),
        timeout=dict(type="float", default=30),
        retries=dict(type="int", default=3),
    )


def version_tuple(text):
    """``"2025.12.4"`` -> ``(2025, 12, 4)``; unknown parts become 0."""
    numbers = [int(n) for n in re.findall(r"\d+", str(text or ""))[:3]]
    while len(numbers) < 3:
        numbers.append(0)
    return tuple(numbers)


def _flatten_errors(value, prefix=""):
    """authentik's field-error dicts as "field: message" strings, nested paths joined by dots."""
    out = []
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == "code" and not isinstance(sub, (list, dict)):
                continue
            name = prefix if key in ("non_field_errors", "detail") else (prefix + "." + key if prefix else key)
            out.extend(_flatten_errors(sub, name))
    elif isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            text = " ".join(value)
            out.append("%s: %s" % (prefix, text) if prefix else text)
        else:
            for index, sub in enumerate(value):
                if sub:
                    out.extend(_flatten_errors(sub, "%s[%d]" % (prefix, index)))
    elif value is not None:
        out.append("%s: %s" % (prefix, value) if prefix else str(value))
    return out


# A page of authentik's web interface (/if/admin/, /if/flow/..., /flows/...): what a browser shows, not the base URL.
WEB_PAGE = re.compile(r"/(if|flows)/")

# The slug rules of authentik's applications; the reserved ones clash with the OAuth2 provider's own endpoints under
# /application/o/ (newer releases reject them).
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
SLUG_MAX = 50
RESERVED_SLUGS = ("authorize", "token", "device", "userinfo", "introspect", "revoke")


def authentik_base_url(url, option):
    """authentik's base URL from ``url`` (``validate_base_url``), or ``ValueError`` naming ``option``.

    Refuses the address of a page of the web interface (copied from the browser), saying which base URL to give.
    """
    base = validate_base_url(url, option)
    if WEB_PAGE.search(base):
        raise ValueError("%s is the address of a page of authentik's web interface (%r): give its base URL only, "
                         "such as %s." % (option, url, WEB_PAGE.split(base, 1)[0]))
    return base


def check_slug(slug, option):
    """Raise ``ValueError`` naming ``option`` unless ``slug`` is a slug authentik accepts for an application."""
    if not SLUG.match(slug or ""):
        raise ValueError("%s may hold only letters, digits, '-' and '_', got %r" % (option, slug))
    if slug in RESERVED_SLUGS:
        raise ValueError("%s %r is reserved: it clashes with authentik's OAuth2 endpoint /application/o/%s/"
                         % (option, slug, slug))
    if len(slug) > SLUG_MAX:
        raise ValueError("%s must be at most %d characters long, got %d" % (option, SLUG_MAX, len(slug)))


class AuthentikClient(ApiClient):
    """The authentik REST API (``/api/v3``)."""

    api_name = "authentik"
    url_option = "the url option (AUTHENTIK_URL; the role's cloudflare_access_authentik_url)"

    def __init__(self, base_url, token, **kwargs):
        """A client for authentik at ``base_url`` (checked already; with or without ``/api/v3``).

        ``kwargs`` are those of ``ApiClient``: ``timeout``, ``validate_certs``, ``ca_path``, ``retries``, ``warn``.
        """
        base = base_url.rstrip("/")
        if base.endswith(API_PREFIX):
            base = base[: -len(API_PREFIX)]
        self.root_url = base
        super(AuthentikClient, self).__init__(base + API_PREFIX, {"Authorization": "Bearer %s" % token}, **kwargs)
        self._cache = {}

    @classmethod
    def from_module(cls, module, prefix=""):
        """The client for a module's connection options; fails the module on unusable options (before any request).

        ``prefix`` ``"authentik_"`` reads ``authentik_url``, ``authentik_token``, ``authentik_validate_certs`` and
        ``authentik_ca_path`` (a module of another API that also reads authentik); ``timeout`` and ``retries`` are
        the module's own either way.
        """
        if not HAS_REQUESTS:
            module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        params = module.params
        try:
            base = authentik_base_url(params.get(prefix + "url"), "url (AUTHENTIK_URL)")
        except ValueError as exc:
            module.fail_json(msg=str(exc))
        return cls(base, params.get(prefix + "token"), timeout=params["timeout"],
                   validate_certs=params.get(prefix + "validate_certs", True), ca_path=params.get(prefix + "ca_path"),
                   retries=params["retries"], warn=module.warn)

    # ---- errors ------------------------------------------------------------------------
    def parse_error(self, status, body):
        if isinstance(body, (dict, list)):
            parts = _flatten_errors(body)
            return ("; ".join(parts) if parts else "no details in the answer"), []
        if isinstance(body, str) and body.strip():
            title = re.search(r"<title>(.*?)</title>", body, re.S | re.I)
            if title:
                return "an HTML page titled %r (is the url option pointing at authentik?)" % title.group(1).strip(), []
            return body.strip()[:300], []
        return "no details in the answer", []

    def hint_for(self, status, api_message, codes, method, path):
        message = api_message or ""
        if status in (401, 403):
            if "Token invalid" in message:
                return ("Check the authentik token (option token or AUTHENTIK_TOKEN): it must be an API token "
                        "(intent API) that has not expired")
            if "not provided" in message:
                return "Give an authentik API token with the token option or AUTHENTIK_TOKEN"
            if path.startswith(SECRETS_PATH) or (API_PREFIX + SECRETS_PATH) in path:
                return ("Reading or setting a client secret (authentik 2026.11 keeps it in a Secret object) needs the "
                        "permissions Can view Secret, View secret's value and, to set it, Rotate secret's value on that "
                        "Secret; use a superuser token or grant them")
            if "permission" in message.lower():
                return ("The token's user lacks a permission on this kind of object; use a superuser token or grant the "
                        "permissions listed in the collection's README")
        if status == 404 and not message.startswith(("Not found", "No ")) and "HTML" in message:
            return "Check the url option: it must be authentik's base URL, such as https://auth.example.com"
        if status == 400 and method == "POST" and re.match(r"(name|slug): .*already exists", message):
            return ("authentik keeps these names and slugs unique and one is taken, by another run at the same time or by "
                    "an object made by hand: rerun, and the module adopts the object of that name; if it is not yours, "
                    "pick another name or delete it in authentik's admin interface")
        if status == 405:
            return "This authentik version does not offer this call; check the server version"
        if status == 429:
            return "authentik rate-limited the requests; raise the retries option or run less often"
        if status is not None and status >= 500:
            return "authentik had an internal error; its server log names the cause"
        return None

    # ---- pages ---------------------------------------------------------------------------
    def paginate(self, path, params=None, what=None, limit=None):
        """Every result of a list endpoint, following ``pagination.next`` page numbers."""
        query = dict(params or {})
        page = 1
        items = []
        while True:
            query["page"] = page
            body = self.get(path, params=query, what=what) or {}
            items.extend(body.get("results") or [])
            if limit is not None and len(items) >= limit:
                return items[:limit]
            following = (body.get("pagination") or {}).get("next") or 0
            if not following or following <= page:
                return items
            page = following

    def find_one(self, path, params, kind, key_text, what=None):
        """The single object a filtered list returns, None when none; ``LookupFailed`` when several."""
        results = self.paginate(path, params, what=what or "look up %s %s" % (kind, key_text), limit=2)
        if len(results) > 1:
            raise LookupFailed("More than one %s matches %s; make the name unique in authentik" % (kind, key_text))
        return results[0] if results else None

    # ---- version -------------------------------------------------------------------------
    def version(self):
        """The server's version as a tuple, read once per run; (9999, 0, 0) when not readable."""
        if "version" not in self._cache:
            status, body = self.request("GET", "/admin/version/", ok_statuses=(403, 404), what="read the authentik version")
            text = body.get("version_current") if status == 200 and isinstance(body, dict) else None
            self._cache["version"] = version_tuple(text) if text else UNKNOWN_VERSION
            self._cache["version_text"] = text
            if text and self._cache["version"][:2] < OLDEST_SUPPORTED:
                raise too_old(text)
        return self._cache["version"]

    def at_least(self, *wanted):
        return self.version() >= tuple(wanted) + (0,) * (3 - len(wanted))

    def running(self, fallback):
        """How messages name the server's release: its version when read, else ``fallback``."""
        return self._cache.get("version_text") or fallback

    # ---- client secrets ------------------------------------------------------------------
    def secret_value(self, ref, what="read a client secret"):
        """The value of the Secret ``ref`` (2026.11), read once per run through its view_value endpoint."""
        def load():
            body = self.get("%s%s/view_value/" % (SECRETS_PATH, quote(str(ref), safe="")), what=what)
            return (body or {}).get("value") if isinstance(body, dict) else None
        return self._cached(("secret-value", str(ref)), load)

    def set_secret_value(self, ref, value, what="set a client secret"):
        """Give the Secret ``ref`` a new value (every object that references it uses the new value)."""
        self.patch("%s%s/" % (SECRETS_PATH, quote(str(ref), safe="")), {"value": value}, what=what)
        self._cache[("secret-value", str(ref))] = value

    def create_secret(self, name, value, what="create a client secret"):
        """A new text Secret; returns its pk."""
        return self.post(SECRETS_PATH, {"name": name, "type": "text", "value": value}, what=what)["pk"]

    def provider_secret(self, provider, what=None):
        """A provider's client secret: its own field up to 2026.8, its Secret's value from 2026.11.

        None when the provider has neither (no secret attached)."""
        if not isinstance(provider, dict):
            return None
        if "client_secret" in provider:
            return provider.get("client_secret")
        key = secret_ref_key(provider)
        ref = provider.get(key) if key else None
        if not ref:
            return None
        return self.secret_value(ref, what=what or "read the client secret of OAuth2 provider %r" % provider.get("name"))

    # ---- cached lookups ------------------------------------------------------------------
    def _cached(self, key, loader):
        """``loader()``'s answer, read once per run; a failed lookup fails the same way when asked again."""
        if key not in self._cache:
            try:
                self._cache[key] = loader()
            except (ApiError, LookupFailed) as exc:
                self._cache[key] = _Failed(exc)
        value = self._cache[key]
        if isinstance(value, _Failed):
            raise value.error
        return value

    def load_flows(self, slugs):
        """Read the flows ``slugs`` into the per-run cache, in one request when several are wanted.

        authentik answers a flow lookup in about the same time whatever it matches (one flow or all
        of them), and its flow list has no filter for several slugs: for two or more slugs it is read
        whole (an installation holds a few dozen flows, whatever the number of applications).
        """
        wanted = sorted(set(s for s in slugs if s and ("flow", s) not in self._cache))
        if len(wanted) < 2:
            return
        try:
            flows = self.paginate("/flows/instances/", {"page_size": 100}, what="list the flows")
        except ApiError:
            return  # each flow is then looked up on its own, and fails with its own message
        by_slug = {}
        for flow in flows:
            by_slug.setdefault(flow.get("slug"), []).append(flow)
        for slug in wanted:
            found = by_slug.get(slug) or []
            if len(found) == 1:
                self._cache[("flow", slug)] = found[0]
            elif not found:
                self._cache[("flow", slug)] = None

    def flow_pk(self, slug, designation):
        """The pk of the flow ``slug``, which must have ``designation``."""
        def load():
            return self.find_one("/flows/instances/", {"slug": slug}, "flow", "with slug %r" % slug)
        # The flow is cached, the designation checked on every call: one slug may be asked for
        # as two kinds of flow in one run.
        flow = self._cached(("flow", slug), load)
        if flow is None:
            raise LookupFailed("No authentik flow has the slug %r (wanted for the %s flow); check the slug under "
                               "Flows and Stages > Flows" % (slug, designation))
        if flow.get("designation") not in (None, designation):
            raise LookupFailed("The authentik flow %r is an %s flow, not an %s flow"
                               % (slug, flow.get("designation"), designation))
        return flow["pk"]

    def keypair_pk(self, name, need_private_key=True):
        def load():
            params = {"name": name}
            found = self.find_one("/crypto/certificatekeypairs/", params, "certificate-key pair", "named %r" % name)
            if found is None:
                raise LookupFailed("No authentik certificate-key pair is named %r; check System > Certificates" % name)
            if need_private_key and not found.get("private_key_available", True):
                raise LookupFailed("The authentik certificate %r has no private key, so it cannot sign tokens; "
                                   "Cloudflare needs signed ID tokens and a JWKS: pick a key pair with a private key" % name)
            return found["pk"]
        return self._cached(("keypair", name), load)

    def keypair_name(self, pk):
        if pk is None:
            return None
        for key, value in self._cache.items():
            if isinstance(key, tuple) and key[0] == "keypair" and value == pk:
                return key[1]

        def load():
            body = self.get_or_none("/crypto/certificatekeypairs/%s/" % quote(str(pk)), what="look up certificate %s" % pk)
            return body.get("name") if isinstance(body, dict) else pk
        return self._cached(("keypair-name", pk), load)

    def scope_mappings(self, scope_names):
        """{scope name: pk} for ``scope_names``: authentik's managed mapping of each scope first, else
        the mapping with that scope name. Read once per run.

        The managed mappings come from one list (``managed__isnull=false``). Asking for them with
        ``?managed=A&managed=B`` would fail as a whole (400 "Select a valid choice") as soon as one
        scope has no managed mapping, because that filter accepts existing values only.
        """
        wanted = sorted(set(scope_names))
        missing = [s for s in wanted if ("scope", s) not in self._cache]
        if missing:
            if "scope-managed" not in self._cache:
                self._cache["scope-managed"] = self.paginate(
                    "/propertymappings/provider/scope/", {"managed__isnull": False},
                    what="look up the managed scope mappings")
            managed = {}
            for mapping in self._cache["scope-managed"]:
                managed.setdefault(mapping.get("scope_name"), []).append(mapping)
            for scope in missing:
                # authentik's own OAuth2 mappings first, should another managed one share the scope name
                candidates = sorted(managed.get(scope) or [],
                                    key=lambda m: not str(m.get("managed")).startswith(SCOPE_MANAGED_PREFIX))
                if not candidates:
                    # Not a managed default: a mapping of the user's own with that scope name.
                    candidates = self.paginate("/propertymappings/provider/scope/", {"scope_name": scope},
                                               what="look up the scope mapping %s" % scope)
                if not candidates:
                    raise LookupFailed("No authentik scope mapping provides the scope %r; create one under "
                                       "Customization > Property Mappings or remove it from scopes" % scope)
                if len(candidates) > 1 and not candidates[0].get("managed"):
                    raise LookupFailed("More than one authentik scope mapping provides the scope %r (%s); keep one"
                                       % (scope, ", ".join(sorted(repr(c.get("name")) for c in candidates))))
                self._cache[("scope", scope)] = candidates[0]["pk"]
                self._cache[("scope-name", candidates[0]["pk"])] = scope
        return dict((s, self._cache[("scope", s)]) for s in wanted)

    def scope_names(self, pks):
        """Scope names for mapping pks (pks we did not resolve are kept as they are)."""
        return [self._cache.get(("scope-name", pk), pk) for pk in pks]

    def group_pk(self, name):
        def load():
            found = self.find_one("/core/groups/", {"name": name, "include_users": False}, "group", "named %r" % name)
            if found is None:
                raise LookupFailed("No authentik group is named %r; check Directory > Groups" % name)
            return found["pk"]
        return self._cached(("group", name), load)

    def user_pk(self, username):
        def load():
            found = self.find_one("/core/users/", {"username": username}, "user", "with username %r" % username)
            if found is None:
                raise LookupFailed("No authentik user has the username %r; check Directory > Users" % username)
            return found["pk"]
        return self._cached(("user", username), load)

    def policy_pk(self, name):
        def load():
            # /policies/all/ has no name filter (authentik ignores ?name=), only a case-insensitive
            # search on the name: read every match and keep the exact one.
            matches = self.paginate("/policies/all/", {"search": name}, what="look up policy named %r" % name)
            found = [p for p in matches if p.get("name") == name]
            if not found:
                raise LookupFailed("No authentik policy is named %r; check Customization > Policies" % name)
            if len(found) > 1:
                raise LookupFailed("More than one policy matches named %r; make the name unique in authentik" % name)
            return found[0]["pk"]
        return self._cached(("policy", name), load)

    def provider_by_name(self, name):
        return self.find_one("/providers/oauth2/", {"name": name}, "OAuth2 provider", "named %r" % name)

    def cached_provider_by_name(self, name):
        """``provider_by_name``, read once per run (for a module that only reads the provider)."""
        return self._cached(("provider", name), lambda: self.provider_by_name(name))

    def application(self, slug):
        """The application ``slug`` via the detail endpoint (the list is cached per user), or None."""
        return self.get_or_none("/core/applications/%s/" % quote(slug, safe=""), what="look up application %r" % slug)


class _Failed:
    """A cached lookup that failed: asking again raises the same error."""

    def __init__(self, error):
        self.error = error


def oidc_endpoints(public_url, app_slug, issuer_mode="per_provider"):
    """The OIDC URLs of a provider bound to the application ``app_slug``, built from the public URL.

    The global endpoints identify the provider by client id; the others need the application slug.
    """
    base = public_url.rstrip("/")
    if base.endswith(API_PREFIX):
        base = base[: -len(API_PREFIX)]
    oauth = base + "/application/o"
    urls = {
        "authorize": oauth + "/authorize/",
        "token": oauth + "/token/",
        "userinfo": oauth + "/userinfo/",
        "revoke": oauth + "/revoke/",
        "introspect": oauth + "/introspect/",
    }
    if app_slug:
        slug = quote(app_slug, safe="")
        urls.update({
            "issuer": (oauth + "/%s/" % slug) if issuer_mode != "global" else base + "/",
            "openid_configuration": oauth + "/%s/.well-known/openid-configuration" % slug,
            "jwks": oauth + "/%s/jwks/" % slug,
            "end_session": oauth + "/%s/end-session/" % slug,
        })
    return urls
