"""Contract checks for request bodies sent to the Cloudflare test server.

The reference is the official ``cloudflare`` Python SDK (pinned 5.9.0): its request
TypedDicts describe what the real API accepts. The SDK is imported lazily, so the test
server still starts without it; every check then reports ``SDK_MISSING`` instead of
passing silently.

Pydantic's ``TypeAdapter`` drops keys a TypedDict does not declare, so unknown keys are
checked here separately (top level, ``config``, ``scim_config`` and ``login_design``).
Validation runs in strict mode, so ``"true"`` is not accepted for a boolean.
"""

from __future__ import annotations

import threading
import typing
from types import SimpleNamespace
from typing import Any

SDK_MISSING = "cloudflare SDK not installed"

# Identity provider ``type`` -> name of the TypedDict in identity_provider_{create,update}_params.
TYPE_CLASSES = {
    "azureAD": "AzureAD",
    "centrify": "AccessCentrify",
    "facebook": "AccessFacebook",
    "github": "AccessGitHub",
    "google": "AccessGoogle",
    "google-apps": "AccessGoogleApps",
    "linkedin": "AccessLinkedin",
    "oidc": "AccessOIDC",
    "okta": "AccessOkta",
    "onelogin": "AccessOnelogin",
    "pingone": "AccessPingone",
    "saml": "AccessSAML",
    "yandex": "AccessYandex",
    "onetimepin": "AccessOnetimepin",
    "cloudflare": "AccessCloudflare",
}

# Keys of the SDK's TypedDicts that are path parameters, never part of a JSON body.
PATH_KEYS = frozenset(("account_id", "zone_id"))

_LOCK = threading.Lock()
_CACHE: dict[str, Any] = {}


def load_sdk() -> SimpleNamespace | None:
    """The SDK modules used for the checks, or ``None`` when the SDK is not installed."""
    with _LOCK:
        if "sdk" not in _CACHE:
            try:
                # pylint: disable=import-outside-toplevel
                from pydantic import TypeAdapter, ValidationError
                from cloudflare.types.zero_trust import identity_provider_create_params as idp_create
                from cloudflare.types.zero_trust import identity_provider_update_params as idp_update
                from cloudflare.types.zero_trust import organization_create_params as org_create
                from cloudflare.types.zero_trust import organization_update_params as org_update
            except ImportError:
                _CACHE["sdk"] = None
            else:
                _CACHE["sdk"] = SimpleNamespace(
                    TypeAdapter=TypeAdapter, ValidationError=ValidationError,
                    idp_create=idp_create, idp_update=idp_update,
                    org_create=org_create.OrganizationCreateParams,
                    org_update=org_update.OrganizationUpdateParams,
                    adapters={},
                )
        return _CACHE["sdk"]


def _hints(cls: Any) -> dict[str, Any]:
    """Field name -> type of a TypedDict (``Required[...]`` stripped)."""
    return typing.get_type_hints(cls)


def _typed_dict_of(hint: Any) -> Any:
    """The TypedDict class behind a hint (or ``None`` if the hint is not a TypedDict)."""
    if isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__total__"):
        return hint
    return None


def _unknown_keys(value: Any, cls: Any, where: str, ignore: frozenset = frozenset()) -> list[str]:
    if not isinstance(value, dict) or cls is None:
        return []
    allowed = set(_hints(cls)) - ignore
    return ["%s: unknown key %r (not in the SDK's %s)" % (where, key, cls.__name__)
            for key in sorted(set(value) - allowed)]


def _validate(sdk: SimpleNamespace, cls: Any, body: Any) -> list[str]:
    adapter = sdk.adapters.get(cls)
    if adapter is None:
        adapter = sdk.adapters[cls] = sdk.TypeAdapter(cls)
    try:
        adapter.validate_python(body, strict=True)
    except sdk.ValidationError as exc:
        out = []
        for err in exc.errors():
            loc = ".".join(str(part) for part in err.get("loc", ())) or "body"
            out.append("%s: %s" % (loc, err.get("msg", "invalid")))
        return out
    return []


def identity_provider_class(idp_type: Any, operation: str = "create") -> Any:
    """The SDK TypedDict for an identity provider body of ``idp_type`` (AccessOIDC for unknown types)."""
    sdk = load_sdk()
    if sdk is None:
        return None
    module = sdk.idp_create if operation == "create" else sdk.idp_update
    name = TYPE_CLASSES.get(idp_type, "AccessOIDC") if isinstance(idp_type, str) else "AccessOIDC"
    return getattr(module, name)


def check_identity_provider(body: Any, operation: str = "create") -> list[str]:
    """Contract errors of a POST (``create``) or PUT (``update``) identity provider body."""
    sdk = load_sdk()
    if sdk is None:
        return [SDK_MISSING]
    if not isinstance(body, dict):
        return ["body: expected a JSON object, got %s" % type(body).__name__]
    cls = identity_provider_class(body.get("type"), operation)
    hints = _hints(cls)
    errors = _unknown_keys(body, cls, "body", PATH_KEYS)
    errors += _unknown_keys(body.get("config"), _typed_dict_of(hints.get("config")), "config")
    errors += _unknown_keys(body.get("scim_config"), _typed_dict_of(hints.get("scim_config")), "scim_config")
    errors += _validate(sdk, cls, body)
    if body.get("type") == "oidc" and cls.__name__ != "AccessOIDC":  # pragma: no cover - table error
        errors.append("type: oidc body not checked against AccessOIDC")
    return errors


def check_organization(body: Any, operation: str = "update") -> list[str]:
    """Contract errors of a POST (``create``) or PUT (``update``) organization body."""
    sdk = load_sdk()
    if sdk is None:
        return [SDK_MISSING]
    if not isinstance(body, dict):
        return ["body: expected a JSON object, got %s" % type(body).__name__]
    cls = sdk.org_create if operation == "create" else sdk.org_update
    hints = _hints(cls)
    errors = _unknown_keys(body, cls, "body", PATH_KEYS)
    for key in ("login_design", "custom_pages", "mfa_config", "mfa_piv_key_requirements", "service_token_inactivity"):
        if key in hints:
            errors += _unknown_keys(body.get(key), _typed_dict_of(hints[key]), key)
    errors += _validate(sdk, cls, body)
    return errors
