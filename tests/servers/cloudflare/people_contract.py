"""Contract checks for the people endpoints (pinned ``cloudflare`` SDK 5.9): Access users, the
access-request log, seats and user revocation.

References (request TypedDicts of the SDK):

* ``zero_trust.access.user_list_params.UserListParams`` (query of ``GET …/access/users``);
* ``zero_trust.access.logs.access_request_list_params.AccessRequestListParams`` (query of
  ``GET …/access/logs/access_requests``; several names go on the wire under an alias, e.g.
  ``allowed_op`` as ``allowedOp``);
* ``zero_trust.organization_revoke_users_params.OrganizationRevokeUsersParams`` (body and query of
  ``POST …/access/organizations/revoke_user``: ``devices`` is the wire name of both ``query_devices``
  and ``body_devices``);
* ``zero_trust.seat_edit_params.Body`` (each item of the ``PATCH …/access/seats`` body).

Query values arrive as strings, so a query is checked by name (the SDK's wire names), by the
choices of its ``Literal`` fields and by the shape of its integers and timestamps. Bodies are
validated strictly with pydantic, unknown keys reported apart. Without the SDK every check reports
``SDK_MISSING``, as the other contract modules do.
"""

from __future__ import annotations

import threading
import typing
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from tests.servers._contract import load_once, not_an_object, validate
from tests.servers.cloudflare.contract import PATH_KEYS, SDK_MISSING

_LOCK = threading.Lock()
_CACHE: dict[str, Any] = {}


def _import_sdk() -> SimpleNamespace:
    # pylint: disable=import-outside-toplevel
    from pydantic import TypeAdapter, ValidationError
    from cloudflare.types.zero_trust import organization_revoke_users_params as revoke
    from cloudflare.types.zero_trust import seat_edit_params as seats
    from cloudflare.types.zero_trust.access import user_list_params as users
    from cloudflare.types.zero_trust.access.logs import access_request_list_params as logs
    return SimpleNamespace(
        TypeAdapter=TypeAdapter, ValidationError=ValidationError,
        users=users.UserListParams, logs=logs.AccessRequestListParams,
        revoke=revoke.OrganizationRevokeUsersParams, seat=seats.Body,
        adapters={},
    )


def load_sdk() -> SimpleNamespace | None:
    return load_once(_CACHE, "sdk", _LOCK, _import_sdk)


def wire_names(cls: Any) -> dict[str, tuple[str, Any]]:
    """Wire name -> (SDK field name, type) of a params TypedDict (path parameters left out)."""
    out: dict[str, tuple[str, Any]] = {}
    for name, hint in typing.get_type_hints(cls, include_extras=True).items():
        if name in PATH_KEYS:
            continue
        wire = name
        inner = hint
        if typing.get_origin(hint) is typing.Annotated:
            inner = typing.get_args(hint)[0]
            for meta in hint.__metadata__:
                alias = getattr(meta, "alias", None)
                if alias:
                    wire = alias
        while typing.get_origin(inner) in (typing.Required, typing.NotRequired):
            inner = typing.get_args(inner)[0]
        out.setdefault(wire, (name, inner))
    return out


def _literal_choices(hint: Any) -> tuple | None:
    if typing.get_origin(hint) is typing.Literal:
        return typing.get_args(hint)
    return None


def check_query(query: dict[str, list[str]], which: str) -> list[str]:
    """Contract errors of the query of ``GET …/access/users`` (``users``) or the log (``logs``)."""
    sdk = load_sdk()
    if sdk is None:
        return [SDK_MISSING]
    cls = sdk.users if which == "users" else sdk.logs
    names = wire_names(cls)
    errors = []
    for wire, values in sorted(query.items()):
        if wire not in names:
            errors.append("query: unknown parameter %r (not in the SDK's %s)" % (wire, cls.__name__))
            continue
        _name, hint = names[wire]
        for value in values:
            choices = _literal_choices(hint)
            if choices is not None and value not in choices:
                errors.append("query.%s: %r is not one of %s" % (wire, value, ", ".join(choices)))
            elif hint is int and not value.lstrip("-").isdigit():
                errors.append("query.%s: %r is not an integer" % (wire, value))
            elif hint is bool and value not in ("true", "false"):
                errors.append("query.%s: %r is not true or false" % (wire, value))
            elif wire in ("since", "until") and parse_time(value) is None:
                errors.append("query.%s: %r is not an ISO 8601 timestamp" % (wire, value))
    return errors


def parse_time(value: str) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or an offset; a date alone counts as midnight UTC), else None."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        from datetime import timezone  # pylint: disable=import-outside-toplevel
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp


def check_revoke(body: Any, query: dict[str, list[str]]) -> list[str]:
    """Contract errors of a ``revoke_user`` request (body and query)."""
    sdk = load_sdk()
    if sdk is None:
        return [SDK_MISSING]
    errors = []
    for wire, values in sorted(query.items()):
        if wire != "devices":
            errors.append("query: unknown parameter %r (not in the SDK's OrganizationRevokeUsersParams)" % wire)
        elif any(v not in ("true", "false") for v in values):
            errors.append("query.devices: not true or false")
    if not_an_object(body):
        return errors + not_an_object(body)
    renamed = {}
    for key, value in body.items():
        if key == "devices":
            renamed["body_devices"] = value
        elif key in ("email", "user_uid", "warp_session_reauth"):
            renamed[key] = value
        else:
            errors.append("body: unknown key %r (not in the SDK's OrganizationRevokeUsersParams)" % key)
    return errors + validate(sdk, sdk.revoke, renamed)


def check_seats(body: Any) -> list[str]:
    """Contract errors of a ``PATCH …/access/seats`` body (a list of seat changes)."""
    sdk = load_sdk()
    if sdk is None:
        return [SDK_MISSING]
    if not isinstance(body, list):
        return ["body: expected a JSON array of seats, got %s" % type(body).__name__]
    allowed = set(typing.get_type_hints(sdk.seat))
    errors = []
    for index, item in enumerate(body):
        if isinstance(item, dict):
            errors += ["body.%d: unknown key %r (not in the SDK's seat_edit_params.Body)" % (index, key)
                       for key in sorted(set(item) - allowed)]
        errors += validate(sdk, sdk.seat, item, "body.%d." % index)
    return errors
