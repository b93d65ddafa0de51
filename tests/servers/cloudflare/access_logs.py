"""Access's request log on the Cloudflare test server: ``GET accounts/<id>/access/logs/access_requests``.

Rows have the SDK 5.9 ``AccessRequest`` shape: ``action``, ``allowed``, ``app_domain``, ``app_uid``,
``connection`` (the login method's type), ``created_at``, ``ip_address``, ``ray_id``, ``user_email``.
The store (``app.people.logs``) also keeps the login method id, application type and country of each
row, for the filters; they are not answered.

Query (names as the SDK sends them; see people_contract.py):

* ``since`` / ``until``: ISO 8601, inclusive bounds on ``created_at``;
* ``direction``: ``desc`` (default, newest first) or ``asc``;
* ``email``: substring (case-insensitive) by default; exact with ``email_exact=true`` or ``emailOp=eq``;
  ``emailOp=neq`` excludes (exact with ``email_exact``, else substring); ``emailOp=contains`` is a
  case-sensitive substring, as the SDK's docstring says;
* ``allowed``, ``app_uid``, ``app_type``, ``country_code``, ``idp`` (login method id or type),
  ``non_identity``, ``ray_id`` with their ``…Op`` (``eq`` default, ``neq``);
* ``page`` / ``per_page`` (at most ``max_per_page``), or ``limit`` alone: the page size is ``per_page``,
  else ``limit``, else 25 (UNCONFIRMED); ``result_info`` carries ``page``, ``per_page``, ``count`` and
  ``total_count``; a page past the end is empty;
* ``fields``: a comma-separated list of the row keys to answer.
"""

from __future__ import annotations

import secrets
from typing import Any

from tests.servers._control import Request, Response
from tests.servers.cloudflare import people_contract
from tests.servers.cloudflare.app import ACC, envelope, invalid

DEFAULT_PAGE = 25
ROW_KEYS = ("action", "allowed", "app_domain", "app_uid", "connection", "created_at", "ip_address", "ray_id",
            "user_email")


def new_ray_id() -> str:
    return secrets.token_hex(8)


def add_row(app, *, email: str, allowed: bool, app_rec: dict | None, idp: dict | None, at: str,
            ip: str = "198.51.100.7", country: str = "XX", ray_id: str | None = None, action: str = "login") -> dict:
    """Append one row to the log (``at`` is an ISO 8601 UTC time)."""
    row = {
        "action": action, "allowed": bool(allowed), "app_domain": (app_rec or {}).get("domain"),
        "app_uid": (app_rec or {}).get("id"), "connection": (idp or {}).get("type") or "",
        "created_at": at, "ip_address": ip, "ray_id": ray_id or new_ray_id(), "user_email": email,
        # kept for the filters, not answered
        "_idp_id": (idp or {}).get("id"), "_app_type": (app_rec or {}).get("type"), "_country": country,
    }
    app.people.logs.append(row)
    return row


def _op(req: Request, name: str) -> str:
    return req.arg(name + "Op") or req.arg(name + "_op") or "eq"


def _text_filter(rows: list[dict], req: Request, param: str, get: Any) -> list[dict]:
    value = req.arg(param)
    if value in (None, ""):
        return rows
    values = [v.lower() for v in value.split(",")] if param != "ray_id" else [value.lower()]
    keep = _op(req, param) != "neq"
    return [r for r in rows if any(str(v).lower() in values for v in get(r)) == keep]


def list_requests(app, req: Request) -> Response:
    app._scope(req)  # pylint: disable=protected-access
    app.people._contract(req, people_contract.check_query(req.query, "logs"))  # pylint: disable=protected-access
    rows = list(app.people.logs)
    for bound, keep in (("since", lambda r, t: people_contract.parse_time(r["created_at"]) >= t),
                        ("until", lambda r, t: people_contract.parse_time(r["created_at"]) <= t)):
        raw = req.arg(bound)
        if raw not in (None, ""):
            stamp = people_contract.parse_time(raw)
            if stamp is None:
                raise invalid("%s must be an ISO 8601 timestamp" % bound)
            rows = [r for r in rows if keep(r, stamp)]
    rows = _email_filter(rows, req)
    allowed = req.arg("allowed")
    if allowed not in (None, ""):
        want = allowed.lower() in ("true", "1")
        keep = _op(req, "allowed") != "neq"
        rows = [r for r in rows if (r["allowed"] == want) == keep]
    rows = _text_filter(rows, req, "app_uid", lambda r: [r["app_uid"]])
    rows = _text_filter(rows, req, "app_type", lambda r: [r["_app_type"]])
    rows = _text_filter(rows, req, "country_code", lambda r: [r["_country"]])
    rows = _text_filter(rows, req, "idp", lambda r: [r["_idp_id"], r["connection"]])
    rows = _text_filter(rows, req, "ray_id", lambda r: [r["ray_id"]])
    non_identity = req.arg("non_identity")
    if non_identity not in (None, ""):
        want = non_identity.lower() in ("true", "1")
        keep = _op(req, "non_identity") != "neq"
        rows = [r for r in rows if ((r["action"] == "non_identity") == want) == keep]
    direction = req.arg("direction") or "desc"
    rows.sort(key=lambda r: r["created_at"], reverse=(direction != "asc"))
    page, per_page = _page(app, req)
    start = (page - 1) * per_page
    chunk = rows[start:start + per_page]
    fields = [f.strip() for f in (req.arg("fields") or "").split(",") if f.strip()] or list(ROW_KEYS)
    result = [{k: r[k] for k in fields if k in ROW_KEYS} for r in chunk]
    info = {"page": page, "per_page": per_page, "count": len(result), "total_count": len(rows)}
    return Response(200, envelope(result, result_info=info))


def _email_filter(rows: list[dict], req: Request) -> list[dict]:
    email = req.arg("email")
    if email in (None, ""):
        return rows
    exact = (req.arg("email_exact") or "").lower() == "true"
    op = req.arg("emailOp") or req.arg("email_op") or ""
    if exact or op == "eq":
        match = [r for r in rows if r["user_email"].lower() == email.lower()]
    elif op == "contains":
        match = [r for r in rows if email in r["user_email"]]
    else:
        match = [r for r in rows if email.lower() in r["user_email"].lower()]
    if op == "neq":
        ids = set(id(r) for r in match)
        return [r for r in rows if id(r) not in ids]
    return match


def _page(app, req: Request) -> tuple[int, int]:
    values = {}
    for name in ("page", "per_page", "limit"):
        raw = req.arg(name)
        if raw in (None, ""):
            continue
        try:
            values[name] = int(raw)
        except ValueError:
            values[name] = 0
        if values[name] < 1:
            raise invalid("%s must be a positive integer" % name)
    per_page = values.get("per_page") or values.get("limit") or DEFAULT_PAGE
    if per_page > app.settings["max_per_page"]:
        raise invalid("per_page must be at most %d" % app.settings["max_per_page"])
    return values.get("page", 1), per_page


def register(app) -> None:
    app.route("GET", ACC + r"/access/logs/access_requests", lambda req: list_requests(app, req))
