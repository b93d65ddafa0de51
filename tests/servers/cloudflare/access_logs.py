"""Access's request log on the Cloudflare test server: ``GET accounts/<id>/access/logs/access_requests``.

Rows have the SDK 5.9 ``AccessRequest`` shape: ``action``, ``allowed``, ``app_domain``, ``app_uid``,
``connection`` (the login method's type), ``created_at``, ``ip_address``, ``ray_id``, ``user_email``.
The store (``app.people.logs``) also keeps the login method id, application type and country of each
row (for tests); they are not answered.

Query (names as the SDK sends them; see people_contract.py):

* ``since`` / ``until``: ISO 8601, inclusive bounds on ``created_at``;
* ``direction``: ``desc`` (default, newest first) or ``asc``;
* ``email``: substring (case-insensitive) by default; exact with ``email_exact=true`` or ``emailOp=eq``;
  ``emailOp=neq`` excludes (exact with ``email_exact``, else substring); ``emailOp=contains`` is a
  case-sensitive substring, as the SDK's docstring says;
* the SDK (and the API reference) name operators for more filters (``allowedOp``, ``app_uidOp``,
  ``idpOp``, …) but not the filter values themselves: the operators are accepted and change nothing,
  and a value such as ``allowed=false`` or ``app_uid=…`` is a contract error (400), so a client
  filters rows by application or outcome itself;
* ``page`` / ``per_page`` (at most ``max_per_page``), or ``limit`` alone: the page size is ``per_page``,
  else ``limit``, else 25 (UNCONFIRMED); ``result_info`` carries ``page``, ``per_page``, ``count`` and
  ``total_count``; a page past the end is empty;
* ``fields``: a comma-separated list of the row keys to answer.
"""

from __future__ import annotations

import secrets
from tests.servers._control import Request, Response
from tests.servers.cloudflare import access_users, people_contract
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


def list_requests(app, req: Request) -> Response:
    app._scope(req)  # pylint: disable=protected-access
    access_users.require(req, access_users.READ_LOGS)
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
