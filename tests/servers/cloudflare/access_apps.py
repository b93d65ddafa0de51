"""Access applications (self-hosted) and reusable policies on the Cloudflare test server.

Registered from ``CloudflareApp.setup_routes`` (``register``) and reset with the rest of the
state (``reset``). Paths, as in the pinned SDK 5.9 and the Terraform provider v5:

* ``GET|POST {accounts|zones}/<id>/access/apps``, ``GET|PUT|DELETE …/apps/<app_id>``; the list takes
  ``name``, ``domain`` and ``exact`` (without ``exact`` a filter matches as a case-insensitive
  substring: UNCONFIRMED, the SDK only says ``exact`` asks for exact matches) and pages;
* ``GET|POST accounts/<id>/access/policies``, ``GET|PUT|DELETE …/policies/<policy_id>``: reusable
  policies are account-level only; the list has no filter, only pages;
* ``GET|POST accounts/<id>/access/tags``, ``GET|PUT|DELETE …/tags/<name>`` (SDK ``access/tags.py``): a tag is
  ``{name, app_count, created_at, updated_at}`` and its name is its id. An application's ``tags`` must name
  existing tags (400 otherwise, as the Terraform provider's tests create the tag first; the wording is
  UNCONFIRMED); a tag that applications use cannot be deleted (409, UNCONFIRMED).

Page sizes of the applications and policies lists: neither the SDK 5.9 types nor the Terraform provider
(which follows pages without asking for a size) state the largest ``per_page``, so it is a setting
(``POST /_test/config``): ``access_max_per_page`` (default 1000) and ``access_per_page_over``
(``reject``, the default: 400 as the other lists of this server; ``clamp``: answer at most that many and
say so in ``result_info.per_page``). Both are UNCONFIRMED on the real API; the module copes with either.

What the server adds (as the SDK's response models name it): on applications ``id``, ``aud``,
``created_at``, ``updated_at``, ``self_hosted_domains`` and ``destinations`` from ``domain`` when not
sent, and the defaults below; ``policies`` are answered as whole policy objects with their
``precedence``. On policies ``id``, ``created_at``, ``updated_at``, ``reusable: true``,
``app_count`` and the defaults below.

Errors (400 unless said; code 12130; the exact wording is UNCONFIRMED on the real API):

* a body the SDK's types reject (contract check), a missing ``domain``/``name``/``decision``/``include``,
  a type other than ``self_hosted``, a malformed ``session_duration``;
* ``allowed_idps`` naming a login method the scope does not have;
* ``auto_redirect_to_identity`` with other than exactly one ``allowed_idps`` entry;
* a policy link to an unknown policy; reusable policies on a zone-level application;
* an OIDC or login-method rule naming an unknown login method;
* 409 ``access.api.error.conflict``: a second application with the same domain; deleting a policy
  that applications still use;
* 404 code 12135 for unknown ids.
"""

from __future__ import annotations

import copy
import re
import secrets
import uuid
from typing import Any

from tests.servers._control import Request, Response
from tests.servers.cloudflare import access_contract
from tests.servers.cloudflare.app import (
    ACC,
    E_INVALID,
    E_NOT_FOUND,
    MSG_NOT_FOUND,
    ZONE,
    envelope,
    fail,
    invalid,
    now,
)

MSG_CONFLICT = "access.api.error.conflict"
DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|\u00b5s|ms|s|m|h))+$")
DECISIONS = ("allow", "deny", "non_identity", "bypass")

APP_DEFAULTS: dict[str, Any] = {
    "allowed_idps": [],
    "app_launcher_visible": True,
    "auto_redirect_to_identity": False,
    "session_duration": "24h",
    "http_only_cookie_attribute": True,
    "enable_binding_cookie": False,
    "options_preflight_bypass": False,
    "tags": [],
    "custom_deny_message": "",
    "custom_deny_url": "",
    "logo_url": "",
}
POLICY_DEFAULTS: dict[str, Any] = {
    "exclude": [],
    "require": [],
    "session_duration": "24h",
    "approval_required": False,
    "isolation_required": False,
    "purpose_justification_required": False,
    "approval_groups": [],
}


