"""What the test servers' contract checks share; each API's checker keeps only its own tables.

The checkers hold request bodies (and queries) to the vendors' own models: the ``cloudflare`` SDK's request
TypedDicts (``cloudflare/contract.py`` for login methods and the organization, ``cloudflare/access_contract.py``
for Access applications, policies and tags, ``cloudflare/people_contract.py`` for the people endpoints) and the
``authentik-client`` models (``authentik/contract.py``). Here: loading a vendor package once, on first use and
under a lock, so that a server starts without it; strict pydantic validation with one adapter per type; the
``"<where><loc>: <message>"`` form of every error; and the keys a TypedDict does not declare (pydantic drops them
silently, so they are looked for apart).
"""

from __future__ import annotations

import typing
from typing import Any, Callable


def load_once(state: dict, key: str, lock: Any, build: Callable[[], Any]) -> Any:
    """``state[key]``, built by ``build()`` the first time under ``lock``; None when an import of it fails."""
    with lock:
        if key not in state:
            try:
                state[key] = build()
            except ImportError:
                state[key] = None
        return state[key]


def location(parts: Any) -> str:
    """A pydantic error location as a dotted path (``body`` for the whole value)."""
    return ".".join(str(part) for part in parts) or "body"


def pydantic_errors(exc: Any, where: str = "") -> list[str]:
    """The errors of a pydantic ``ValidationError``, each as ``<where><location>: <message>``."""
    return ["%s%s: %s" % (where, location(err.get("loc", ())), err.get("msg", "invalid")) for err in exc.errors()]


def _walk(value: Any) -> Any:
    """Read lazy validators to the end (raises the ValidationError they hold)."""
    if isinstance(value, dict):
        return {k: _walk(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(v) for v in value]
    if hasattr(value, "__next__"):
        return [_walk(v) for v in value]
    return value


def validate(sdk: Any, hint: Any, value: Any, where: str = "", walk: bool = False) -> list[str]:
    """Errors of a strict validation of ``value`` against ``hint`` (``[]`` when valid).

    ``sdk`` carries pydantic's ``TypeAdapter`` and ``ValidationError`` and an ``adapters`` cache. With ``walk``
    the validated value is read to the end: pydantic hands ``Iterable[...]`` fields back as lazy iterators that
    validate only when read.
    """
    key = repr(hint)
    adapter = sdk.adapters.get(key)
    if adapter is None:
        adapter = sdk.adapters[key] = sdk.TypeAdapter(hint)
    try:
        checked = adapter.validate_python(value, strict=True)
        if walk:
            _walk(checked)
    except sdk.ValidationError as exc:
        return pydantic_errors(exc, where)
    return []


def typed_dict_of(hint: Any) -> Any:
    """The TypedDict class behind a hint (or ``None`` if the hint is not a TypedDict)."""
    if isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__total__"):
        return hint
    return None


def unknown_keys(value: Any, cls: Any, where: str, ignore: frozenset = frozenset()) -> list[str]:
    """The keys of ``value`` the TypedDict ``cls`` does not declare (``ignore`` left out)."""
    if not isinstance(value, dict) or cls is None:
        return []
    allowed = set(typing.get_type_hints(cls)) - ignore
    return ["%s: unknown key %r (not in the SDK's %s)" % (where, key, cls.__name__)
            for key in sorted(set(value) - allowed)]


def not_an_object(body: Any) -> list[str]:
    """The error of a body that should be a JSON object and is not (``[]`` when it is one)."""
    if isinstance(body, dict):
        return []
    return ["body: expected a JSON object, got %s" % type(body).__name__]
