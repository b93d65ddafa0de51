"""SCIM on the Cloudflare test server: the login method's SCIM secret, its refresh call, the SCIM 2.0
service provider a client pushes to, and the account API's lists of what was provisioned.

* ``POST …/access/identity_providers/{id}/refresh_scim_secret``: a new SCIM secret, shown in that
  answer only (the HTTP method is not documented; POST is assumed);
* ``GET …/access/identity_providers/{id}/scim/users`` and ``…/scim/groups``: Cloudflare's lists of the
  SCIM users and groups of one login method (account scope only), paginated, with the SDK's filters;
* the SCIM 2.0 service provider under ``/populations/{id}/scim/v2`` (what ``scim_config.scim_base_url``
  names; on the real service the host is the team domain, here it is this server): ``ServiceProviderConfig``,
  ``Users`` and ``Groups`` with POST, GET (``filter=userName eq "…"`` / ``displayName eq "…"``), PUT,
  PATCH and DELETE. The bearer token is the login method's current SCIM secret; a wrong one, or SCIM
  switched off, answers 401. A duplicate ``userName`` or ``displayName`` answers 409.

State per login method id (kept apart from the login method record): ``{"users": {id: resource},
"groups": {id: resource}}``; ``dump(app)`` shows it under ``/_test/state`` ``scim``, groups with members.
"""

from __future__ import annotations

import copy
import hmac
import re
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from tests.servers._control import App, HTTPError, Request, Response

if TYPE_CHECKING:  # pragma: no cover
    from tests.servers.cloudflare.app import CloudflareApp

