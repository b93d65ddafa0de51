"""A stateful authentik REST API test server (``/api/v3/``) plus its public OIDC endpoints.

Shapes, status codes and messages follow the captured authentik 2025.12.4 exchanges in
docs/authentik-samples; the ``version`` argument switches fields and routes per release
(versions.py). Every accepted write body is also checked against the vendor's generated
models (contract.py) and violations are answered 400 and recorded in ``/_test/requests``.

Public API for tests and for other server modules (see oidc.py):

``AuthentikApp(token, page_size=100, version=DEFAULT_VERSION)``
``app.profile`` / ``app.version``          the emulated release
``app.flow_pk(slug)``, ``app.keypair_pk(name)``, ``app.scope_mapping_pk(managed_or_scope)``,
``app.group_pk(name)``, ``app.user_pk(username)``, ``app.policy_pk(name)``   seeded ids
``app.providers`` {pk: record}, ``app.applications`` {pk: record}, ``app.bindings`` {pk: record}
``app.provider(pk_or_name)``, ``app.provider_by_client_id(client_id)``, ``app.provider_secret(pk_or_name_or_record)``
``app.secrets`` {pk: record}: the Secret objects of the 2026.11 profile (a provider's client secret lives in one)
``app.application_by_slug(slug)``, ``app.application_for_provider(pk)``
``app.keypair_material(pk, need_private_key=False)``  -> keys.KeyMaterial (PEMs, kid, jwk, sign_rs256)
``app.signing_key`` the default ``authentik Self-signed Certificate`` material
``app.passes_policies(target_pk, user_pk)``            the policy engine (group/user/policy bindings)
``app.add_user(username, name, email, groups, password)``, ``app.check_password(username, password)``
``app.test_username`` / ``app.test_password``           a seeded user who can sign in (group engineering)
``app.test_username_without_email`` / ``app.test_password_without_email``   one with an empty e-mail address
``app.oidc``                                           sessions, codes and knobs of the OIDC endpoints (oidc.py)
``app.public_route(method, regex, handler)``           a route that needs no API token
"""

from __future__ import annotations

import copy
import hmac
import re
import secrets
import string
import uuid
from typing import Any, Callable
from urllib.parse import urlparse, urlunparse

from tests.servers._control import App, HTTPError, Request, Response
from tests.servers.authentik import contract, drf, oidc, seed
from tests.servers.authentik.keys import KeyMaterial, key_material
from tests.servers.authentik.versions import DEFAULT_VERSION, Profile

__all__ = ["AuthentikApp", "DEFAULT_VERSION"]

API = "/api/v3"
ALPHANUMERIC = string.ascii_letters + string.digits

CLIENT_TYPES = ("confidential", "public")
GRANT_TYPES = (
    "authorization_code",
    "implicit",
    "hybrid",
    "refresh_token",
    "client_credentials",
    "password",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
)
SUB_MODES = ("hashed_user_id", "user_id", "user_uuid", "user_username", "user_email", "user_upn")
ISSUER_MODES = ("global", "per_provider")
LOGOUT_METHODS = ("backchannel", "frontchannel")
MATCHING_MODES = ("strict", "regex")
REDIRECT_URI_TYPES = ("authorization", "logout")
POLICY_ENGINE_MODES = ("all", "any")
DESIGNATIONS = ("authentication", "authorization", "invalidation", "enrollment", "unenrollment", "recovery",
                "stage_configuration")
KEY_TYPES = ("rsa", "ec", "ed25519", "ed448")
DENIED_ACTIONS = ("message_continue", "message", "continue")
SECRET_TYPES = ("text", "multiline", "file")

PROVIDER_DEFAULTS: dict[str, Any] = {
    "authentication_flow": None,
    "property_mappings": [],
    "client_type": "confidential",
    "access_code_validity": "minutes=1",
    "access_token_validity": "hours=1",
    "refresh_token_validity": "days=30",
    "refresh_token_threshold": "seconds=0",
    "include_claims_in_id_token": True,
    "signing_key": None,
    "encryption_key": None,
    "redirect_uris": [],
    "logout_uri": "",
    "logout_method": "backchannel",
    "sub_mode": "hashed_user_id",
    "issuer_mode": "per_provider",
    "jwt_federation_sources": [],
    "jwt_federation_providers": [],
}

APPLICATION_DEFAULTS: dict[str, Any] = {
    "provider": None,
    "backchannel_providers": [],
    "open_in_new_tab": False,
    "meta_launch_url": "",
    "meta_icon": "",
    "meta_description": "",
    "meta_publisher": "",
    "policy_engine_mode": "any",
    "group": "",
    "meta_hide": False,
}

BINDING_DEFAULTS: dict[str, Any] = {
    "policy": None,
    "group": None,
    "user": None,
    "negate": False,
    "enabled": True,
    "timeout": 30,
    "failure_result": False,
}

GROUP_AUTOCOMPLETE = {
    "current_model": "authentik_core.group",
    "models": {"authentik_core.group": {
        "name": {"type": "str", "nullable": False, "options": None},
        "is_superuser": {"type": "bool", "nullable": True, "options": None},
        "attributes": {"type": "relation", "nullable": False, "options": None,
                       "relation": "authentik_core.group_attributes"},
    }},
}
USER_AUTOCOMPLETE = {
    "current_model": "authentik_core.user",
    "models": {"authentik_core.user": {
        "username": {"type": "str", "nullable": False, "options": None},
        "name": {"type": "str", "nullable": False, "options": None},
        "email": {"type": "str", "nullable": False, "options": None},
        "path": {"type": "str", "nullable": False, "options": None},
        "is_active": {"type": "bool", "nullable": True, "options": None},
        "type": {"type": "str", "nullable": False,
                 "options": ["internal", "external", "service_account", "internal_service_account"]},
        "attributes": {"type": "relation", "nullable": False, "options": None,
                       "relation": "authentik_core.user_attributes"},
    }},
}

_LAUNCH_URL = re.compile(r"^(?:https?|ftps?|blank)://\S+$", re.IGNORECASE)
_DATE = "2026-11-28T17:33:10.573906Z"


def generate_id(length: int = 40) -> str:
    """authentik's ``generate_id``: random ``[A-Za-z0-9]``."""
    return "".join(secrets.choice(ALPHANUMERIC) for _index in range(length))


def generate_client_secret() -> str:
    return generate_id(128)


def _bool_arg(value: str | None) -> bool | None:
    """django-filter's BooleanWidget: true/false/1/0 (any case), else no filter."""
    if value is None:
        return None
    return {"1": True, "0": False, "true": True, "false": False}.get(value.lower())


def _is_true(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return str(value).lower() == "true"


def _launch_url_validator(value: Any) -> None:
    if value and not _LAUNCH_URL.match(str(value)):
        raise drf.Invalid([drf.INVALID_URL])


def _regex_entries_validator(entries: Any) -> None:
    for entry in entries:
        if entry.get("matching_mode") == "regex":
            try:
                re.compile(entry["url"])
            except re.error as exc:
                raise drf.Invalid(["Invalid Regex Pattern: %s" % entry["url"]]) from exc


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value).lower(), str(value))