ACCESS_SETTINGS: dict[str, Any] = {"access_max_per_page": 1000, "access_per_page_over": "reject"}
PER_PAGE_OVER = ("reject", "clamp")


def conflict(reason: str) -> Any:
    return fail(409, E_INVALID, "%s: %s" % (MSG_CONFLICT, reason))


class AccessStore:
    """The applications (per scope) and reusable policies (per account) of one server."""

    def __init__(self, app):
        self.app = app
        self.apps: dict[tuple[str, str], dict[str, dict]] = {}
        self.policies: dict[str, dict] = {}
        self.tags: dict[str, dict] = {}
        self.settings: dict[str, Any] = dict(ACCESS_SETTINGS)

    def reset(self) -> None:
        self.apps = {self.app.account_scope: {}, self.app.zone_scope: {}}
        self.policies = {}
        self.tags = {}
        self.settings = dict(ACCESS_SETTINGS)

    def configure(self, settings: dict) -> None:
        """The knobs of ``ACCESS_SETTINGS`` from ``POST /_test/config`` (the others are the app's)."""
        if "access_per_page_over" in settings and settings["access_per_page_over"] not in PER_PAGE_OVER:
            raise invalid("access_per_page_over must be one of %s" % ", ".join(PER_PAGE_OVER))
        for knob, default in ACCESS_SETTINGS.items():
            if knob in settings:
                self.settings[knob] = int(settings[knob]) if isinstance(default, int) else settings[knob]

    def _page_args(self, req: Request) -> tuple[int, int]:
        """``page`` and ``per_page`` of the applications and policies lists, with their own cap."""
        values = []
        for name, default in (("page", 1), ("per_page", self.app.page_size)):
            raw = req.arg(name)
            try:
                number = default if raw is None or raw == "" else int(raw)
            except ValueError:
                number = 0
            if number < 1:
                raise invalid("%s must be a positive integer" % name)
            values.append(number)
        cap = int(self.settings["access_max_per_page"])
        if values[1] > cap:
            if self.settings["access_per_page_over"] == "reject":
                raise invalid("per_page must be at most %d" % cap)
            values[1] = cap
        return values[0], values[1]

    def dump(self) -> dict:
        return {
            "access_apps": {"%s/%s" % key: [copy.deepcopy(rec) for rec in store.values()] for key, store in self.apps.items()},
            "access_policies": [copy.deepcopy(rec) for rec in self.policies.values()],
            "access_tags": [self.render_tag(rec) for rec in self.tags.values()],
        }

    # ---- helpers ---------------------------------------------------------------------------
    def _contract(self, req: Request, errors: list[str]) -> None:
        self.app.check_contract(req, errors)

    def _body(self, req: Request) -> dict:
        body = req.json()
        if not isinstance(body, dict):
            raise invalid("request body must be a JSON object")
        return body

    def _idp_ids(self, scope: tuple[str, str]) -> set[str]:
        return set(self.app.idps.get(scope, {}))

    def _check_duration(self, value: Any, key: str) -> None:
        if value is not None and (not isinstance(value, str) or not DURATION.match(value)):
            raise invalid("%s must be a duration such as 24h or 2h45m" % key)

    def app_count(self, policy_id: str) -> int:
        return sum(1 for store in self.apps.values() for rec in store.values()
                   if any(link["id"] == policy_id for link in rec["policies"]))

    # ---- tags --------------------------------------------------------------------------------------
    def tag_count(self, name: str) -> int:
        return sum(1 for store in self.apps.values() for rec in store.values() if name in (rec.get("tags") or []))

    def render_tag(self, rec: dict) -> dict:
        return dict(copy.deepcopy(rec), app_count=self.tag_count(rec["name"]))

    # ---- policies --------------------------------------------------------------------------------
    def render_policy(self, rec: dict, precedence: int | None = None) -> dict:
        out = copy.deepcopy(rec)
        out["app_count"] = self.app_count(rec["id"])
        if precedence is not None:
            out["precedence"] = precedence
        return out

    def _find_policy(self, policy_id: str) -> dict:
        rec = self.policies.get(policy_id)
        if rec is None:
            raise fail(404, E_NOT_FOUND, MSG_NOT_FOUND)
        return rec

    def _validate_policy(self, body: dict, scope: tuple[str, str]) -> dict:
        for key in ("name", "decision", "include"):
            if body.get(key) is None:
                raise invalid("%s is required" % key)
        if not isinstance(body["name"], str) or not body["name"].strip():
            raise invalid("name must be a non-empty string")
        if body["decision"] not in DECISIONS:
            raise invalid("decision must be one of %s" % ", ".join(DECISIONS))
        if not body["include"]:
            raise invalid("include must hold at least one rule")
        self._check_duration(body.get("session_duration"), "session_duration")
        idps = self._idp_ids(scope)
        for key in ("include", "exclude", "require"):
            for rule in body.get(key) or []:
                kind, inner = next(iter(rule.items()))
                ref = None
                if kind == "oidc":
                    ref = inner.get("identity_provider_id")
                elif kind == "login_method":
                    ref = inner.get("id")
                if ref is not None and ref not in idps:
                    raise invalid("%s rule references identity provider %s, which does not exist" % (kind, ref))
        stored = copy.deepcopy(POLICY_DEFAULTS)
        stored.update({k: copy.deepcopy(v) for k, v in body.items()})
        return stored

    def list_policies(self, req: Request) -> Response:
        self.app._scope(req)
        page, per_page = self._page_args(req)
        items = [self.render_policy(rec) for rec in self.policies.values()]
        return self.app._list_response(items, page, per_page)

    def get_policy(self, req: Request) -> Response:
        self.app._scope(req)
        return Response(200, envelope(self.render_policy(self._find_policy(req.params["policy_id"]))))

    def create_policy(self, req: Request) -> Response:
        scope = self.app._scope(req, write=True)
        body = self._body(req)
        self._contract(req, access_contract.check_policy(body, "create"))
        stored = self._validate_policy(body, scope)
        stamp = now()
        stored.update(id=str(uuid.uuid4()), created_at=stamp, updated_at=stamp, reusable=True)
        self.policies[stored["id"]] = stored
        return Response(200, envelope(self.render_policy(stored)))

    def update_policy(self, req: Request) -> Response:
        scope = self.app._scope(req, write=True)
        rec = self._find_policy(req.params["policy_id"])
        body = self._body(req)
        self._contract(req, access_contract.check_policy(body, "update"))
        stored = self._validate_policy(body, scope)
        stored.update(id=rec["id"], created_at=rec["created_at"], updated_at=now(), reusable=True)
        self.policies[rec["id"]] = stored
        return Response(200, envelope(self.render_policy(stored)))

    def delete_policy(self, req: Request) -> Response:
        self.app._scope(req, write=True)
        rec = self._find_policy(req.params["policy_id"])
        used = self.app_count(rec["id"])
        if used:
            raise conflict("policy is in use by %d application(s) and cannot be deleted" % used)
        del self.policies[rec["id"]]
        return Response(200, envelope({"id": rec["id"]}))

    # ---- applications ----------------------------------------------------------------------------
    def render_app(self, rec: dict) -> dict:
        out = copy.deepcopy(rec)
        out["policies"] = [self.render_policy(self.policies[link["id"]], link["precedence"])
                           for link in rec["policies"] if link["id"] in self.policies]
        return out

    def _find_app(self, scope: tuple[str, str], app_id: str) -> dict:
        rec = self.apps[scope].get(app_id)
        if rec is None:
            raise fail(404, E_NOT_FOUND, MSG_NOT_FOUND)
        return rec

    def _validate_app(self, body: dict, scope: tuple[str, str], existing: dict | None) -> dict:
        if body.get("type") != "self_hosted":
            raise invalid("type must be self_hosted (only self-hosted applications are emulated)")
        domain = body.get("domain")
        if not isinstance(domain, str) or not domain.strip():
            raise invalid("domain is required")
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            raise invalid("name is required")
        self._check_duration(body.get("session_duration"), "session_duration")
        idps = self._idp_ids(scope)
        allowed = body.get("allowed_idps") or []
        for idp in allowed:
            if idp not in idps:
                raise invalid("allowed_idps: identity provider %s does not exist" % idp)
        if body.get("auto_redirect_to_identity") and len(allowed) != 1:
            raise invalid("auto_redirect_to_identity requires exactly one identity provider in allowed_idps")
        destinations = body.get("destinations")
        uris = [d.get("uri") for d in destinations or [] if isinstance(d, dict) and d.get("uri")]
        claimed = set([domain.lower()] + [u.lower() for u in uris])
        for other in self.apps[scope].values():
            if existing is not None and other["id"] == existing["id"]:
                continue
            theirs = set([other["domain"].lower()] + [d["uri"].lower() for d in other.get("destinations") or [] if d.get("uri")])
            if claimed & theirs:
                raise conflict("domain %s is already used by application %s" % (sorted(claimed & theirs)[0], other["id"]))
        for tag in body.get("tags") or []:
            if tag not in self.tags:
                raise invalid("tags: tag %s does not exist; create it first" % tag)
        links = []
        for index, link in enumerate(body.get("policies") or []):
            ident = link if isinstance(link, str) else (link.get("id") if isinstance(link, dict) else None)
            if ident is None:
                raise invalid("policies: inline policies are not supported here; link reusable policies by id")
            if scope[0] == "zones":
                raise invalid("policies: reusable policies cannot be linked to a zone-level application")
            if ident not in self.policies:
                raise invalid("policies: policy %s not found" % ident)
            precedence = link.get("precedence") if isinstance(link, dict) and link.get("precedence") else index + 1
            links.append({"id": ident, "precedence": precedence})
        if len(set(link["precedence"] for link in links)) != len(links):
            raise invalid("policies: precedence must be unique for each policy within an app")
        stored = copy.deepcopy(APP_DEFAULTS)
        stored.update({k: copy.deepcopy(v) for k, v in body.items() if k != "policies"})
        if not destinations:
            stored["destinations"] = [{"type": "public", "uri": domain}]
        stored["self_hosted_domains"] = [d["uri"] for d in stored["destinations"] if d.get("uri")]
        stored["policies"] = links
        return stored

    def list_apps(self, req: Request) -> Response:
        scope = self.app._scope(req)
        page, per_page = self._page_args(req)
        exact = (req.arg("exact") or "").lower() in ("true", "1")
        records = list(self.apps[scope].values())
        for key in ("name", "domain"):
            wanted = req.arg(key)
            if wanted is None:
                continue
            if exact:
                records = [rec for rec in records if rec.get(key) == wanted]
            else:
                records = [rec for rec in records if wanted.lower() in (rec.get(key) or "").lower()]
        return self.app._list_response([self.render_app(rec) for rec in records], page, per_page)

    def get_app(self, req: Request) -> Response:
        scope = self.app._scope(req)
        return Response(200, envelope(self.render_app(self._find_app(scope, req.params["app_id"]))))

    def create_app(self, req: Request) -> Response:
        scope = self.app._scope(req, write=True)
        body = self._body(req)
        self._contract(req, access_contract.check_application(body, "create"))
        stored = self._validate_app(body, scope, None)
        stamp = now()
        stored.update(id=str(uuid.uuid4()), aud=secrets.token_hex(32), created_at=stamp, updated_at=stamp)
        self.apps[scope][stored["id"]] = stored
        return Response(201, envelope(self.render_app(stored)))

    def update_app(self, req: Request) -> Response:
        scope = self.app._scope(req, write=True)
        rec = self._find_app(scope, req.params["app_id"])
        body = self._body(req)
        self._contract(req, access_contract.check_application(body, "update"))
        stored = self._validate_app(body, scope, rec)
        stored.update(id=rec["id"], aud=rec["aud"], created_at=rec["created_at"], updated_at=now())
        self.apps[scope][rec["id"]] = stored
        return Response(200, envelope(self.render_app(stored)))

    def delete_app(self, req: Request) -> Response:
        scope = self.app._scope(req, write=True)
        rec = self._find_app(scope, req.params["app_id"])
        del self.apps[scope][rec["id"]]
        return Response(202, envelope({"id": rec["id"]}))


