"""Contract checks for Access application and reusable policy bodies (pinned ``cloudflare`` SDK 5.9).

The references are the SDK's request TypedDicts: ``application_create_params.SelfHostedApplication``
and ``application_update_params.SelfHostedApplication`` for a self-hosted application, and
``policy_create_params.PolicyCreateParams`` / ``policy_update_params.PolicyUpdateParams`` for a
reusable policy. As for login methods (``contract.py``), unknown keys are checked apart (pydantic
drops them), validation is strict, and without the SDK every check reports ``SDK_MISSING``.

``Iterable[...]`` fields come back from pydantic as lazy iterators that validate only when read,
so the validated value is walked to the end (``validate(..., walk=True)`` of ``tests/servers/_contract.py``).
"""

from __future__ import annotations

import threading
import typing
from types import SimpleNamespace
from typing import Any

from tests.servers._contract import load_once, typed_dict_of, unknown_keys, validate
from tests.servers.cloudflare.contract import PATH_KEYS, refusal

_LOCK = threading.Lock()
_CACHE: dict[str, Any] = {}


def _import_sdk() -> SimpleNamespace:
    # pylint: disable=import-outside-toplevel
    from pydantic import TypeAdapter, ValidationError
    from cloudflare.types.zero_trust.access import application_create_params as app_create
    from cloudflare.types.zero_trust.access import application_update_params as app_update
    from cloudflare.types.zero_trust.access import policy_create_params as pol_create
    from cloudflare.types.zero_trust.access import policy_update_params as pol_update
    from cloudflare.types.zero_trust.access import tag_create_params
    from cloudflare.types.zero_trust.access.applications import access_rule_param
    return SimpleNamespace(
        TypeAdapter=TypeAdapter, ValidationError=ValidationError,
        app={"create": app_create.SelfHostedApplication, "update": app_update.SelfHostedApplication},
        policy={"create": pol_create.PolicyCreateParams, "update": pol_update.PolicyUpdateParams},
        rule=access_rule_param.AccessRuleParam,
        tag=tag_create_params.TagCreateParams,
        adapters={},
    )


def load_sdk() -> SimpleNamespace | None:
    return load_once(_CACHE, "sdk", _LOCK, _import_sdk)


def rule_kinds() -> set[str]:
    """The rule kinds of the SDK's ``AccessRuleParam`` union (its members' one required key)."""
    sdk = load_sdk()
    kinds = set()
    for member in typing.get_args(sdk.rule):
        kinds.update(typing.get_type_hints(member))
    return kinds


def check_rules(rules: Any, where: str) -> list[str]:
    sdk = load_sdk()
    if not isinstance(rules, list):
        return ["%s: expected a list of rules" % where]
    errors = []
    kinds = rule_kinds()
    for index, rule in enumerate(rules):
        spot = "%s.%d" % (where, index)
        if not isinstance(rule, dict) or len(rule) != 1:
            errors.append("%s: a rule is an object with exactly one key" % spot)
            continue
        kind = next(iter(rule))
        if kind not in kinds:
            errors.append("%s: unknown rule %r (not in the SDK's AccessRuleParam)" % (spot, kind))
            continue
        for member in typing.get_args(sdk.rule):
            hints = typing.get_type_hints(member)
            if kind in hints:
                errors += unknown_keys(rule[kind], typed_dict_of(hints[kind]), spot + "." + kind)
                errors += validate(sdk, member, rule, spot + ".", walk=True)
                break
    return errors


def check_application(body: Any, operation: str = "create") -> list[str]:
    """Contract errors of a POST (``create``) or PUT (``update``) self-hosted application body."""
    sdk = load_sdk()
    if refusal(sdk, body):
        return refusal(sdk, body)
    cls = sdk.app[operation]
    errors = unknown_keys(body, cls, "body", PATH_KEYS)
    errors += validate(sdk, cls, body, walk=True)
    for index, link in enumerate(body.get("policies") or []):
        if isinstance(link, dict):
            allowed = {"id", "precedence", "session_duration"}
            errors += ["policies.%d: unknown key %r in a policy link" % (index, key) for key in sorted(set(link) - allowed)]
    return errors


def check_policy(body: Any, operation: str = "create") -> list[str]:
    """Contract errors of a POST (``create``) or PUT (``update``) reusable policy body."""
    sdk = load_sdk()
    if refusal(sdk, body):
        return refusal(sdk, body)
    cls = sdk.policy[operation]
    errors = unknown_keys(body, cls, "body", PATH_KEYS)
    # account_id is a path parameter the TypedDict marks as required; the body never carries it.
    # The rule lists are checked one rule at a time below, against the one SDK rule type each names
    # (the union's own errors would name every member).
    shell = dict(body, account_id="path")
    for key in ("include", "exclude", "require"):
        if isinstance(shell.get(key), list):
            shell[key] = []
    errors += validate(sdk, cls, shell, walk=True)
    for key in ("include", "exclude", "require"):
        if key in body:
            errors += check_rules(body[key], key)
    return errors


def check_tag(body: Any) -> list[str]:
    """Contract errors of a POST or PUT Access tag body (``TagCreateParams``: ``name``)."""
    sdk = load_sdk()
    if refusal(sdk, body):
        return refusal(sdk, body)
    errors = unknown_keys(body, sdk.tag, "body", PATH_KEYS)
    errors += validate(sdk, sdk.tag, dict(body, account_id="path"), walk=True)
    return errors
