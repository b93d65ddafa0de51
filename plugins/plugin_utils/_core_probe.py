# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This file is private to the idpbridge.authentik_cloudflare collection and may change at any
# time without notice. Do not import it from other collections.

"""What the in-worker path (``_on_controller``) needs from ansible-core, probed once, at import.

The in-worker path leans on a few ansible-core internals: the argument-spec validator's result
attributes (``_no_log_values``, ``_deprecations``, ``_warnings``), the keyword ``raw_environment_out``
of ``ActionBase._compute_environment_string``, the module-argument encoder. A new
ansible-core may change any of them. Each is looked up and, where it can be, exercised here on a small
argument spec; ``PROBLEM`` then says why the in-worker path cannot be used on this controller (None when
it can). With a problem every task runs as a normal module: the in-worker path can only make a run
faster, never break it.

``validate`` is the one place the stand-in for ``AnsibleModule`` validates arguments: it returns the
warnings and deprecations of the validation as data (dicts as a module result carries them), so that
they reach the user the same way on every ansible-core and on both paths. ``mask_values`` cleans a
result of ``no_log`` values as ``AnsibleModule`` did up to ansible-core 2.21 (whose ``remove_values`` is
deprecated from 2.22 on); ``register_secrets`` hands them to the controller's own masking where the
ansible-core has it (2.22 and later), as ``AnsibleModule`` does there.
"""

from __future__ import annotations

import inspect
import sys

PROBLEM = None

try:
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible.module_utils.errors import UnsupportedError
    from ansible.module_utils.common.json import Direction, get_module_encoder
    from ansible.plugins.action import ActionBase
except Exception as exc:  # pylint: disable=broad-except  # any failure only turns the in-worker path off
    PROBLEM = "ansible-core %s lacks what it needs (%s: %s)" % (
        getattr(sys.modules.get("ansible.release"), "__version__", "?"), type(exc).__name__, exc)
    ArgumentSpecValidator = UnsupportedError = Direction = get_module_encoder = ActionBase = None

try:  # ansible-core 2.22 and later: secrets registered in the worker are masked in all of the controller's output
    from ansible.module_utils.secrets import register_secrets as _register_secrets
except ImportError:
    _register_secrets = None

COLLECTION = "idpbridge.authentik_cloudflare"
PROBE_SECRET = "in-worker-probe-value"


class Validated:
    """One validation: ``parameters``, ``no_log_values``, ``warnings`` (strings), ``deprecations`` (dicts
    with ``msg``, ``version``, ``date``, ``collection_name``) and ``error`` (a message, or None)."""

    def __init__(self, parameters, no_log_values, warnings, deprecations, error):
        self.parameters = parameters
        self.no_log_values = no_log_values
        self.warnings = warnings
        self.deprecations = deprecations
        self.error = error


def validate(argument_spec, params, name, mutually_exclusive=None, required_together=None, required_one_of=None,
             required_if=None, required_by=None):
    """Validate ``params`` as ``AnsibleModule`` does for the module ``name``, with the same messages."""
    validator = ArgumentSpecValidator(argument_spec, mutually_exclusive, required_together, required_one_of,
                                      required_if, required_by)
    result = validator.validate(params)
    warnings = ["Both option %s and its alias %s are set." % (w["option"], w["alias"]) for w in result._warnings]
    deprecations = [dict(msg=d["msg"], version=d.get("version"), date=d.get("date"),
                         collection_name=d.get("collection_name")) for d in result._deprecations]
    error = None
    if result.errors.errors:
        error = result.errors.msg
        if isinstance(result.errors[0], UnsupportedError):
            error = "Unsupported parameters for (%s) module: %s" % (name, error)
    return Validated(result.validated_parameters, set(result._no_log_values), warnings, deprecations, error)


MASK = "********"
WHOLE_VALUE = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def mask_values(value, secrets):
    """``value`` (JSON-like data) with every secret masked: a string or number that is one becomes
    WHOLE_VALUE, one that holds one has it replaced by MASK. Keys, booleans and None are kept."""
    secrets = sorted(set(str(s) for s in secrets if s is not None and str(s)), key=len, reverse=True)
    if not secrets:
        return value

    def clean(item):
        if item is None or isinstance(item, bool):
            return item
        if isinstance(item, dict):
            return dict((key, clean(one)) for key, one in item.items())
        if isinstance(item, (list, tuple, set, frozenset)):
            return [clean(one) for one in item]
        if isinstance(item, (int, float)):
            return WHOLE_VALUE if any(secret in str(item) for secret in secrets) else item
        text = item if isinstance(item, str) else str(item)
        if text in secrets:
            return WHOLE_VALUE
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text

    return clean(value)


def register_secrets(values):
    """Hand ``no_log`` values to the controller's masking, on the ansible-core versions that have it."""
    values = [str(v) for v in values if v is not None and str(v).strip()]
    if _register_secrets is not None and values:
        _register_secrets(values)


def args_encoder():
    """The JSON encoder class a module run would use for the task's arguments."""
    return get_module_encoder("legacy", Direction.CONTROLLER_TO_MODULE)


def _probe():
    """Why the in-worker path cannot run on this controller, or None."""
    if sys.platform == "darwin":
        # requests (through the system's network frameworks) in a process forked from a threaded one can crash
        # there (Objective-C fork safety); a module's own process is started fresh.
        return "macOS: a forked worker process cannot use requests safely"
    if PROBLEM:
        return PROBLEM
    spec = {
        "secret": {"type": "str", "no_log": True},
        "name": {"type": "str", "aliases": ["old_name"],
                 "deprecated_aliases": [{"name": "old_name", "version": "99.0.0", "collection_name": COLLECTION}]},
        "gone": {"type": "str", "removed_in_version": "99.0.0", "removed_from_collection": COLLECTION},
        "both": {"type": "str", "aliases": ["alias"]},
        "flag": {"type": "bool", "default": False},
    }
    checks = []
    try:
        done = validate(spec, {"secret": PROBE_SECRET, "old_name": "n", "gone": "g", "both": "b", "alias": "b"}, "probe")
        checks = [
            ("validated parameters", done.parameters.get("name") == "n" and done.parameters.get("flag") is False),
            ("no_log values", PROBE_SECRET in done.no_log_values),
            ("deprecations", len(done.deprecations) == 2 and all(d["msg"] for d in done.deprecations)),
            ("warnings", len(done.warnings) == 1),
            ("errors", done.error is None),
            ("unsupported parameters", (validate(spec, {"nope": 1}, "probe").error or "").startswith("Unsupported parameters")),
            ("the argument encoder", args_encoder() is not None),
            ("ActionBase._compute_environment_string(raw_environment_out)",
             "raw_environment_out" in inspect.signature(ActionBase._compute_environment_string).parameters),
        ]
    except Exception as exc:  # pylint: disable=broad-except
        return "the argument validation of this ansible-core differs (%s: %s)" % (type(exc).__name__, exc)
    failed = [what for what, ok in checks if not ok]
    if failed:
        return "this ansible-core differs in: %s" % ", ".join(failed)
    return None


PROBLEM = _probe()