PREFIX = "/populations/"
SCIM_ROOT = r"/populations/(?P<idp_id>[^/]+)/scim/v2"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCIM_CONTENT_TYPE = "application/scim+json"
_FILTER = re.compile(r'^\s*(userName|displayName|externalId)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_STAMP = "2026-12-02T05:00:00Z"


def reset(app: "CloudflareApp") -> None:
    app.scim_data = {}


def dump(app: "CloudflareApp") -> dict:
    return copy.deepcopy(getattr(app, "scim_data", {}))


def owns(path: str) -> bool:
    return path.startswith(PREFIX)


def setup_routes(app: "CloudflareApp", acc: str) -> None:
    item = acc + r"/access/identity_providers/(?P<idp_id>[^/]+)"
    app.route("POST", item + r"/refresh_scim_secret", lambda req: refresh_secret(app, req))
    app.route("GET", item + r"/scim/users", lambda req: list_users(app, req))
    app.route("GET", item + r"/scim/groups", lambda req: list_groups(app, req))
    r = app.route
    r("GET", SCIM_ROOT + r"/ServiceProviderConfig", lambda req: service_provider_config())
    r("GET", SCIM_ROOT + r"/Users", lambda req: find(app, req, "users"))
    r("POST", SCIM_ROOT + r"/Users", lambda req: create(app, req, "users"))
    r("GET", SCIM_ROOT + r"/Users/(?P<rid>[^/]+)", lambda req: get(app, req, "users"))
    r("PUT", SCIM_ROOT + r"/Users/(?P<rid>[^/]+)", lambda req: replace(app, req, "users"))
    r("PATCH", SCIM_ROOT + r"/Users/(?P<rid>[^/]+)", lambda req: patch(app, req, "users"))
    r("DELETE", SCIM_ROOT + r"/Users/(?P<rid>[^/]+)", lambda req: delete(app, req, "users"))
    r("GET", SCIM_ROOT + r"/Groups", lambda req: find(app, req, "groups"))
    r("POST", SCIM_ROOT + r"/Groups", lambda req: create(app, req, "groups"))
    r("GET", SCIM_ROOT + r"/Groups/(?P<rid>[^/]+)", lambda req: get(app, req, "groups"))
    r("PUT", SCIM_ROOT + r"/Groups/(?P<rid>[^/]+)", lambda req: replace(app, req, "groups"))
    r("PATCH", SCIM_ROOT + r"/Groups/(?P<rid>[^/]+)", lambda req: patch(app, req, "groups"))
    r("DELETE", SCIM_ROOT + r"/Groups/(?P<rid>[^/]+)", lambda req: delete(app, req, "groups"))


# ---- the account API ----------------------------------------------------------------------------------
def _account_idp(app: "CloudflareApp", req: Request, write: bool = False) -> dict:
    scope = app._scope(req, write=write)  # pylint: disable=protected-access
    if scope[0] != "accounts":
        raise HTTPError(404, app._no_route(req))  # pylint: disable=protected-access
    return app._find(scope, req.params["idp_id"])  # pylint: disable=protected-access


def refresh_secret(app: "CloudflareApp", req: Request) -> Response:
    from tests.servers.cloudflare.app import envelope, invalid  # pylint: disable=import-outside-toplevel
    rec = _account_idp(app, req, write=True)
    app._refuse_read_only(rec)  # pylint: disable=protected-access
    if not rec["scim_config"].get("enabled"):
        raise invalid("SCIM is not enabled for identity provider %s" % rec["id"])
    rec["scim_secret"] = secrets.token_hex(32)
    return Response(200, envelope(app.render_idp(rec, app.account_scope, reveal_scim_secret=True)))


def _store(app: "CloudflareApp", idp_id: str) -> dict:
    return app.scim_data.setdefault(idp_id, {"users": {}, "groups": {}})


def _filtered(req: Request, items: list[dict], singles: dict[str, Any], multis: dict[str, Any]) -> list[dict]:
    for param, get in singles.items():
        value = req.arg(param)
        if value not in (None, ""):
            items = [i for i in items if get(i) == value]
    for param, get in multis.items():
        values = [v for v in req.args(param) if v != ""]
        if values:
            items = [i for i in items if get(i) in values]
    return items


def _primary_email(user: dict) -> str | None:
    emails = user.get("emails") or []
    primary = [e for e in emails if e.get("primary")] or emails
    return primary[0].get("value") if primary else None


def render_user(user: dict) -> dict:
    """Cloudflare's view of a SCIM user (the SDK's AccessUser)."""
    return {"id": user["id"], "active": user.get("active", True), "displayName": user.get("displayName"),
            "emails": copy.deepcopy(user.get("emails") or []), "externalId": user.get("externalId"),
            "meta": copy.deepcopy(user["meta"]), "schemas": [USER_SCHEMA]}


def render_group(group: dict) -> dict:
    """Cloudflare's view of a SCIM group (the SDK's ZeroTrustGroup: no members)."""
    return {"id": group["id"], "displayName": group.get("displayName"), "externalId": group.get("externalId"),
            "meta": copy.deepcopy(group["meta"]), "schemas": [GROUP_SCHEMA]}


def list_users(app: "CloudflareApp", req: Request) -> Response:
    rec = _account_idp(app, req)
    page, per_page = app._page_args(req)  # pylint: disable=protected-access
    users = sorted(_store(app, rec["id"])["users"].values(), key=lambda u: u["seq"])
    users = _filtered(req, users,
                      {"username": lambda u: u.get("userName"), "email": _primary_email,
                       "name": lambda u: u.get("displayName")},
                      {"idp_resource_id": lambda u: u.get("externalId"), "cf_resource_id": lambda u: u["id"]})
    return app._list_response([render_user(u) for u in users], page, per_page)  # pylint: disable=protected-access


def list_groups(app: "CloudflareApp", req: Request) -> Response:
    rec = _account_idp(app, req)
    page, per_page = app._page_args(req)  # pylint: disable=protected-access
    groups = sorted(_store(app, rec["id"])["groups"].values(), key=lambda g: g["seq"])
    groups = _filtered(req, groups, {"name": lambda g: g.get("displayName")},
                       {"idp_resource_id": lambda g: g.get("externalId"), "cf_resource_id": lambda g: g["id"]})
    return app._list_response([render_group(g) for g in groups], page, per_page)  # pylint: disable=protected-access


# ---- the SCIM 2.0 service provider ------------------------------------------------------------------
def scim_error(status: int, detail: str, scim_type: str | None = None) -> HTTPError:
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "detail": detail, "status": str(status)}
    if scim_type:
        body["scimType"] = scim_type
    return HTTPError(status, body)


