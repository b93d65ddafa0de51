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

from tests.servers._contract import load_once, not_an_object, typed_dict_of, unknown_keys, validate

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


def _import_sdk() -> SimpleNamespace:
    # pylint: disable=import-outside-toplevel
    from pydantic import TypeAdapter, ValidationError
    from cloudflare.types.zero_trust import identity_provider_create_params as idp_create
    from cloudflare.types.zero_trust import identity_provider_update_params as idp_update
    from cloudflare.types.zero_trust import organization_create_params as org_create
    from cloudflare.types.zero_trust import organization_update_params as org_update
    return SimpleNamespace(
        TypeAdapter=TypeAdapter, ValidationError=ValidationError,
        idp_create=idp_create, idp_update=idp_update,
        org_create=org_create.OrganizationCreateParams,
        org_update=org_update.OrganizationUpdateParams,
        adapters={},
    )


def load_sdk() -> SimpleNamespace | None:
    """The SDK modules used for the checks, or ``None`` when the SDK is not installed."""
    return load_once(_CACHE, "sdk", _LOCK, _import_sdk)


def refusal(sdk: SimpleNamespace | None, body: Any) -> list[str]:
    """Why a body cannot be checked: no SDK, or a body that is no JSON object (``[]`` when it can)."""
    return [SDK_MISSING] if sdk is None else not_an_object(body)


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
    if refusal(sdk, body):
        return refusal(sdk, body)
    cls = identity_provider_class(body.get("type"), operation)
    hints = typing.get_type_hints(cls)
    errors = unknown_keys(body, cls, "body", PATH_KEYS)
    errors += unknown_keys(body.get("config"), typed_dict_of(hints.get("config")), "config")
    errors += unknown_keys(body.get("scim_config"), typed_dict_of(hints.get("scim_config")), "scim_config")
    errors += validate(sdk, cls, body)
    if body.get("type") == "oidc" and cls.__name__ != "AccessOIDC":  # pragma: no cover - table error
        errors.append("type: oidc body not checked against AccessOIDC")
    return errors


def check_organization(body: Any, operation: str = "update") -> list[str]:
    """Contract errors of a POST (``create``) or PUT (``update``) organization body."""
    sdk = load_sdk()
    if refusal(sdk, body):
        return refusal(sdk, body)
    cls = sdk.org_create if operation == "create" else sdk.org_update
    hints = typing.get_type_hints(cls)
    errors = unknown_keys(body, cls, "body", PATH_KEYS)
    for key in ("login_design", "custom_pages", "mfa_config", "mfa_piv_key_requirements", "service_token_inactivity"):
        if key in hints:
            errors += unknown_keys(body.get(key), typed_dict_of(hints[key]), key)
    errors += validate(sdk, cls, body)
    return errors
