"""What the authentik test server's resource modules share: the API prefix, id generators,
query-argument parsing and the sort order of list answers."""

from __future__ import annotations

import secrets
import string
from typing import Any

API = "/api/v3"
ALPHANUMERIC = string.ascii_letters + string.digits


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


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value).lower(), str(value))