class TagHandlers:
    """``…/access/tags``: account-level, the name is the id."""

    def __init__(self, store: AccessStore):
        self.store = store

    def _find(self, name: str) -> dict:
        rec = self.store.tags.get(name)
        if rec is None:
            raise fail(404, E_NOT_FOUND, MSG_NOT_FOUND)
        return rec

    def _name(self, req: Request) -> str:
        body = self.store._body(req)
        self.store._contract(req, access_contract.check_tag(body))
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid("name is required")
        return name

    def list(self, req: Request) -> Response:
        self.store.app._scope(req)
        page, per_page = self.store.app._page_args(req)
        return self.store.app._list_response([self.store.render_tag(r) for r in self.store.tags.values()], page, per_page)

    def get(self, req: Request) -> Response:
        self.store.app._scope(req)
        return Response(200, envelope(self.store.render_tag(self._find(req.params["tag_name"]))))

    def create(self, req: Request) -> Response:
        self.store.app._scope(req, write=True)
        name = self._name(req)
        if name in self.store.tags:
            raise conflict("tag %s already exists" % name)
        stamp = now()
        self.store.tags[name] = {"name": name, "created_at": stamp, "updated_at": stamp}
        return Response(201, envelope(self.store.render_tag(self.store.tags[name])))

    def update(self, req: Request) -> Response:
        self.store.app._scope(req, write=True)
        rec = self._find(req.params["tag_name"])
        name = self._name(req)
        if name != rec["name"]:
            if name in self.store.tags:
                raise conflict("tag %s already exists" % name)
            del self.store.tags[rec["name"]]
            for store in self.store.apps.values():
                for app_rec in store.values():
                    app_rec["tags"] = [name if t == rec["name"] else t for t in app_rec.get("tags") or []]
        rec.update(name=name, updated_at=now())
        self.store.tags[name] = rec
        return Response(200, envelope(self.store.render_tag(rec)))

    def delete(self, req: Request) -> Response:
        self.store.app._scope(req, write=True)
        rec = self._find(req.params["tag_name"])
        used = self.store.tag_count(rec["name"])
        if used:
            raise conflict("tag %s is used by %d application(s)" % (rec["name"], used))
        del self.store.tags[rec["name"]]
        return Response(202, envelope({"name": rec["name"]}))


