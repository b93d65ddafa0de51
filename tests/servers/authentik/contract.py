"""Contract check of write bodies against the vendor's generated models.

The models come from the pinned ``authentik-client`` package (2026.8.5) and are imported on
first use, so the server starts without the package; every write then gets the single
contract error ``authentik-client not installed`` instead of passing unchecked.

``check_body(kind, body, partial, profile)`` returns a list of ``"<loc>: <message>"`` strings:

* ``Model.model_validate(body)`` (never ``from_dict``, which turns absent nullable keys into
  explicit nulls) for types, enums, lengths, required keys;
* keys the model does not declare (authentik would silently ignore them, which usually
  means a typo or a field the module thinks exists);
* keys the emulated release does not know yet (or any more), also inside ``redirect_uris``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
import threading
import types
import uuid
from typing import Any

from tests.servers.authentik.versions import LEGACY_WRITABLE, Profile

NOT_INSTALLED = "authentik-client not installed"

MODEL_NAMES = {
    "oauth2": ("OAuth2ProviderRequest", "PatchedOAuth2ProviderRequest"),
    "application": ("ApplicationRequest", "PatchedApplicationRequest"),
    "binding": ("PolicyBindingRequest", "PatchedPolicyBindingRequest"),
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


def _import_models() -> dict[str, Any]:
    """The request model classes, without running the packages' ``__init__`` files.

    ``authentik_client/__init__.py`` imports every generated API class (about 8 s) and
    ``authentik_client/models/__init__.py`` every model (about 2 s); the seven models we
    check take a fraction of that. Throw-away parent modules stand in for the two packages
    while those modules load (unless the real package is already imported); the loaded
    modules stay in ``sys.modules`` and are reused if the real package is imported later.
    """
    if "authentik_client" in sys.modules:
        models = importlib.import_module("authentik_client.models")
        return dict((name, getattr(models, name)) for name in MODEL_MODULES)
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
        for name, module_name in MODEL_MODULES.items():
            module = importlib.import_module("authentik_client.models." + module_name)
            found[name] = getattr(module, name)
        return found
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


def load_models() -> dict[str, Any] | None:
    """``{model name: class}`` plus ``"ValidationError"``; None when the package is missing."""
    with _LOCK:
        if "models" not in _STATE:
            try:
                from pydantic import ValidationError
                found = _import_models()
            except ImportError:
                _STATE["models"] = None
            else:
                found["ValidationError"] = ValidationError
                _STATE["models"] = found
        return _STATE["models"]


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


def _loc(parts: Any) -> str:
    return ".".join(str(p) for p in parts) or "body"


def _legacy_type_errors(key: str, value: Any, kind: str) -> list[str]:
    """Type checks for writable keys that only older releases have (not in the 2026.8.5 models)."""
    if kind == "str":
        return [] if isinstance(value, str) else ["%s: Input should be a valid string" % key]
    if kind == "list[uuid]":
        if not isinstance(value, list):
            return ["%s: Input should be a valid list" % key]
        errors = []
        for index, item in enumerate(value):
            try:
                uuid.UUID(str(item))
            except ValueError:
                errors.append("%s.%d: Input should be a valid UUID" % (key, index))
        return errors
    return []


def check_body(kind: str, body: Any, partial: bool, profile: Profile) -> list[str]:
    """Contract errors of one write body (``[]`` when it honours the contract)."""
    models = load_models()
    if models is None:
        return [NOT_INSTALLED]
    request_name, patched_name = MODEL_NAMES[kind]
    model = models[patched_name if partial else request_name]
    if not isinstance(body, dict):
        return ["body: %s expects a JSON object, got %s" % (model.__name__, type(body).__name__)]

    errors = []
    known_here = set(profile.writable(kind))
    legacy = LEGACY_WRITABLE.get(kind, {})
    for key in body:
        if key in known_here:
            if key in legacy:
                errors.extend(_legacy_type_errors(key, body[key], legacy[key]))
            continue
        if key in model.model_fields or key in legacy:
            errors.append("%s: unknown field for authentik %s (that release ignores it)" % (key, profile.version))
        else:
            errors.append("%s: unknown field (not in %s; authentik ignores it)" % (key, model.__name__))

    if kind == "oauth2" and isinstance(body.get("redirect_uris"), list):
        entry_model = models["RedirectURIRequest"]
        entry_known = set(profile.writable("redirect_uri"))
        for index, entry in enumerate(body["redirect_uris"]):
            if not isinstance(entry, dict):
                continue
            for key in entry:
                if key in entry_known:
                    continue
                if key in entry_model.model_fields:
                    errors.append("redirect_uris.%d.%s: unknown field for authentik %s (that release ignores it)"
                                  % (index, key, profile.version))
                else:
                    errors.append("redirect_uris.%d.%s: unknown field (not in %s; authentik ignores it)"
                                  % (index, key, entry_model.__name__))

    data = dict((k, v) for k, v in body.items() if k in model.model_fields)
    try:
        model.model_validate(data)
    except models["ValidationError"] as exc:
        for item in exc.errors():
            errors.append("%s: %s" % (_loc(item.get("loc", ())), item.get("msg", "invalid")))
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