def serve(app: "CloudflareApp", req: Request) -> Response:
    """Dispatch a request under ``/populations/``: the bearer must be the login method's SCIM secret."""
    match = re.match(r"^/populations/([^/]+)/scim/v2(?:/|$)", req.path)
    if not match:
        raise scim_error(404, "Resource not found")
    rec = next((store[match.group(1)] for store in app.idps.values() if match.group(1) in store), None)
    scheme, _sep, key = (req.header("authorization") or "").partition(" ")
    secret = (rec or {}).get("scim_secret") or ""
    if rec is None or not rec["scim_config"].get("enabled") or scheme.lower() != "bearer" or not secret \
            or not hmac.compare_digest(key.strip().encode("utf-8"), secret.encode("utf-8")):
        raise scim_error(401, "Authorization failure. The authorization header is invalid or missing.")
    resp = App.dispatch(app, req)
    resp.content_type = SCIM_CONTENT_TYPE
    resp.exact_content_type = True
    return resp


def service_provider_config() -> Response:
    return Response(200, {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": 100},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
                                   "description": "The login method's SCIM secret", "primary": True}],
    })


def _body(req: Request) -> dict:
    try:
        body = req.json()
    except HTTPError as exc:
        raise scim_error(400, "Request body is not valid JSON", "invalidSyntax") from exc
    if not isinstance(body, dict):
        raise scim_error(400, "Request body must be a JSON object", "invalidSyntax")
    return body


def _unique_key(kind: str) -> str:
    return "userName" if kind == "users" else "displayName"


def _accept(kind: str, body: dict, rid: str, meta: dict, seq: int) -> dict:
    key = _unique_key(kind)
    if not isinstance(body.get(key), str) or not body[key]:
        raise scim_error(400, "%s is required" % key, "invalidValue")
    resource = dict((k, copy.deepcopy(v)) for k, v in body.items() if k not in ("id", "meta", "schemas"))
    resource.update(id=rid, meta=meta, seq=seq)
    if kind == "users":
        resource.setdefault("active", True)
        if "active" in body and not isinstance(body["active"], bool):
            raise scim_error(400, "active must be a boolean", "invalidValue")
    else:
        resource["members"] = [{"value": m.get("value")} for m in body.get("members") or [] if isinstance(m, dict)]
    return resource


def _conflict(store: dict, kind: str, value: str, rid: str | None) -> None:
    key = _unique_key(kind)
    for other in store.values():
        if other.get(key) == value and other["id"] != rid:
            raise scim_error(409, "A resource with this %s already exists" % key, "uniqueness")


def _render(kind: str, resource: dict, location: str) -> dict:
    out = dict((k, copy.deepcopy(v)) for k, v in resource.items() if k != "seq")
    out["schemas"] = [USER_SCHEMA if kind == "users" else GROUP_SCHEMA]
    out["meta"] = dict(resource["meta"], resourceType="User" if kind == "users" else "Group", location=location)
    return out


def _location(app: "CloudflareApp", req: Request, kind: str, rid: str) -> str:
    return "%s/populations/%s/scim/v2/%s/%s" % (app.base_url, req.params["idp_id"],
                                                "Users" if kind == "users" else "Groups", rid)


def _resource(app: "CloudflareApp", req: Request, kind: str) -> dict:
    found = _store(app, req.params["idp_id"])[kind].get(req.params["rid"])
    if found is None:
        raise scim_error(404, "Resource %s not found" % req.params["rid"])
    return found


def find(app: "CloudflareApp", req: Request, kind: str) -> Response:
    items = sorted(_store(app, req.params["idp_id"])[kind].values(), key=lambda r: r["seq"])
    text = req.arg("filter")
    if text:
        match = _FILTER.match(text)
        if not match:
            raise scim_error(400, "Unsupported filter", "invalidFilter")
        attr = {"username": "userName", "displayname": "displayName", "externalid": "externalId"}[match.group(1).lower()]
        value = match.group(2).replace('\\"', '"')
        items = [i for i in items if str(i.get(attr) or "").lower() == value.lower()]
    resources = [_render(kind, i, _location(app, req, kind, i["id"])) for i in items]
    return Response(200, {"schemas": [LIST_SCHEMA], "totalResults": len(resources), "startIndex": 1,
                          "itemsPerPage": len(resources), "Resources": resources})