def register(app) -> None:
    """Add the routes to ``app`` (a ``CloudflareApp``) and give it ``app.access`` (the store)."""
    store = AccessStore(app)
    app.access = store
    for prefix in (ACC, ZONE):
        collection = prefix + r"/access/apps"
        item = collection + r"/(?P<app_id>[^/]+)"
        app.route("GET", collection, store.list_apps)
        app.route("POST", collection, store.create_app)
        app.route("GET", item, store.get_app)
        app.route("PUT", item, store.update_app)
        app.route("DELETE", item, store.delete_app)
    collection = ACC + r"/access/policies"
    item = collection + r"/(?P<policy_id>[^/]+)"
    app.route("GET", collection, store.list_policies)
    app.route("POST", collection, store.create_policy)
    app.route("GET", item, store.get_policy)
    app.route("PUT", item, store.update_policy)
    app.route("DELETE", item, store.delete_policy)
    tags = TagHandlers(store)
    collection = ACC + r"/access/tags"
    item = collection + r"/(?P<tag_name>[^/]+)"
    app.route("GET", collection, tags.list)
    app.route("POST", collection, tags.create)
    app.route("GET", item, tags.get)
    app.route("PUT", item, tags.update)
    app.route("DELETE", item, tags.delete)
    configure = app.configure

    def configure_too(settings):
        configure(settings)
        if isinstance(settings, dict):
            with app.lock:
                store.configure(settings)

    app.configure = configure_too