class AuthentikApp(App):
    """The authentik test server. See the module docstring for the public API."""

    name = "authentik"
    json_content_type = "application/json; charset=utf-8"
    test_username, test_password = seed.SIGN_IN_USERS[0][0], seed.SIGN_IN_USERS[0][4]
    test_username_without_email, test_password_without_email = seed.SIGN_IN_USERS[1][0], seed.SIGN_IN_USERS[1][4]

    def __init__(self, token: str, page_size: int = 100, version: str = DEFAULT_VERSION):
        self.initial_version = str(version)
        self.profile = Profile(self.initial_version)
        self.public_patterns: list[re.Pattern] = []
        # state; filled by reset_state()
        self.flows: dict[str, dict] = {}
        self.keypairs: dict[str, dict] = {}
        self.scope_mappings: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.users: dict[int, dict] = {}
        self.oidc = oidc.OidcState()
        self.policies: dict[str, dict] = {}
        self.providers: dict[int, dict] = {}
        self.applications: dict[str, dict] = {}
        self.bindings: dict[str, dict] = {}
        self.secrets: dict[str, dict] = {}
        self.app_list_cache: dict[int, list[str]] = {}
        self.provider_seq = 0
        self.seq = 0
        self.token_user = 0
        self.contract_mode = "enforce"
        contract.preload()
        super().__init__(token, page_size)

    @property
    def version(self) -> str:
        return self.profile.version

    # ---- seeded state ----------------------------------------------------------------------
    def reset_state(self) -> None:
        self.profile = Profile(self.initial_version)
        self.contract_mode = "enforce"
        self.flows, self.keypairs, self.scope_mappings = {}, {}, {}
        self.groups, self.users, self.policies = {}, {}, {}
        self.providers, self.applications, self.bindings = {}, {}, {}
        self.secrets = {}
        self.app_list_cache = {}
        self.provider_seq = 0
        self.seq = 0
        for slug, name, title, designation, authentication, stages, ids in seed.FLOWS:
            pk, ptr = ids or (seed.stable_uuid("flow", slug), seed.stable_uuid("flow-pbm", slug))
            self.flows[pk] = {
                "pk": pk, "policybindingmodel_ptr_id": ptr, "name": name, "slug": slug, "title": title,
                "designation": designation, "background": "",
                "background_url": "/static/dist/assets/images/flow_background.jpg",
                "background_themed_urls": None,
                "stages": [seed.stable_uuid("stage", "%s/%d" % (slug, n)) for n in range(stages)],
                "policies": [], "cache_count": 0, "policy_engine_mode": "any", "compatibility_mode": False,
                "export_url": "%s/flows/instances/%s/export/" % (API, slug), "layout": "stacked",
                "denied_action": "message_continue", "authentication": authentication,
            }
        for name, managed, has_key, pk in seed.KEYPAIRS:
            pk = pk or seed.stable_uuid("keypair", name)
            unit = "Self-signed" if has_key else "Imported"
            self.keypairs[pk] = {"pk": pk, "name": name, "managed": managed, "has_key": has_key,
                                 "material": key_material(name, unit)}
        for order, (managed, scope, name, description, expression, claims, pk) in enumerate(seed.SCOPE_MAPPINGS):
            pk = pk or seed.stable_uuid("scope", managed)
            self.scope_mappings[pk] = {"pk": pk, "managed": managed, "name": name, "expression": expression,
                                       "scope_name": scope, "description": description, "claims": list(claims),
                                       "order": order}
        for name, num_pk, is_superuser, pk in seed.GROUPS:
            pk = pk or seed.stable_uuid("group", name)
            self.groups[pk] = {"pk": pk, "num_pk": num_pk, "name": name, "is_superuser": is_superuser,
                               "attributes": {}}
        for pk, username, name, email, groups, user_uuid, uid in seed.USERS:
            self.users[pk] = {
                "pk": pk, "username": username, "name": name, "email": email, "is_active": True,
                "groups": [self.group_pk(g) for g in groups], "attributes": {}, "password": None,
                "uuid": user_uuid or seed.stable_uuid("user", username),
                "uid": uid or uuid.uuid5(seed.NAMESPACE, "uid:" + username).hex * 2,
            }
        for name, expression, passes in seed.POLICIES:
            pk = seed.stable_uuid("policy", name)
            self.policies[pk] = {"pk": pk, "name": name, "expression": expression, "passes": passes,
                                 "execution_logging": False}
        self.token_user = self.user_pk(seed.DEFAULT_TOKEN_USER)
        for username, name, email, groups, password in seed.SIGN_IN_USERS:
            self.add_user(username, name, email, groups, password)
        oidc.reset(self)

    def configure(self, settings: dict[str, Any]) -> None:
        """``/_test/config``: ``page_size``, ``version`` and ``contract`` (``"enforce"``: a contract
        error answers 400, the default; ``"record"``: it is only logged and the write goes on as
        authentik would take it). A reset goes back to the constructor's version and "enforce".
        The OIDC endpoints' knobs (``id_token_signing``, ``id_token_expired``, ``id_token_omit_claims``)
        are described in oidc.py.
        """
        super().configure(settings)
        oidc.configure(self, settings)
        if "version" in settings:
            try:
                self.profile = Profile(settings["version"])
            except ValueError as exc:
                raise HTTPError(400, {"detail": str(exc)}) from exc
            self.migrate_client_secrets()
        if "contract" in settings:
            if settings["contract"] not in ("enforce", "record"):
                raise HTTPError(400, {"detail": "contract must be 'enforce' or 'record'"})
            self.contract_mode = settings["contract"]

    def dump_state(self) -> Any:
        return {
            "version": self.version,
            "features": self.profile.features(),
            # providers carry their client secret's value in every release (a test view, not an API answer)
            "providers": [dict(self.render_provider(p), client_secret=self.provider_secret(p))
                          for p in self._sorted(self.providers.values(), "pk")],
            "secrets": [dict(self.render_secret(x), value=x["value"]) for x in self._sorted(self.secrets.values(), "name")],
            "applications": [self.render_application(a) for a in self._sorted(self.applications.values(), "slug")],
            "bindings": [self.render_binding(b) for b in self._sorted(self.bindings.values(), "seq")],
            "app_list_cache": dict((str(page), [self.applications[pk]["slug"] for pk in pks if pk in self.applications])
                                   for page, pks in sorted(self.app_list_cache.items())),
            "contract_models": contract.client_version(),
            "contract_fields": dict((k, v) for k, v in contract.field_set(self.profile).items() if k != "models"),
            "contract_mode": self.contract_mode,
        }

    # ---- lookups for tests and other modules ----------------------------------------------
    @staticmethod
    def _sorted(values: Any, key: str) -> list[dict]:
        return sorted(values, key=lambda item: _sort_key(item.get(key)))

    def _find(self, table: dict, key: str, value: Any, what: str) -> Any:
        for pk, item in table.items():
            if item.get(key) == value:
                return pk
        raise KeyError("no %s with %s %r" % (what, key, value))

    def flow_pk(self, slug: str) -> str:
        return self._find(self.flows, "slug", slug, "flow")

    def flow_by_slug(self, slug: str) -> dict | None:
        return next((f for f in self.flows.values() if f["slug"] == slug), None)

    def keypair_pk(self, name: str) -> str:
        return self._find(self.keypairs, "name", name, "certificate-key pair")

    def scope_mapping_pk(self, managed_or_scope: str) -> str:
        for pk, item in self.scope_mappings.items():
            if managed_or_scope in (item["managed"], item["scope_name"]):
                return pk
        raise KeyError("no scope mapping %r" % managed_or_scope)

    def group_pk(self, name: str) -> str:
        return self._find(self.groups, "name", name, "group")

    def user_pk(self, username: str) -> int:
        return self._find(self.users, "username", username, "user")

    def policy_pk(self, name: str) -> str:
        return self._find(self.policies, "name", name, "policy")

    @property
    def signing_key(self) -> KeyMaterial:
        """Key material of ``authentik Self-signed Certificate``."""
        return self.keypairs[self.keypair_pk("authentik Self-signed Certificate")]["material"]

    def keypair_material(self, pk: str | None, need_private_key: bool = False) -> KeyMaterial | None:
        item = self.keypairs.get(str(pk)) if pk else None
        if item is None or (need_private_key and not item["has_key"]):
            return None
        return item["material"]

    def provider(self, pk_or_name: int | str) -> dict | None:
        """The stored provider record (with ``client_secret``) by pk or name."""
        if isinstance(pk_or_name, int) or str(pk_or_name).isdigit():
            found = self.providers.get(int(pk_or_name))
            if found is not None:
                return found
        return next((p for p in self.providers.values() if p["name"] == pk_or_name), None)

    def provider_by_client_id(self, client_id: str) -> dict | None:
        return next((p for p in self.providers.values() if p["client_id"] == client_id), None)

    def provider_secret(self, pk_or_name: int | str | dict) -> str:
        """The provider's client secret: its Secret's value (2026.11) or its own column."""
        found = pk_or_name if isinstance(pk_or_name, dict) else self.provider(pk_or_name)
        if found is None:
            raise KeyError("no provider %r" % (pk_or_name,))
        secret = self.secrets.get(found.get("client_secret_ref") or "")
        return secret["value"] if secret is not None else found["client_secret"]

    def new_secret(self, name: str, value: str | None = None, kind: str = "text") -> dict:
        """A Secret named ``name`` (or ``name (2)``, ...: names are unique) with a generated value unless given."""
        taken = set(x["name"] for x in self.secrets.values())
        candidate, suffix = name, 2
        while candidate in taken:
            candidate, suffix = "%s (%d)" % (name, suffix), suffix + 1
        pk = str(uuid.uuid4())
        self.secrets[pk] = {"pk": pk, "name": candidate, "type": kind, "managed": None,
                            "value": generate_client_secret() if value is None else value,
                            "created": _DATE, "last_updated": _DATE, "seq": self.next_seq()}
        return self.secrets[pk]

    def migrate_client_secrets(self) -> None:
        """What the 2026.11 upgrade does: each provider's client secret moves into a Secret of its own
        (named "<provider> client secret", empty values too: migration 0039_managed_secrets)."""
        if not self.profile.has("oauth2.client_secret_ref"):
            return
        for record in self._sorted(self.providers.values(), "pk"):
            if not record.get("client_secret_ref"):
                record["client_secret_ref"] = self.new_secret("%s client secret" % record["name"],
                                                              record["client_secret"])["pk"]

    def application_by_slug(self, slug: str) -> dict | None:
        return next((a for a in self.applications.values() if a["slug"] == slug), None)

    def application_for_provider(self, provider_pk: int) -> dict | None:
        return next((a for a in self.applications.values() if a["provider"] == provider_pk), None)

    def provider_scope_mappings(self, provider: dict) -> list[dict]:
        """The provider's scope mappings in the order authentik lists them (creation order)."""
        found = [self.scope_mappings[pk] for pk in provider["property_mappings"] if pk in self.scope_mappings]
        return sorted(found, key=lambda m: m["order"])

    def add_user(self, username: str, name: str = "", email: str = "", groups: tuple[str, ...] | list[str] = (),
                 password: str | None = None) -> dict:
        """A new user (next integer pk) in the groups named ``groups``; returns the stored record."""
        if any(u["username"] == username for u in self.users.values()):
            raise ValueError("user %r exists" % username)
        pk = max(self.users) + 1
        self.users[pk] = {
            "pk": pk, "username": username, "name": name or username, "email": email, "is_active": True,
            "groups": [self.group_pk(g) for g in groups], "attributes": {}, "password": password,
            "uuid": str(uuid.uuid4()), "uid": secrets.token_hex(32),
        }
        self.clear_app_list_cache()  # post_save of a user
        return self.users[pk]

    def check_password(self, username_or_email: str, password: str) -> dict | None:
        """The active user with that username (or email) and password, else None."""
        for user in self.users.values():
            if username_or_email in (user["username"], user["email"]) and user["is_active"]:
                if user["password"] is not None and hmac.compare_digest(user["password"], password):
                    return user
        return None

    def user_groups(self, user_pk: int) -> list[str]:
        user = self.users.get(user_pk)
        return list(user["groups"]) if user else []

    def target_pks(self) -> set[str]:
        """pks a policy binding may target: applications and flows."""
        return set(self.applications) | set(self.flows)

    def passes_policies(self, target_pk: str, user_pk: int) -> bool:
        """authentik's policy engine for ``user_pk`` on an application or flow, without caching."""
        bindings = [b for b in self.bindings.values() if b["target"] == target_pk and b["enabled"]]
        if not bindings:
            return True
        target = self.applications.get(target_pk) or self.flows.get(target_pk) or {}
        results = []
        for binding in sorted(bindings, key=lambda b: (b["order"], b["seq"])):
            if binding["group"] is not None:
                result = binding["group"] in self.user_groups(user_pk)
            elif binding["user"] is not None:
                result = binding["user"] == user_pk
            else:
                policy = self.policies.get(binding["policy"])
                result = bool(policy and policy["passes"])
            results.append(result != binding["negate"])
        if target.get("policy_engine_mode", "any") == "all":
            return all(results)
        return any(results)

    def is_superuser(self, user_pk: int) -> bool:
        return any(self.groups[g]["is_superuser"] for g in self.user_groups(user_pk) if g in self.groups)

    def clear_app_list_cache(self) -> None:
        self.app_list_cache.clear()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    # ---- routing and authentication -------------------------------------------------------
    def public_route(self, method: str, pattern: str, handler: Callable[[Request], Response]) -> None:
        """A route that needs no API token (OIDC endpoints, the flow executor)."""
        self.route(method, pattern, handler)
        self.public_patterns.append(re.compile("^" + pattern + "$"))

    def needs_token(self, req: Request) -> bool:
        if not req.path.startswith("/api/"):
            return False
        return not any(p.match(req.path) for p in self.public_patterns)

    def authenticate(self, req: Request) -> None:
        header = req.header("authorization") or ""
        scheme, _sep, key = header.partition(" ")
        if not header or scheme != "Bearer":
            raise HTTPError(403, {"detail": "Authentication credentials were not provided."})
        if not hmac.compare_digest(key.strip().encode("utf-8"), self.token.encode("utf-8")):
            raise HTTPError(403, {"detail": "Token invalid/expired"})

    def dispatch(self, req: Request) -> Response:
        # Django resolves the URL first (unknown path: 404 without auth); DRF then authenticates
        # before it looks at the method (so a 405 needs a valid token too).
        if not any(pattern.match(req.path) for _m, pattern, _h in self.routes):
            if req.path.startswith("/api/"):
                raise HTTPError(404, self.not_found_body(req))
            return oidc.not_found_page()
        if self.needs_token(req):
            self.authenticate(req)
        return super().dispatch(req)

    def fault_body(self, status: int) -> Any:
        if status == 429:
            return {"detail": "Request was throttled."}
        return super().fault_body(status)

    def setup_routes(self) -> None:
        r = self.route
        r("GET", API + r"/admin/version/", self.version_info)
        r("GET", API + r"/flows/instances/", self.flow_list)
        r("GET", API + r"/flows/instances/(?P<slug>[^/]+)/", self.flow_detail)
        r("GET", API + r"/crypto/certificatekeypairs/", self.keypair_list)
        r("GET", API + r"/crypto/certificatekeypairs/(?P<pk>[^/]+)/", self.keypair_detail)
        r("GET", API + r"/propertymappings/provider/scope/", self.scope_list)
        r("GET", API + r"/propertymappings/provider/scope/(?P<pk>[^/]+)/", self.scope_detail)
        r("GET", API + r"/core/groups/", self.group_list)
        r("GET", API + r"/core/groups/(?P<pk>[^/]+)/", self.group_detail)
        r("GET", API + r"/core/users/", self.user_list)
        r("GET", API + r"/core/users/me/", self.user_me)
        r("GET", API + r"/core/users/(?P<pk>[^/]+)/", self.user_detail)
        r("GET", API + r"/policies/all/", self.policy_list)
        r("GET", API + r"/policies/all/(?P<pk>[^/]+)/", self.policy_detail)
        r("GET", API + r"/policies/expression/", self.expression_policy_list)
        r("GET", API + r"/policies/expression/(?P<pk>[^/]+)/", self.expression_policy_detail)
        r("GET", API + r"/providers/all/", self.provider_all_list)
        r("GET", API + r"/providers/oauth2/", self.provider_list)
        r("POST", API + r"/providers/oauth2/", self.provider_create)
        r("GET", API + r"/providers/oauth2/(?P<pk>[^/]+)/", self.provider_detail)
        r("PUT", API + r"/providers/oauth2/(?P<pk>[^/]+)/", self.provider_update)
        r("PATCH", API + r"/providers/oauth2/(?P<pk>[^/]+)/", self.provider_update)
        r("DELETE", API + r"/providers/oauth2/(?P<pk>[^/]+)/", self.provider_delete)
        r("GET", API + r"/providers/oauth2/(?P<pk>[^/]+)/setup_urls/", self.provider_setup_urls)
        r("GET", API + r"/core/applications/", self.application_list)
        r("POST", API + r"/core/applications/", self.application_create)
        r("GET", API + r"/core/applications/(?P<slug>[^/]+)/", self.application_detail)
        r("PUT", API + r"/core/applications/(?P<slug>[^/]+)/", self.application_update)
        r("PATCH", API + r"/core/applications/(?P<slug>[^/]+)/", self.application_update)
        r("DELETE", API + r"/core/applications/(?P<slug>[^/]+)/", self.application_delete)
        r("POST", API + r"/core/applications/(?P<slug>[^/]+)/set_icon_url/", self.application_set_icon_url)
        r("GET", API + r"/policies/bindings/", self.binding_list)
        r("POST", API + r"/policies/bindings/", self.binding_create)
        r("GET", API + r"/policies/bindings/(?P<pk>[^/]+)/", self.binding_detail)
        r("PUT", API + r"/policies/bindings/(?P<pk>[^/]+)/", self.binding_update)
        r("PATCH", API + r"/policies/bindings/(?P<pk>[^/]+)/", self.binding_update)
        r("DELETE", API + r"/policies/bindings/(?P<pk>[^/]+)/", self.binding_delete)
        r("GET", API + r"/secrets/secrets/", self.secret_list)
        r("POST", API + r"/secrets/secrets/", self.secret_create)
        r("GET", API + r"/secrets/secrets/(?P<pk>[^/]+)/", self.secret_detail)
        r("PUT", API + r"/secrets/secrets/(?P<pk>[^/]+)/", self.secret_update)
        r("PATCH", API + r"/secrets/secrets/(?P<pk>[^/]+)/", self.secret_update)
        r("DELETE", API + r"/secrets/secrets/(?P<pk>[^/]+)/", self.secret_delete)
        r("GET", API + r"/secrets/secrets/(?P<pk>[^/]+)/view_value/", self.secret_view_value)
        r("POST", API + r"/secrets/secrets/(?P<pk>[^/]+)/rotate/", self.secret_rotate)
        oidc.setup_routes(self)

    # ---- lists: filters, ordering, pagination ---------------------------------------------
    def paginated(self, req: Request, items: list[dict], autocomplete: dict | None = None,
                  results: list | None = None) -> Response:
        """authentik's page envelope for ``items`` (or ``results`` computed from the page)."""
        page_items, pagination = self.page_of(req, items)
        body = {"pagination": pagination, "results": page_items if results is None else results,
                "autocomplete": copy.deepcopy(autocomplete) if autocomplete else {}}
        return Response(200, body)

    def page_size_of(self, req: Request) -> int:
        try:
            size = int(req.arg("page_size", "") or 0)
        except ValueError:
            size = 0
        return size if size > 0 else int(self.page_size)

    def page_of(self, req: Request, items: list) -> tuple[list, dict]:
        size = self.page_size_of(req)
        count = len(items)
        total = max(1, -(-count // size))
        raw = req.arg("page", "1") or "1"
        try:
            number = total if raw == "last" else int(raw)
        except ValueError as exc:
            raise HTTPError(404, {"detail": "Invalid page."}) from exc
        if number < 1 or number > total:
            raise HTTPError(404, {"detail": "Invalid page."})
        start = (number - 1) * size
        chunk = items[start:start + size]
        pagination = {
            "next": number + 1 if number < total else 0,
            "previous": number - 1 if number > 1 else 0,
            "count": count,
            "current": number,
            "total_pages": total,
            "start_index": start + 1 if count else 0,
            "end_index": start + len(chunk) if count else 0,
        }
        return chunk, pagination

    @staticmethod
    def filter_exact(req: Request, items: list[dict], param: str, key: str | None = None) -> list[dict]:
        value = req.arg(param)
        if value in (None, ""):
            return items
        return [i for i in items if i.get(key or param) is not None and str(i.get(key or param)) == value]

    @staticmethod
    def filter_bool(req: Request, items: list[dict], param: str, key: Callable[[dict], Any] | str) -> list[dict]:
        wanted = _bool_arg(req.arg(param))
        if wanted is None:
            return items
        get = key if callable(key) else (lambda i: i.get(key))
        return [i for i in items if bool(get(i)) == wanted]

    @staticmethod
    def filter_choice(req: Request, items: list[dict], param: str, choices: tuple, key: str | None = None) -> list[dict]:
        value = req.arg(param)
        if value in (None, ""):
            return items
        if value not in choices:
            raise HTTPError(400, {param: [drf.FILTER_INVALID_CHOICE % value]})
        return [i for i in items if i.get(key or param) == value]

    @staticmethod
    def filter_object(req: Request, items: list[dict], param: str, valid: set, match: Callable[[dict, str], bool],
                      multi: bool = False) -> list[dict]:
        """A ModelChoiceFilter: the value must name an existing object, else 400."""
        values = [v for v in req.args(param) if v != ""] if multi else [v for v in [req.arg(param)] if v]
        if not values:
            return items
        normal = []
        for value in values:
            try:
                key = str(uuid.UUID(value)) if isinstance(next(iter(valid), ""), str) else int(value)
            except ValueError as exc:
                raise HTTPError(400, {param: [drf.FILTER_INVALID_OBJECT]}) from exc
            if key not in valid:
                raise HTTPError(400, {param: [drf.FILTER_INVALID_OBJECT]})
            normal.append(key)
        return [i for i in items if any(match(i, v) for v in normal)]

    @staticmethod
    def search(req: Request, items: list[dict], fields: list[str]) -> list[dict]:
        term = (req.arg("search") or "").strip().lower()
        if not term:
            return items
        return [i for i in items if any(term in str(i.get(f) or "").lower() for f in fields)]

    @staticmethod
    def ordered(req: Request, items: list[dict], default: list[str]) -> list[dict]:
        wanted = [o.strip() for o in (req.arg("ordering") or "").split(",") if o.strip()]
        known = set(items[0]) if items else set()
        keys = [o for o in wanted if o.lstrip("-") in known] or default
        result = list(items)
        for key in reversed(keys):
            name = key.lstrip("-")
            result.sort(key=lambda i, n=name: _sort_key(i.get(n)), reverse=key.startswith("-"))
        return result

    def detail_or_404(self, table: dict, key: Any, model: str) -> dict:
        item = table.get(key)
        if item is None:
            raise HTTPError(404, {"detail": "No %s matches the given query." % model})
        return item

    # ---- writes: body, DRF validation, contract -------------------------------------------
    def write_body(self, req: Request) -> Any:
        if req.raw_body and req.content_type != "application/json":
            raise HTTPError(415, {"detail": 'Unsupported media type "%s" in request.' % (req.header("content-type") or "")})
        data = req.json()
        return {} if data is None else data

    def checked_write(self, req: Request, kind: str, body: Any, partial: bool, validate: Callable[[dict], dict]) -> dict:
        """Validate like authentik, then hold the body to the vendor contract.

        Contract errors are recorded even when authentik itself rejects the body; when authentik
        would accept it, a contract error turns the answer into a 400 (``contract_failure``),
        unless ``/_test/config {"contract": "record"}`` asked to only record them.
        """
        errors = contract.check_body(kind, body, partial, self.profile)
        try:
            if not isinstance(body, dict):
                raise HTTPError(400, {"non_field_errors": [drf.NOT_A_DICT % drf.js_type(body)]})
            data = validate(body)
        except HTTPError:
            req.contract_errors.extend(errors)
            raise
        if errors:
            if self.contract_mode == "record":
                req.contract_errors.extend(errors)
            else:
                self.contract_failure(req, errors, contract.error_body(errors))
        return data

    @staticmethod
    def run_fields(fields: list[tuple[str, drf.Field]], body: dict, partial: bool) -> dict:
        data, errors = drf.run_fields(fields, body, partial)
        if errors:
            raise HTTPError(400, errors)
        return data

    # ---- renderers -------------------------------------------------------------------------
    def render_flow(self, flow: dict) -> dict:
        return dict((k, copy.deepcopy(flow[k])) for k in self.profile.fields("flow"))

    def render_keypair(self, item: dict) -> dict:
        material = item["material"]
        base = "%s/crypto/certificatekeypairs/%s/" % (API, item["pk"])
        return {
            "pk": item["pk"],
            "name": item["name"],
            "fingerprint_sha256": material.fingerprint_sha256,
            "fingerprint_sha1": material.fingerprint_sha1,
            "cert_expiry": material.cert_expiry,
            "cert_subject": material.cert_subject,
            "private_key_available": item["has_key"],
            "key_type": "rsa",
            "certificate_download_url": base + "view_certificate/?download",
            "private_key_download_url": base + "view_private_key/?download",
            "managed": item["managed"],
        }

    @staticmethod
    def render_scope_mapping(item: dict) -> dict:
        return {
            "pk": item["pk"], "managed": item["managed"], "name": item["name"], "expression": item["expression"],
            "component": "ak-property-mapping-provider-scope-form", "verbose_name": "Scope Mapping",
            "verbose_name_plural": "Scope Mappings", "meta_model_name": "authentik_providers_oauth2.scopemapping",
            "scope_name": item["scope_name"], "description": item["description"],
        }

    @staticmethod
    def render_partial_group(group: dict) -> dict:
        return dict((k, copy.deepcopy(group[k])) for k in ("pk", "num_pk", "name", "is_superuser", "attributes"))

    def render_partial_user(self, user: dict) -> dict:
        return {"pk": user["pk"], "username": user["username"], "name": user["name"], "is_active": user["is_active"],
                "last_login": None, "email": user["email"], "attributes": copy.deepcopy(user["attributes"]),
                "uid": user["uid"]}

    def render_group(self, group: dict, include_users: bool = True) -> dict:
        members = [u for u in self._sorted(self.users.values(), "pk") if group["pk"] in u["groups"]]
        return {
            "pk": group["pk"], "num_pk": group["num_pk"], "name": group["name"], "is_superuser": group["is_superuser"],
            "parents": [], "parents_obj": None, "users": [u["pk"] for u in members],
            "users_obj": [self.render_partial_user(u) for u in members] if include_users else None,
            "attributes": copy.deepcopy(group["attributes"]), "roles": [], "roles_obj": [],
            "inherited_roles_obj": None, "children": [], "children_obj": None,
        }

    def render_user(self, user: dict) -> dict:
        groups = [self.groups[g] for g in user["groups"] if g in self.groups]
        return {
            "pk": user["pk"], "username": user["username"], "name": user["name"], "is_active": user["is_active"],
            "last_login": None, "date_joined": _DATE, "is_superuser": self.is_superuser(user["pk"]),
            "groups": [g["pk"] for g in groups], "groups_obj": [self.render_partial_group(g) for g in groups],
            "roles": [], "roles_obj": [], "email": user["email"],
            "avatar": "/static/dist/assets/images/user_default.png", "attributes": copy.deepcopy(user["attributes"]),
            "uid": user["uid"], "path": "users", "type": "internal", "uuid": user["uuid"],
            "password_change_date": _DATE, "last_updated": _DATE,
        }

    def render_policy(self, policy: dict, expression: bool = False) -> dict:
        body = {
            "pk": policy["pk"], "name": policy["name"], "execution_logging": policy["execution_logging"],
            "component": "ak-policy-expression-form", "verbose_name": "Expression Policy",
            "verbose_name_plural": "Expression Policies",
            "meta_model_name": "authentik_policies_expression.expressionpolicy",
            "bound_to": sum(1 for b in self.bindings.values() if b["policy"] == policy["pk"]),
        }
        if expression:
            body["expression"] = policy["expression"]
        return body

    def launch_url(self, application: dict) -> str | None:
        if application["meta_launch_url"]:
            return application["meta_launch_url"]
        provider = self.providers.get(application["provider"]) if application["provider"] is not None else None
        if provider is None or not provider["redirect_uris"]:
            return None
        try:
            return urlunparse(urlparse(provider["redirect_uris"][0]["url"])._replace(path=""))
        except ValueError:
            return None

    def render_provider(self, provider: dict, table: str = "oauth2") -> dict:
        application = self.application_for_provider(provider["pk"])
        values = dict(provider)
        values.update({
            "component": "ak-provider-oauth2-form",
            "assigned_application_slug": application["slug"] if application else None,
            "assigned_application_name": application["name"] if application else None,
            "assigned_backchannel_application_slug": None,
            "assigned_backchannel_application_name": None,
            "verbose_name": "OAuth2/OpenID Provider",
            "verbose_name_plural": "OAuth2/OpenID Providers",
            "meta_model_name": "authentik_providers_oauth2.oauth2provider",
            "property_mappings": [m["pk"] for m in self.provider_scope_mappings(provider)],
            # None: created by a release without grant types; the 2026.5 migration enabled them all
            "grant_types": list(GRANT_TYPES) if provider["grant_types"] is None else provider["grant_types"],
            "redirect_uris": [dict((k, e[k]) for k in self.profile.fields("redirect_uri"))
                              for e in provider["redirect_uris"]],
            "backchannel_logout_uri": provider["logout_uri"],
            "jwks_sources": provider["jwt_federation_sources"],
            "client_secret": self.provider_secret(provider),
            "client_secret_ref": provider.get("client_secret_ref"),
        })
        return copy.deepcopy(dict((k, values[k]) for k in self.profile.fields(table)))

    def render_application(self, application: dict) -> dict:
        provider = self.providers.get(application["provider"]) if application["provider"] is not None else None
        icon = application["meta_icon"]
        if self.profile.has("app.meta_icon_writable"):
            icon_value: Any = icon
        else:
            icon_value = icon or None
        icon_url = None
        if icon:
            icon_url = icon if "://" in icon or icon.startswith("/") else "/files/media/public/" + icon
        values = dict(application)
        values.update({
            "pbm_uuid": application["pk"],
            "provider_obj": self.render_provider(provider, "provider_obj") if provider else None,
            "backchannel_providers_obj": [],
            "launch_url": self.launch_url(application),
            "meta_icon": icon_value,
            "meta_icon_url": icon_url,
            "meta_icon_themed_urls": None,
        })
        return copy.deepcopy(dict((k, values[k]) for k in self.profile.fields("application")))

    def render_binding(self, binding: dict) -> dict:
        policy = self.policies.get(binding["policy"]) if binding["policy"] else None
        group = self.groups.get(binding["group"]) if binding["group"] else None
        user = self.users.get(binding["user"]) if binding["user"] is not None else None
        values = dict(binding)
        values.update({
            "policy_obj": self.render_policy(policy) if policy else None,
            "group_obj": self.render_partial_group(group) if group else None,
            "user_obj": self.render_partial_user(user) if user else None,
            "expires": None,
            "expiring": False,
        })
        return copy.deepcopy(dict((k, values[k]) for k in self.profile.fields("binding")))

    # ---- read-only endpoints ---------------------------------------------------------------
    def version_info(self, req: Request) -> Response:
        return Response(200, {"version_current": self.version, "version_latest": "0.0.0",
                              "version_latest_valid": False, "build_hash": "", "outdated": False,
                              "outpost_outdated": False})

    def flow_list(self, req: Request) -> Response:
        items = [self.render_flow(f) for f in self.flows.values()]
        items = self.filter_exact(req, items, "slug")
        items = self.filter_exact(req, items, "name")
        items = self.filter_exact(req, items, "flow_uuid", "pk")
        items = self.filter_choice(req, items, "designation", DESIGNATIONS)
        items = self.filter_choice(req, items, "denied_action", DENIED_ACTIONS)
        items = self.search(req, items, ["name", "slug", "designation", "title"])
        return self.paginated(req, self.ordered(req, items, ["slug", "name"]))

    def flow_detail(self, req: Request) -> Response:
        flow = self.flow_by_slug(req.params["slug"])
        if flow is None:
            raise HTTPError(404, {"detail": "No Flow matches the given query."})
        return Response(200, self.render_flow(flow))

    def keypair_list(self, req: Request) -> Response:
        items = [self.render_keypair(k) for k in self.keypairs.values()]
        items = self.filter_exact(req, items, "name")
        items = self.filter_exact(req, items, "managed")
        items = self.filter_choice(req, items, "key_type", KEY_TYPES)
        if _bool_arg(req.arg("has_key")):
            items = [i for i in items if i["private_key_available"]]
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    def keypair_detail(self, req: Request) -> Response:
        return Response(200, self.render_keypair(self.detail_or_404(self.keypairs, req.params["pk"], "CertificateKeyPair")))

    def scope_list(self, req: Request) -> Response:
        items = [self.render_scope_mapping(m) for m in self.scope_mappings.values()]
        managed = [m for m in req.args("managed") if m != ""]
        if managed:
            existing = set(i["managed"] for i in items if i["managed"])
            for value in managed:
                if value not in existing:  # django-filter AllValuesMultipleFilter: only existing values
                    raise HTTPError(400, {"managed": [drf.FILTER_INVALID_CHOICE % value]})
            items = [i for i in items if i["managed"] in managed]
        wanted_null = _bool_arg(req.arg("managed__isnull"))
        if wanted_null is not None:
            items = [i for i in items if (i["managed"] is None) == wanted_null]
        items = self.filter_exact(req, items, "name")
        items = self.filter_exact(req, items, "scope_name")
        items = self.search(req, items, ["name", "scope_name"])
        return self.paginated(req, self.ordered(req, items, ["scope_name", "name"]))

    def scope_detail(self, req: Request) -> Response:
        item = self.detail_or_404(self.scope_mappings, req.params["pk"], "ScopeMapping")
        return Response(200, self.render_scope_mapping(item))

    def group_list(self, req: Request) -> Response:
        include_users = _is_true(req.arg("include_users"), default=True)
        items = [self.render_group(g, include_users) for g in self.groups.values()]
        items = self.filter_exact(req, items, "name")
        items = self.filter_bool(req, items, "is_superuser", "is_superuser")
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]), autocomplete=GROUP_AUTOCOMPLETE)

    def group_detail(self, req: Request) -> Response:
        group = self.detail_or_404(self.groups, req.params["pk"], "Group")
        return Response(200, self.render_group(group, _is_true(req.arg("include_users"), default=True)))

    def user_list(self, req: Request) -> Response:
        items = [self.render_user(u) for u in self.users.values()]
        for param in ("username", "name", "email", "uuid", "path", "type"):
            items = self.filter_exact(req, items, param)
        items = self.filter_bool(req, items, "is_active", "is_active")
        items = self.filter_bool(req, items, "is_superuser", "is_superuser")
        items = self.search(req, items, ["username", "name", "email"])
        return self.paginated(req, self.ordered(req, items, ["username"]), autocomplete=USER_AUTOCOMPLETE)

    def user_me(self, req: Request) -> Response:
        return Response(200, {"user": self.render_user(self.users[self.token_user])})

    def user_detail(self, req: Request) -> Response:
        try:
            pk = int(req.params["pk"])
        except ValueError:
            pk = -1
        return Response(200, self.render_user(self.detail_or_404(self.users, pk, "User")))

    def policy_list(self, req: Request) -> Response:
        # /policies/all/ has no ``name`` filter (only search): ?name= is ignored, like authentik does.
        items = [self.render_policy(p) for p in self.policies.values()]
        items = self.filter_bool(req, items, "bindings__isnull", lambda i: i["bound_to"] == 0)
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    def policy_detail(self, req: Request) -> Response:
        return Response(200, self.render_policy(self.detail_or_404(self.policies, req.params["pk"], "Policy")))

    def expression_policy_list(self, req: Request) -> Response:
        items = [self.render_policy(p, expression=True) for p in self.policies.values()]
        items = self.filter_exact(req, items, "name")
        items = self.filter_exact(req, items, "policy_uuid", "pk")
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    def expression_policy_detail(self, req: Request) -> Response:
        policy = self.detail_or_404(self.policies, req.params["pk"], "ExpressionPolicy")
        return Response(200, self.render_policy(policy, expression=True))

    def provider_all_list(self, req: Request) -> Response:
        items = [self.render_provider(p, "provider_obj") for p in self.providers.values()]
        wanted = _bool_arg(req.arg("application__isnull"))
        if wanted is not None:
            items = [i for i in items if (i["assigned_application_slug"] is None) == wanted]
        if _bool_arg(req.arg("backchannel")):
            items = []
        items = self.search(req, items, ["name", "assigned_application_name"])
        return self.paginated(req, self.ordered(req, items, ["pk"]))

    # ---- OAuth2 providers ------------------------------------------------------------------
    def _flow_exists(self, designation: str) -> Callable[[str], bool]:
        # Flows of another designation are treated like unknown pks (a limit_choices_to queryset).
        return lambda pk: pk in self.flows and self.flows[pk]["designation"] == designation

    def provider_fields(self, instance: dict | None) -> list[tuple[str, drf.Field]]:
        def unique(key: str, message: str) -> Callable[[Any], None]:
            def check(value: Any) -> None:
                for other in self.providers.values():
                    if other[key] == value and (instance is None or other["pk"] != instance["pk"]):
                        raise drf.Invalid([message])
            return check

        keypair = drf.PrimaryKey(lambda pk: pk in self.keypairs, allow_null=True)
        redirect_entry = {
            "matching_mode": drf.Choice(MATCHING_MODES, required=True),
            "url": drf.Char(required=True),
            "redirect_uri_type": drf.Choice(REDIRECT_URI_TYPES),
        }
        spec: dict[str, drf.Field] = {
            "name": drf.Char(required=True, validators=[unique("name", "provider with this name already exists.")]),
            "authentication_flow": drf.PrimaryKey(self._flow_exists("authentication"), allow_null=True),
            "authorization_flow": drf.PrimaryKey(self._flow_exists("authorization"), required=True),
            "invalidation_flow": drf.PrimaryKey(self._flow_exists("invalidation"), required=True),
            "property_mappings": drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: pk in self.scope_mappings)),
            "client_type": drf.Choice(CLIENT_TYPES),
            "grant_types": drf.ListOf(drf.Choice(GRANT_TYPES)),
            "client_id": drf.Char(max_length=255, validators=[
                unique("client_id", "OAuth2/OpenID Provider with this Client ID already exists.")]),
            "client_secret": drf.Char(allow_blank=True, max_length=255),
            "client_secret_ref": drf.PrimaryKey(lambda pk: pk in self.secrets, allow_null=True),
            "access_code_validity": drf.Char(validators=[drf.duration_validator]),
            "access_token_validity": drf.Char(validators=[drf.duration_validator]),
            "refresh_token_validity": drf.Char(validators=[drf.duration_validator]),
            "refresh_token_threshold": drf.Char(validators=[drf.duration_validator]),
            "include_claims_in_id_token": drf.Boolean(),
            "signing_key": keypair,
            "encryption_key": keypair,
            "redirect_uris": drf.NestedList(
                [(name, redirect_entry[name]) for name in self.profile.writable("redirect_uri")],
                defaults={"redirect_uri_type": "authorization"}, required=True,
                validators=[_regex_entries_validator]),
            "backchannel_logout_uri": drf.Char(allow_blank=True, validators=[drf.url_validator]),
            "logout_uri": drf.Char(allow_blank=True, validators=[drf.url_validator]),
            "logout_method": drf.Choice(LOGOUT_METHODS),
            "sub_mode": drf.Choice(SUB_MODES),
            "issuer_mode": drf.Choice(ISSUER_MODES),
            "jwks_sources": drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: False)),
            "jwt_federation_sources": drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: False)),
            "jwt_federation_providers": drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: pk in self.providers,
                                                                           pk_type="int")),
        }
        return [(name, spec[name]) for name in self.profile.writable("oauth2")]

    def apply_provider(self, record: dict, data: dict) -> None:
        for key, value in data.items():
            if key == "client_secret" and record.get("client_secret_ref") in self.secrets:
                self.secrets[record["client_secret_ref"]]["value"] = value  # a downgraded 2026.11 provider
            elif key == "client_secret_ref" and value is None:
                continue  # an empty reference: keep the secret (a new provider gets a generated one)
            elif key == "jwks_sources":
                record["jwt_federation_sources"] = value
            elif key == "backchannel_logout_uri":
                record["logout_uri"] = value
                record["logout_method"] = "backchannel"
            else:
                record[key] = copy.deepcopy(value)

    def provider_or_404(self, raw_pk: str) -> dict:
        try:
            pk = int(raw_pk)
        except ValueError:
            pk = -1
        return self.detail_or_404(self.providers, pk, "OAuth2Provider")

    def provider_list(self, req: Request) -> Response:
        records = list(self.providers.values())
        records = self.filter_object(req, records, "application", set(self.applications),
                                     lambda p, v: self.applications[v]["provider"] == p["pk"])
        records = self.filter_object(req, records, "authorization_flow", set(self.flows),
                                     lambda p, v: p["authorization_flow"] == v)
        records = self.filter_object(req, records, "signing_key", set(self.keypairs), lambda p, v: p["signing_key"] == v)
        records = self.filter_object(req, records, "property_mappings", set(self.scope_mappings),
                                     lambda p, v: v in p["property_mappings"], multi=True)
        items = [self.render_provider(p) for p in records]
        for param in ("name", "client_id", "access_code_validity", "access_token_validity", "refresh_token_validity"):
            items = self.filter_exact(req, items, param)
        items = self.filter_choice(req, items, "client_type", CLIENT_TYPES)
        items = self.filter_choice(req, items, "sub_mode", SUB_MODES)
        items = self.filter_choice(req, items, "issuer_mode", ISSUER_MODES)
        items = self.filter_bool(req, items, "include_claims_in_id_token", "include_claims_in_id_token")
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    @staticmethod
    def empty_reference_is_null(body: Any) -> Any:
        """DRF's related fields read "" as null (an empty secret picker)."""
        if isinstance(body, dict) and body.get("client_secret_ref") == "":
            return dict(body, client_secret_ref=None)
        return body

    def provider_create(self, req: Request) -> Response:
        body = self.empty_reference_is_null(self.write_body(req))
        data = self.checked_write(req, "oauth2", body, False,
                                  lambda b: self.run_fields(self.provider_fields(None), b, False))
        self.provider_seq += 1
        record = copy.deepcopy(PROVIDER_DEFAULTS)
        record.update({
            "pk": self.provider_seq,
            "name": None,
            "client_id": generate_id(),
            "client_secret": generate_client_secret(),
            "grant_types": [] if self.profile.has("oauth2.grant_types") else None,
            "seq": self.next_seq(),
        })
        self.apply_provider(record, data)
        if self.profile.has("oauth2.client_secret_ref") and not record.get("client_secret_ref"):
            # no secret given: authentik creates one with a generated value
            record["client_secret_ref"] = self.new_secret("%s client secret" % record["name"])["pk"]
            record["client_secret"] = ""
        self.providers[record["pk"]] = record
        return Response(201, self.render_provider(record))

    def provider_detail(self, req: Request) -> Response:
        return Response(200, self.render_provider(self.provider_or_404(req.params["pk"])))

    def provider_update(self, req: Request) -> Response:
        record = self.provider_or_404(req.params["pk"])
        partial = req.method == "PATCH"
        body = self.empty_reference_is_null(self.write_body(req))
        data = self.checked_write(req, "oauth2", body, partial,
                                  lambda b: self.run_fields(self.provider_fields(record), b, partial))
        self.apply_provider(record, data)
        return Response(200, self.render_provider(record))

    def provider_delete(self, req: Request) -> Response:
        record = self.provider_or_404(req.params["pk"])
        del self.providers[record["pk"]]
        for application in self.applications.values():
            if application["provider"] == record["pk"]:
                application["provider"] = None
        for other in self.providers.values():
            if record["pk"] in other["jwt_federation_providers"]:
                other["jwt_federation_providers"].remove(record["pk"])
        return Response(204)

    def provider_setup_urls(self, req: Request) -> Response:
        provider = self.provider_or_404(req.params["pk"])
        application = self.application_for_provider(provider["pk"])
        prefix = oidc.PREFIX
        values: dict[str, Any] = {
            "issuer": oidc.issuer(self, req, provider),
            "authorize": oidc.absolute(self, req, prefix + "authorize/"),
            "token": oidc.absolute(self, req, prefix + "token/"),
            "user_info": oidc.absolute(self, req, prefix + "userinfo/"),
            "provider_info": None,
            "logout": None,
            "dcr_registration": None,
        }
        if application is not None:
            slug = application["slug"]
            values["provider_info"] = oidc.absolute(self, req, "%s%s/.well-known/openid-configuration" % (prefix, slug))
            values["logout"] = oidc.absolute(self, req, "%s%s/end-session/" % (prefix, slug))
            values["jwks"] = oidc.absolute(self, req, "%s%s/jwks/" % (prefix, slug))
        # without an application the jwks key is missing altogether (sample 10)
        return Response(200, dict((k, values[k]) for k in self.profile.fields("setup_urls") if k in values))

    # ---- applications ----------------------------------------------------------------------
    def application_fields(self, instance: dict | None) -> list[tuple[str, drf.Field]]:
        def unique(key: str, message: str) -> Callable[[Any], None]:
            def check(value: Any) -> None:
                for other in self.applications.values():
                    if other[key] == value and (instance is None or other["pk"] != instance["pk"]):
                        raise drf.Invalid([message])
            return check

        slug_max = 50 if self.profile.has("app.slug_max_50") else None
        spec: dict[str, drf.Field] = {
            "name": drf.Char(required=True),
            "slug": drf.Char(required=True, max_length=slug_max, validators=[
                drf.slug_validator, unique("slug", "Application with this slug already exists.")]),
            "provider": drf.PrimaryKey(lambda pk: pk in self.providers, pk_type="int", allow_null=True,
                                       validators=[unique("provider", "Application with this provider already exists.")]),
            # only backchannel provider types may be listed here; OAuth2 providers are not
            "backchannel_providers": drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: False, pk_type="int")),
            "open_in_new_tab": drf.Boolean(),
            "meta_launch_url": drf.Char(allow_blank=True, validators=[_launch_url_validator]),
            "meta_icon": drf.Char(allow_blank=True),
            "meta_description": drf.Char(allow_blank=True),
            "meta_publisher": drf.Char(allow_blank=True),
            "policy_engine_mode": drf.Choice(POLICY_ENGINE_MODES),
            "group": drf.Char(allow_blank=True),
            "meta_hide": drf.Boolean(),
        }
        return [(name, spec[name]) for name in self.profile.writable("application")]

    def application_or_404(self, slug: str) -> dict:
        application = self.application_by_slug(slug)
        if application is None:
            raise HTTPError(404, {"detail": "No Application matches the given query."})
        return application

    def application_list(self, req: Request) -> Response:
        """The list with authentik's per-user page cache (sample README, surprise 3).

        Pagination is computed from the filtered list, but unless ``search`` is given or a
        superuser asks for ``superuser_full_list=true``, the results are the ones cached for
        that page number (filters ignored), or the page's applications the caller passes the
        policies of, which are then cached. The cache is cleared when an application is
        created and when a policy binding is saved or deleted.
        """
        items = self._sorted(self.applications.values(), "name")
        for param in ("name", "slug", "group", "meta_launch_url", "meta_description", "meta_publisher"):
            items = self.filter_exact(req, items, param)
        items = self.search(req, items, ["name", "slug", "meta_launch_url", "meta_description", "meta_publisher",
                                         "group"])
        rendered = [self.render_application(a) for a in items]
        ordered_pks = [r["pk"] for r in self.ordered(req, rendered, ["name"])]
        records = [self.applications[pk] for pk in ordered_pks]
        page_records, pagination = self.page_of(req, records)
        if _is_true(req.arg("superuser_full_list")) and self.is_superuser(self.token_user):
            results = page_records
        else:
            allowed = [a for a in page_records if self.passes_policies(a["pk"], self.token_user)]
            if (req.arg("search") or "") != "":
                results = allowed
            else:
                cached = self.app_list_cache.get(pagination["current"])
                if cached:
                    results = [self.applications[pk] for pk in cached if pk in self.applications]
                else:
                    results = allowed
                    self.app_list_cache[pagination["current"]] = [a["pk"] for a in allowed]
            if _is_true(req.arg("only_with_launch_url")):
                results = [a for a in results if self.launch_url(a)]
        body = {"pagination": pagination, "results": [self.render_application(a) for a in results], "autocomplete": {}}
        return Response(200, body)

    def application_create(self, req: Request) -> Response:
        body = self.write_body(req)
        data = self.checked_write(req, "application", body, False,
                                  lambda b: self.run_fields(self.application_fields(None), b, False))
        record = copy.deepcopy(APPLICATION_DEFAULTS)
        record.update({"pk": str(uuid.uuid4()), "seq": self.next_seq()})
        record.update(copy.deepcopy(data))
        self.applications[record["pk"]] = record
        self.clear_app_list_cache()  # post_save(created=True) clears every user's list cache
        return Response(201, self.render_application(record))

    def application_detail(self, req: Request) -> Response:
        return Response(200, self.render_application(self.application_or_404(req.params["slug"])))

    def application_update(self, req: Request) -> Response:
        record = self.application_or_404(req.params["slug"])
        partial = req.method == "PATCH"
        body = self.write_body(req)
        data = self.checked_write(req, "application", body, partial,
                                  lambda b: self.run_fields(self.application_fields(record), b, partial))
        record.update(copy.deepcopy(data))  # an update does not clear the list cache
        return Response(200, self.render_application(record))

    def application_delete(self, req: Request) -> Response:
        record = self.application_or_404(req.params["slug"])
        doomed = [pk for pk, b in self.bindings.items() if b["target"] == record["pk"]]
        for pk in doomed:
            del self.bindings[pk]
        if doomed:
            self.clear_app_list_cache()  # pre_delete of each cascaded binding
        del self.applications[record["pk"]]
        return Response(204)

    def application_set_icon_url(self, req: Request) -> Response:
        if not self.profile.has("app.set_icon_url"):
            return self.method_not_allowed(req, ["GET"])
        record = self.application_or_404(req.params["slug"])
        body = self.write_body(req)
        url = body.get("url") if isinstance(body, dict) else None
        if url is None:
            return Response(400, "<h1>Bad Request (400)</h1>", content_type="text/html; charset=utf-8")
        record["meta_icon"] = str(url)
        return Response(200, {})

    # ---- policy bindings -------------------------------------------------------------------
    def binding_fields(self) -> list[tuple[str, drf.Field]]:
        spec: dict[str, drf.Field] = {
            "policy": drf.PrimaryKey(lambda pk: pk in self.policies, allow_null=True),
            "group": drf.PrimaryKey(lambda pk: pk in self.groups, allow_null=True),
            "user": drf.PrimaryKey(lambda pk: pk in self.users, pk_type="int", allow_null=True),
            "target": drf.PrimaryKey(lambda pk: pk in self.target_pks(), required=True),
            "negate": drf.Boolean(),
            "enabled": drf.Boolean(),
            "order": drf.Integer(required=True, min_value=-2147483648, max_value=2147483647),
            "timeout": drf.Integer(min_value=0, max_value=2147483647),
            "failure_result": drf.Boolean(),
        }
        return [(name, spec[name]) for name in self.profile.writable("binding")]

    def validate_binding(self, body: dict, instance: dict | None, partial: bool) -> dict:
        data = self.run_fields(self.binding_fields(), body, partial)
        merged = dict(instance or BINDING_DEFAULTS)
        merged.update(data)
        supported = ["group", "policy", "user"]
        count = sum(1 for key in supported if merged.get(key) is not None and merged.get(key) != "")
        names = ", ".join("'%s'" % key for key in supported)
        if count > 1:
            raise HTTPError(400, {"non_field_errors": ["Only one of %s can be set." % names]})
        if count < 1:
            raise HTTPError(400, {"non_field_errors": ["One of %s must be set." % names]})
        if merged.get("policy") is not None:
            for other in self.bindings.values():
                if instance is not None and other["pk"] == instance["pk"]:
                    continue
                mine = (merged["policy"], merged["target"], merged["order"])
                if (other["policy"], other["target"], other["order"]) == mine:
                    raise HTTPError(400, {"non_field_errors": ["The fields policy, target, order must make a unique set."]})
        return data

    def binding_or_404(self, raw_pk: str) -> dict:
        try:
            pk = str(uuid.UUID(raw_pk))
        except ValueError:
            pk = ""
        return self.detail_or_404(self.bindings, pk, "PolicyBinding")

    def binding_list(self, req: Request) -> Response:
        # The real filter set is policy, policy__isnull, target, target_in, enabled, order, timeout
        # (+ search on the policy name): ``?group=`` and ``?user=`` are ignored, like authentik does.
        records = list(self.bindings.values())
        records = self.filter_object(req, records, "target", self.target_pks(), lambda b, v: b["target"] == v)
        records = self.filter_object(req, records, "target_in", self.target_pks(), lambda b, v: b["target"] == v,
                                     multi=True)
        records = self.filter_object(req, records, "policy", set(self.policies), lambda b, v: b["policy"] == v)
        wanted_null = _bool_arg(req.arg("policy__isnull"))
        if wanted_null is not None:
            records = [b for b in records if (b["policy"] is None) == wanted_null]
        items = [dict(self.render_binding(b), _seq=b["seq"], _policy_name=(self.policies.get(b["policy"]) or {}).get("name"))
                 for b in records]
        items = self.filter_bool(req, items, "enabled", "enabled")
        for param in ("order", "timeout"):
            value = req.arg(param)
            if value not in (None, ""):
                try:
                    number = int(value)
                except ValueError as exc:
                    raise HTTPError(400, {param: ["Enter a number."]}) from exc
                items = [i for i in items if i[param] == number]
        items = self.search(req, items, ["_policy_name"])
        items = self.ordered(req, sorted(items, key=lambda i: i["_seq"]), ["target", "order"])
        for item in items:
            item.pop("_seq")
            item.pop("_policy_name")
        return self.paginated(req, items)

    def binding_create(self, req: Request) -> Response:
        body = self.write_body(req)
        data = self.checked_write(req, "binding", body, False, lambda b: self.validate_binding(b, None, False))
        record = dict(BINDING_DEFAULTS)
        record.update({"pk": str(uuid.uuid4()), "seq": self.next_seq()})
        record.update(data)
        self.bindings[record["pk"]] = record
        self.clear_app_list_cache()  # post_save of a binding
        return Response(201, self.render_binding(record))

    def binding_detail(self, req: Request) -> Response:
        return Response(200, self.render_binding(self.binding_or_404(req.params["pk"])))

    def binding_update(self, req: Request) -> Response:
        record = self.binding_or_404(req.params["pk"])
        partial = req.method == "PATCH"
        body = self.write_body(req)
        data = self.checked_write(req, "binding", body, partial, lambda b: self.validate_binding(b, record, partial))
        record.update(data)
        self.clear_app_list_cache()
        return Response(200, self.render_binding(record))

    def binding_delete(self, req: Request) -> Response:
        record = self.binding_or_404(req.params["pk"])
        del self.bindings[record["pk"]]
        self.clear_app_list_cache()  # pre_delete of a binding
        return Response(204)

    # ---- secrets (2026.11) -----------------------------------------------------------------
    def render_secret(self, secret: dict) -> dict:
        return dict((k, copy.deepcopy(secret[k])) for k in self.profile.fields("secret"))

    def secrets_api(self, req: Request) -> None:
        """Before 2026.11 the route does not exist."""
        if not self.profile.has("api.secrets"):
            raise HTTPError(404, self.not_found_body(req))

    def secret_or_404(self, req: Request) -> dict:
        self.secrets_api(req)
        try:
            pk = str(uuid.UUID(req.params["pk"]))
        except ValueError:
            pk = ""
        return self.detail_or_404(self.secrets, pk, "Secret")

    def secret_fields(self, instance: dict | None) -> list[tuple[str, drf.Field]]:
        def unique(value: Any) -> None:
            for other in self.secrets.values():
                if other["name"] == value and (instance is None or other["pk"] != instance["pk"]):
                    raise drf.Invalid(["secret with this name already exists."])
        spec: dict[str, drf.Field] = {
            "name": drf.Char(required=True, validators=[unique]),
            "type": drf.Choice(SECRET_TYPES),
            "value": drf.Char(allow_blank=True, trim=False),
        }
        return [(name, spec[name]) for name in self.profile.writable("secret")]

    def validate_secret(self, body: dict, instance: dict | None, partial: bool) -> dict:
        data = self.run_fields(self.secret_fields(instance), body, partial)
        if data.get("value") == "":
            del data["value"]  # an empty value keeps (or, on create, generates) the value
        kind = data.get("type", instance["type"] if instance else "text")
        if instance is not None and kind != instance["type"]:
            raise HTTPError(400, {"type": ["Type cannot be changed after creation."]})
        if instance is None and kind != "text" and not data.get("value"):
            raise HTTPError(400, {"value": ["A value is required for this type."]})
        return data

    def secret_list(self, req: Request) -> Response:
        self.secrets_api(req)
        items = [self.render_secret(x) for x in self.secrets.values()]
        items = self.filter_exact(req, items, "name")
        items = self.filter_choice(req, items, "type", SECRET_TYPES)
        items = self.filter_exact(req, items, "managed")
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    def secret_create(self, req: Request) -> Response:
        self.secrets_api(req)
        body = self.write_body(req)
        data = self.checked_write(req, "secret", body, False, lambda b: self.validate_secret(b, None, False))
        secret = self.new_secret(data["name"], data.get("value"), data.get("type", "text"))
        return Response(201, self.render_secret(secret))

    def secret_detail(self, req: Request) -> Response:
        return Response(200, self.render_secret(self.secret_or_404(req)))

    def secret_update(self, req: Request) -> Response:
        secret = self.secret_or_404(req)
        partial = req.method == "PATCH"
        body = self.write_body(req)
        data = self.checked_write(req, "secret", body, partial, lambda b: self.validate_secret(b, secret, partial))
        secret.update(data)
        return Response(200, self.render_secret(secret))

    def secret_delete(self, req: Request) -> Response:
        secret = self.secret_or_404(req)
        if any(p.get("client_secret_ref") == secret["pk"] for p in self.providers.values()):
            # the reference is PROTECTed; authentik answers with the view's ValidationError
            raise HTTPError(400, ["Secret is in use. Remove it from the objects referencing it first."])
        del self.secrets[secret["pk"]]
        return Response(204)

    def secret_view_value(self, req: Request) -> Response:
        return Response(200, {"value": self.secret_or_404(req)["value"]})

    def secret_rotate(self, req: Request) -> Response:
        secret = self.secret_or_404(req)
        if secret["type"] != "text":
            raise HTTPError(400, {"non_field_errors": ["Only text secrets can be rotated."]})
        secret["value"] = generate_client_secret()
        return Response(200, {"value": secret["value"]})