def create(app: "CloudflareApp", req: Request, kind: str) -> Response:
    body = _body(req)
    store = _store(app, req.params["idp_id"])[kind]
    rid = str(uuid.uuid4())
    app.scim_seq = getattr(app, "scim_seq", 0) + 1
    resource = _accept(kind, body, rid, {"created": _STAMP, "lastModified": _STAMP}, app.scim_seq)
    _conflict(store, kind, resource[_unique_key(kind)], None)
    store[rid] = resource
    location = _location(app, req, kind, rid)
    return Response(201, _render(kind, resource, location), headers={"Location": location})


def get(app: "CloudflareApp", req: Request, kind: str) -> Response:
    resource = _resource(app, req, kind)
    return Response(200, _render(kind, resource, _location(app, req, kind, resource["id"])))


def replace(app: "CloudflareApp", req: Request, kind: str) -> Response:
    current = _resource(app, req, kind)
    body = _body(req)
    store = _store(app, req.params["idp_id"])[kind]
    resource = _accept(kind, body, current["id"], dict(current["meta"], lastModified=_STAMP), current["seq"])
    _conflict(store, kind, resource[_unique_key(kind)], current["id"])
    store[current["id"]] = resource
    _deprovisioned(app, req, kind, current, resource)
    return Response(200, _render(kind, resource, _location(app, req, kind, resource["id"])))


def _member_values(value: Any) -> list[str]:
    return [m.get("value") for m in (value if isinstance(value, list) else [value]) if isinstance(m, dict)]


def patch(app: "CloudflareApp", req: Request, kind: str) -> Response:
    """RFC 7644 PATCH: ``add``/``remove``/``replace`` of ``members`` or, without a path, of attributes."""
    current = _resource(app, req, kind)
    body = _body(req)
    operations = body.get("Operations")
    if not isinstance(operations, list):
        raise scim_error(400, "Operations is required", "invalidSyntax")
    updated = copy.deepcopy(current)
    for operation in operations:
        op = str((operation or {}).get("op", "")).lower()
        path = (operation or {}).get("path")
        value = (operation or {}).get("value")
        if path == "members" and kind == "groups":
            members = [m["value"] for m in updated["members"]]
            values = _member_values(value)
            if op == "add":
                members += [v for v in values if v not in members]
            elif op == "remove":
                members = [m for m in members if m not in values] if values else []
            elif op == "replace":
                members = values
            else:
                raise scim_error(400, "Unsupported op %r" % op, "invalidSyntax")
            updated["members"] = [{"value": m} for m in members]
        elif path is None and op in ("replace", "add") and isinstance(value, dict):
            for key, item in value.items():
                if key not in ("id", "meta", "schemas"):
                    updated[key] = [{"value": m} for m in _member_values(item)] if key == "members" else copy.deepcopy(item)
        elif isinstance(path, str) and op in ("replace", "add") and "[" not in path:
            updated[path] = copy.deepcopy(value)
        else:
            raise scim_error(400, "Unsupported PATCH operation", "invalidPath")
    store = _store(app, req.params["idp_id"])[kind]
    _conflict(store, kind, updated.get(_unique_key(kind)), current["id"])
    updated["meta"] = dict(current["meta"], lastModified=_STAMP)
    store[current["id"]] = updated
    _deprovisioned(app, req, kind, current, updated)
    return Response(200, _render(kind, updated, _location(app, req, kind, updated["id"])))


def _deprovisioned(app: "CloudflareApp", req: Request, kind: str, before: dict, after: dict | None) -> None:
    """A SCIM user switched to ``active: false`` or deleted: with the login method's
    ``user_deprovision`` Access ends that person's sessions (``seat_deprovision``: frees the seat too)."""
    if kind != "users" or not before.get("active", True) or (after is not None and after.get("active", True)):
        return
    rec = next((store[req.params["idp_id"]] for store in app.idps.values() if req.params["idp_id"] in store), None)
    if rec is not None:
        app.people.scim_deprovision(rec, _primary_email(before) or before.get("userName") or "")


def delete(app: "CloudflareApp", req: Request, kind: str) -> Response:
    resource = _resource(app, req, kind)
    store = _store(app, req.params["idp_id"])
    del store[kind][resource["id"]]
    _deprovisioned(app, req, kind, resource, None)
    if kind == "users":
        for group in store["groups"].values():
            group["members"] = [m for m in group["members"] if m["value"] != resource["id"]]
    return Response(204)
