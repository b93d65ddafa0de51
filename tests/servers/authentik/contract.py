"""Contract check of write bodies against the vendor's generated models, per emulated release.

Two sources, both from ``authentik-client`` (the package authentik generates from its OpenAPI
schema for every release):

* the field sets of one client release per authentik series, derived once by
  ``tools/authentik_client_fields.py`` and stored in ``client_fields.json`` next to this file
  (request models: field names, required fields, types, enums, limits). ``field_set(profile)``
  picks the series of the emulated release (the nearest older one for a series not stored);
* the pinned ``authentik-client`` package (2026.8.5, tests/requirements.txt), imported on first
  use, for a full pydantic validation when the emulated release is of that series. The server
  starts without the package; every write then gets the single contract error
  ``authentik-client not installed`` instead of passing unchecked.

``check_body(kind, body, partial, profile)`` returns a list of ``"<loc>: <message>"`` strings:

* keys the release does not know: either no client release has them (a typo, or a field the
  module thinks exists) or the emulated one does not (yet, or any more). A real authentik
  silently ignores unknown keys; the check flags them, so a module never sends a field the
  server's release does not know. Also inside ``redirect_uris`` entries;
* missing required keys, wrong types, values outside an enum, length and range limits: with the
  pinned models (``Model.model_validate``, never ``from_dict``, which turns absent nullable keys
  into explicit nulls) on the pinned series, with the stored field sets on every other series.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import re
import sys
import threading
import types
import uuid
from pathlib import Path
from typing import Any

from tests.servers._contract import load_once, pydantic_errors
from tests.servers.authentik.versions import Profile

NOT_INSTALLED = "authentik-client not installed"

FIELDS_FILE = Path(__file__).with_name("client_fields.json")
PINNED_SERIES = "2026.8"  # the series of the pinned authentik-client (tests/requirements.txt)

MODEL_NAMES = {
    "oauth2": ("OAuth2ProviderRequest", "PatchedOAuth2ProviderRequest"),
    "application": ("ApplicationRequest", "PatchedApplicationRequest"),
    "binding": ("PolicyBindingRequest", "PatchedPolicyBindingRequest"),
    "secret": ("SecretRequest", "PatchedSecretRequest"),
    "scim": ("SCIMProviderRequest", "PatchedSCIMProviderRequest"),  # 2026.11 (derived, no client release yet)
}

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


# class -> module inside authentik_client.models (the generator's file names)
MODEL_MODULES = {
    "OAuth2ProviderRequest": "o_auth2_provider_request",
    "PatchedOAuth2ProviderRequest": "patched_o_auth2_provider_request",
    "ApplicationRequest": "application_request",
    "PatchedApplicationRequest": "patched_application_request",
    "PolicyBindingRequest": "policy_binding_request",
    "PatchedPolicyBindingRequest": "patched_policy_binding_request",
    "RedirectURIRequest": "redirect_uri_request",
}


def _stand_in(name: str, parent_spec: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = list(parent_spec.submodule_search_locations)
    module.__spec__ = parent_spec
    return module


def _import_models(modules: dict[str, str] | None = None) -> dict[str, Any]:
    """The request model classes, without running the packages' ``__init__`` files.

    ``authentik_client/__init__.py`` imports every generated API class (about 8 s) and
    ``authentik_client/models/__init__.py`` every model (about 2 s); the seven models we
    check take a fraction of that. Throw-away parent modules stand in for the two packages
    while those modules load (unless the real package is already imported); the loaded
    modules stay in ``sys.modules`` and are reused if the real package is imported later.
    """
    modules = MODEL_MODULES if modules is None else modules
    if "authentik_client" in sys.modules:
        return dict((name, getattr(importlib.import_module("authentik_client.models." + module_name), name))
                    for name, module_name in modules.items())
    spec = importlib.util.find_spec("authentik_client")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("authentik_client")
    stand_ins = {"authentik_client": _stand_in("authentik_client", spec)}
    sys.modules["authentik_client"] = stand_ins["authentik_client"]
    try:
        models_spec = importlib.util.find_spec("authentik_client.models")
        if models_spec is None or not models_spec.submodule_search_locations:
            raise ImportError("authentik_client.models")
        stand_ins["authentik_client.models"] = _stand_in("authentik_client.models", models_spec)
        sys.modules["authentik_client.models"] = stand_ins["authentik_client.models"]
        found = {}
        for name, module_name in modules.items():
            module = importlib.import_module("authentik_client.models." + module_name)
            found[name] = getattr(module, name)
        return found
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


def _import_pinned() -> dict[str, Any]:
    from pydantic import ValidationError  # pylint: disable=import-outside-toplevel
    found = _import_models()
    found["ValidationError"] = ValidationError
    return found


def load_models() -> dict[str, Any] | None:
    """``{model name: class}`` plus ``"ValidationError"``; None when the package is missing."""
    return load_once(_STATE, "models", _LOCK, _import_pinned)


def import_model(class_name: str, module_name: str) -> Any:
    """One more model class (a test reading a response with the client's model), loaded the same
    way under the same lock, so it never meets the stand-ins of a background ``preload``."""
    with _LOCK:
        return _import_models({class_name: module_name})[class_name]


def preload() -> None:
    """Load the models in the background so the first write does not wait for them."""
    threading.Thread(target=load_models, name="authentik-contract-models", daemon=True).start()


def client_version() -> str | None:
    """Version of the installed authentik-client, None when it is missing."""
    if load_models() is None:
        return None
    try:
        return importlib.metadata.version("authentik-client")
    except importlib.metadata.PackageNotFoundError:
        return None


# ---- stored field sets ---------------------------------------------------------------------------
def _series_key(name: str) -> tuple[int, int]:
    year, month = name.split(".")
    return (int(year), int(month))


def stored_series() -> dict[str, dict]:
    """``{series: {"client", "derived"?, "models"}}`` from client_fields.json (``same_as`` resolved)."""
    with _LOCK:
        if "series" not in _STATE:
            raw = json.loads(FIELDS_FILE.read_text(encoding="utf-8"))["series"]
            resolved = {}
            for name in sorted(raw, key=_series_key):
                entry = dict(raw[name])
                if "same_as" in entry:
                    entry["models"] = resolved[entry.pop("same_as")]["models"]
                resolved[name] = entry
            _STATE["series"] = resolved
        return _STATE["series"]


def series_of(profile: Profile) -> str:
    """The stored series for the emulated release: its own, else the nearest older one."""
    wanted = profile.tuple[:2]
    candidates = [name for name in stored_series() if _series_key(name) <= wanted]
    return max(candidates, key=_series_key) if candidates else min(stored_series(), key=_series_key)


def field_set(profile: Profile) -> dict:
    """``{"series", "client", "derived", "models"}`` the contract of ``profile`` is checked against."""
    name = series_of(profile)
    entry = stored_series()[name]
    return {"series": name, "client": entry.get("client"), "derived": entry.get("derived"),
            "models": entry["models"]}


def _source(fields: dict) -> str:
    if fields["client"]:
        return "authentik-client %s" % fields["client"]
    return "the %s field set derived from authentik's source" % fields["series"]


_PYDANTIC_TYPES = {"str": "a valid string", "bool": "a valid boolean", "int": "a valid integer",
                   "uuid": "a valid UUID", "list": "a valid list", "object": "a valid dictionary"}


def _value_errors(spec: dict, value: Any, loc: str, models: dict) -> list[str]:
    """Type, enum and limit errors of one value against a stored field description."""
    if value is None:
        return [] if spec.get("nullable") else ["%s: Input should not be None" % loc]
    kind = spec.get("type", "any")
    if kind.startswith("model:"):
        if not isinstance(value, dict):
            return ["%s: Input should be a valid dictionary or instance of %s" % (loc, kind[6:])]
        return _model_errors(kind[6:], value, False, models, loc + ".")
    ok = {
        "str": isinstance(value, str),
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "list": isinstance(value, list),
        "object": isinstance(value, dict),
        "any": True,
    }.get(kind)
    if kind == "uuid":
        try:
            ok = isinstance(value, str) and bool(uuid.UUID(value))
        except ValueError:
            ok = False
    if not ok:
        return ["%s: Input should be %s" % (loc, _PYDANTIC_TYPES.get(kind, kind))]
    errors = []
    if kind == "list":
        for index, item in enumerate(value):
            errors.extend(_value_errors(spec.get("items") or {}, item, "%s.%d" % (loc, index), models))
    if "enum" in spec and value not in spec["enum"]:
        errors.append("%s: Input should be %s" % (loc, " or ".join(repr(v) for v in spec["enum"])))
    if isinstance(value, str):
        if "min_length" in spec and len(value) < spec["min_length"]:
            errors.append("%s: String should have at least %d characters" % (loc, spec["min_length"]))
        if "max_length" in spec and len(value) > spec["max_length"]:
            errors.append("%s: String should have at most %d characters" % (loc, spec["max_length"]))
        if "pattern" in spec and not re.search(spec["pattern"], value):
            errors.append("%s: String should match pattern %r" % (loc, spec["pattern"]))
    if kind == "int":
        if "ge" in spec and value < spec["ge"]:
            errors.append("%s: Input should be greater than or equal to %d" % (loc, spec["ge"]))
        if "le" in spec and value > spec["le"]:
            errors.append("%s: Input should be less than or equal to %d" % (loc, spec["le"]))
    return errors


def _model_errors(model: str, body: dict, partial: bool, models: dict, prefix: str) -> list[str]:
    """Required-field and per-value errors of ``body`` against a stored model (unknown keys apart)."""
    fields = models.get(model) or {}
    errors = []
    if not partial:
        for name, spec in sorted(fields.items()):
            if spec.get("required") and name not in body:
                errors.append("%s%s: Field required" % (prefix, name))
    for key, value in body.items():
        if key in fields:
            errors.extend(_value_errors(fields[key], value, prefix + key, models))
    return errors


def _known_in_any_series(model: str) -> set[str]:
    names: set[str] = set()
    for entry in stored_series().values():
        names.update(entry["models"].get(model) or {})
    return names


def _unknown_keys(keys: Any, known: set[str], pinned: set[str], model: str, loc: str, profile: Profile,
                  fields: dict) -> list[str]:
    errors = []
    elsewhere = _known_in_any_series(model) | pinned
    for key in keys:
        if key in known:
            continue
        if key in elsewhere:
            errors.append("%s%s: unknown field for authentik %s (%s has no such field; that release ignores it)"
                          % (loc, key, profile.version, _source(fields)))
        else:
            errors.append("%s%s: unknown field (not in %s; authentik ignores it)" % (loc, key, model))
    return errors


def check_body(kind: str, body: Any, partial: bool, profile: Profile) -> list[str]:
    """Contract errors of one write body (``[]`` when it honours the contract)."""
    models = load_models()
    if models is None:
        return [NOT_INSTALLED]
    request_name, patched_name = MODEL_NAMES[kind]
    model_name = patched_name if partial else request_name
    if not isinstance(body, dict):
        return ["body: %s expects a JSON object, got %s" % (model_name, type(body).__name__)]

    fields = field_set(profile)
    stored = fields["models"]
    pinned = models.get(model_name)
    pinned_fields = set(pinned.model_fields) if pinned is not None else set()
    known = set(stored.get(model_name) or {})
    if kind in ("oauth2", "application", "binding", "scim"):
        known &= set(profile.writable(kind))  # the emulated server must apply it too
    errors = _unknown_keys(body, known, pinned_fields, model_name, "", profile, fields)

    if kind == "oauth2" and isinstance(body.get("redirect_uris"), list):
        entry_known = set(stored.get("RedirectURIRequest") or {}) & set(profile.writable("redirect_uri"))
        entry_pinned = set(models["RedirectURIRequest"].model_fields)
        for index, entry in enumerate(body["redirect_uris"]):
            if isinstance(entry, dict):
                errors.extend(_unknown_keys(entry, entry_known, entry_pinned, "RedirectURIRequest",
                                            "redirect_uris.%d." % index, profile, fields))

    if fields["series"] == PINNED_SERIES and pinned is not None:
        data = dict((k, v) for k, v in body.items() if k in pinned.model_fields)
        try:
            pinned.model_validate(data)
        except models["ValidationError"] as exc:
            errors.extend(pydantic_errors(exc))
    else:
        data = dict((k, v) for k, v in body.items() if k in known)
        errors.extend(_model_errors(model_name, data, partial, stored, ""))
    return errors


def error_body(errors: list[str]) -> dict[str, list[str]]:
    """authentik's field-error shape for contract errors: ``{field: ["contract: <error>", ...]}``."""
    body: dict[str, list[str]] = {}
    for error in errors:
        loc, sep, _message = error.partition(": ")
        field = loc.split(".", 1)[0] if sep else "non_field_errors"
        if field == "body":
            field = "non_field_errors"
        body.setdefault(field, []).append("contract: " + error)
    return body
