"""A stateful authentik REST API test server (``/api/v3/``) plus its public OIDC endpoints.

Shapes, status codes and messages follow the captured authentik 2025.12.4 exchanges in
docs/authentik-samples; the ``version`` argument switches fields and routes per release
(versions.py). This file holds the state, routing, authentication, list and write plumbing; the
resources live in their own modules, mixed into ``AuthentikApp``: lookups.py (version, flows, keys,
scope mappings, groups, users, policies), providers.py (OAuth2 providers), applications.py,
policies.py (policy bindings), secrets_api.py (2026.11 Secrets), oidc.py (the public OIDC endpoints).
Every accepted write body is also checked against the vendor's generated
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
import uuid
from typing import Any, Callable

from tests.servers._control import App, HTTPError, Request, Response
from tests.servers.authentik import contract, directory, drf, oidc, scim, seed
from tests.servers.authentik.applications import ApplicationsMixin
from tests.servers.authentik.directory import DirectoryMixin
from tests.servers.authentik.common import API, _DATE, _bool_arg, _sort_key, generate_client_secret
from tests.servers.authentik.keys import KeyMaterial, key_material
from tests.servers.authentik.lookups import LookupsMixin
from tests.servers.authentik.policies import PoliciesMixin
from tests.servers.authentik.providers import ProvidersMixin
from tests.servers.authentik.scim import ScimMixin
from tests.servers.authentik.secrets_api import SecretsMixin
from tests.servers.authentik.versions import DEFAULT_VERSION, Profile

__all__ = ["AuthentikApp", "DEFAULT_VERSION"]


class AuthentikApp(LookupsMixin, ProvidersMixin, ApplicationsMixin, PoliciesMixin, SecretsMixin, ScimMixin,
                   DirectoryMixin, App):
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
        self.scim_generation = 0  # bumped by a reset: a sync still running then drops its results
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
        self.scim_generation = getattr(self, "scim_generation", 0) + 1
        scim.reset(self)
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
            "scim_providers": [dict(self.render_scim_provider(p), token=p["token"])
                               for p in self._sorted(self.scim_providers.values(), "pk")],
            "scim_links": [dict((k, v) for k, v in link.items() if k != "sent")
                           for link in sorted(self.scim_links.values(), key=lambda item: item["seq"])],
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
        scim.setup_routes(self)
        directory.setup_routes(self)

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
