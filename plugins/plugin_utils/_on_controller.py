# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This file is private to the idpbridge.authentik_cloudflare collection and may change at any
# time without notice. Do not import it from other collections.

"""Run the collection's modules inside Ansible's worker process when they would run on the controller anyway.

Every module of the collection talks only to HTTP APIs. Almost always it runs on the controller
(``hosts: localhost``, or ``delegate_to: localhost`` with a local connection), with the controller's
own Python. Run as a module, each task then pays a new Python process, the module's packaging and
the imports of ``requests`` and ``AnsibleModule`` (about 0.3-0.45 s a task, more than most of the
requests it sends). Each module therefore has an action plugin of its name that, in exactly that case,
calls the module's ``main()`` in the worker process Ansible already forked for the task, with
``ControllerModule`` in place of ``AnsibleModule``. The action plugin imports the module when Ansible
loads the plugin in its main process, so ``requests`` and the collection's code are imported once a
run, not once a task.

``ControllerModule`` keeps what the modules rely on from ``AnsibleModule``: the same argument
validation (``ModuleArgumentSpecValidator``, so the same messages, environment fallbacks and
``no_log`` values), ``check_mode``, ``_diff``, ``no_log``, ``warn``, and results cleaned of every
``no_log`` value exactly as ``AnsibleModule`` cleans them.

The module runs as a normal module (a process of its own, on the target) when any of these holds:
the connection is not local, ``become`` is on, the task is ``async``, the interpreter for the host
is not the controller's Python, ``requests`` is missing in the controller's Python, or the variable
``idpbridge_on_controller`` (or the environment variable ``IDPBRIDGE_ON_CONTROLLER``) is false.

The in-worker path can only make a run faster, never break it. It also runs as a normal module, with
one message at ``-v`` saying why, when the ansible-core internals it needs differ from what it expects
(probed once, at import, in ``_core_probe``), on macOS, or when anything fails unexpectedly before the
module's own code runs (up to and including the validation of its arguments).
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import sys
import traceback

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _http
from ansible_collections.idpbridge.authentik_cloudflare.plugins.plugin_utils import _core_probe

display = Display()

SWITCH_VARIABLE = "idpbridge_on_controller"
# In a role's task, the variable <role name>_option_variables maps the options the role's module tasks set to the
# role's own variables, so that a module's "(option X)" in a failure message also names the role variable to fix;
# <role name>_failure_note, a sentence the role adds to a task's failure message (what the failure leaves behind
# and how to mend it).
ROLE_VARIABLES = "%s_option_variables"
FAILURE_NOTE = "%s_failure_note"
OPTION_IN_MESSAGE = re.compile(r"\(option ([a-z_]+(?:, [a-z]+)?)\)")
SWITCH_ENV = "IDPBRIDGE_ON_CONTROLLER"
LOCAL_CONNECTIONS = frozenset(("local", "ansible.builtin.local", "ansible.legacy.local"))


class ModuleDone(Exception):
    """Raised by ControllerModule.exit_json/fail_json: the module's result, cleaned."""

    def __init__(self, result):
        super().__init__("module finished")
        self.result = result


class NotHere(BaseException):
    """The in-worker path failed before the module's own code ran: run the task as a module instead.

    A ``BaseException``, so that no ``except Exception`` in a module can take it for its own error.
    """

    def __init__(self, why):
        super().__init__(why)
        self.why = why


class ControllerModule:
    """The part of AnsibleModule the collection's modules use, for a run inside the worker process.

    ``context`` is set by the action plugin before the module's ``main()`` runs: the arguments, the
    task's check mode, diff, no_log and the module's name.
    """

    context = None
    current = None

    def __init__(self, argument_spec, bypass_checks=False, no_log=False, mutually_exclusive=None,
                 required_together=None, required_one_of=None, add_file_common_args=False,
                 supports_check_mode=False, required_if=None, required_by=None):
        ctx = ControllerModule.context
        ControllerModule.current = self
        self.argument_spec = argument_spec
        self.supports_check_mode = supports_check_mode
        self.check_mode = ctx["check_mode"]
        self._diff = ctx["diff"]
        self.no_log = ctx["no_log"]
        self._name = ctx["name"]
        self._inject_invocation = ctx["inject_invocation"]
        self._warnings = []
        self._deprecations = []
        self.no_log_values = set()
        self.params = dict(ctx["args"])
        # The validation's warnings and deprecations (deprecated aliases, removed options) come back as data and
        # go into the result, which Ansible shows as it shows a module's: the same on every ansible-core.
        try:
            validation = _core_probe.validate(argument_spec, self.params, self._name, mutually_exclusive,
                                              required_together, required_one_of, required_if, required_by)
        except Exception as exc:  # pylint: disable=broad-except  # nothing of the module has run yet
            raise NotHere("the argument validation failed unexpectedly (%s)" % type(exc).__name__)
        self.params.update(validation.parameters)
        self.no_log_values.update(validation.no_log_values)
        self._warnings.extend(validation.warnings)
        self._deprecations.extend(validation.deprecations)
        if validation.error:
            self.fail_json(msg=validation.error)
        if self.check_mode and not supports_check_mode:
            self.exit_json(skipped=True, msg="module (%s) does not support check mode" % self._name)

    def warn(self, warning, **kwargs):
        self._warnings.append(str(warning))

    def deprecate(self, msg, version=None, date=None, collection_name=None, **kwargs):
        """As ``AnsibleModule.deprecate``: shown by Ansible as a deprecation warning of the task."""
        self._deprecations.append(dict(msg=str(msg), version=version, date=date, collection_name=collection_name))

    def _finish(self, result):
        if self._inject_invocation and "invocation" not in result:
            result["invocation"] = {"module_args": self.params}
        if self._warnings:
            result["warnings"] = list(self._warnings)
        if self._deprecations:
            result["deprecations"] = [dict(d) for d in self._deprecations]
        # as AnsibleModule does: mask every no_log value anywhere in the result, keeping bools and None
        kept = dict((k, v) for k, v in result.items() if v is None or isinstance(v, bool))
        _core_probe.register_secrets(self.no_log_values)
        result = _core_probe.mask_values(result, self.no_log_values)
        result.update(kept)
        raise ModuleDone(result)

    def exit_json(self, **kwargs):
        self._finish(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.pop("exception", None)
        kwargs.update(failed=True, msg=str(msg))
        self._finish(kwargs)


def run_module_here(module, name, args, check_mode, diff, no_log, inject_invocation, environment):
    """Run ``module.main()`` in this process and return its result, as a module run would have.

    ``module`` is the module's Python module, ``args`` the task's arguments (plain JSON types) and
    ``environment`` the task's environment (applied for the run, then restored). Raises ``NotHere`` when
    the stand-in failed before the module's own code ran.
    """
    ControllerModule.context = dict(args=args, check_mode=check_mode, diff=diff, no_log=no_log, name=name,
                                    inject_invocation=inject_invocation)
    saved_env = dict((k, os.environ.get(k)) for k in environment)
    saved_factory = module.AnsibleModule
    saved_streams = sys.stdout, sys.stderr
    module.AnsibleModule = ControllerModule
    os.environ.update(environment)
    # What a module process writes (Python warnings of urllib3, say) is captured and dropped, as Ansible
    # drops a module's stderr. The worker's own streams are never written: ansible-core (2.17 at least) guards them
    # with a lock that a fork can leave taken, so a write from a module's thread could hang forever.
    sys.stdout = sys.stderr = io.StringIO()
    try:
        module.main()
    except ModuleDone as done:
        result = done.result
    except SystemExit as exc:  # a module that exits by itself: not ours, but never kill the worker
        result = dict(failed=True, msg="module %s exited (%s) without a result" % (name, exc.code))
    except Exception as exc:  # an unexpected error: a message and a traceback, both cleaned of secrets
        values = set(ControllerModule.current.no_log_values) if ControllerModule.current else set()
        result = dict(failed=True, msg="module %s failed unexpectedly: %s: %s" % (name, type(exc).__name__, exc),
                      exception=traceback.format_exc())
        result = _core_probe.mask_values(result, values | _argument_secrets(args))
    else:
        result = dict(failed=True, msg="module %s returned without a result" % name)
    finally:
        module.AnsibleModule = saved_factory
        sys.stdout, sys.stderr = saved_streams
        ControllerModule.context = ControllerModule.current = None
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    # what a module's JSON output would have been: plain lists, dicts, strings, numbers
    return json.loads(json.dumps(result, default=str))


def _argument_secrets(args):
    """Every string argument whose name says it is secret (for a traceback that ran before validation)."""
    return set(str(v) for k, v in args.items() if isinstance(v, str) and v and any(
        word in k for word in ("token", "secret", "password")))


def make_action(name, collection="idpbridge.authentik_cloudflare"):
    """The action plugin class for the module ``name`` of ``collection`` (this one; the tests use another).

    The module is imported here, when Ansible loads the action plugin: in its main process (the
    strategy loads it there to look at the plugin's class), so each task's worker inherits it.
    """
    module = importlib.import_module("ansible_collections.%s.plugins.modules.%s" % (collection, name))
    _tell_probe_once()

    class ActionModule(NormalAction):
        """Runs the module in the worker process when it would run on the controller, else as a module."""

        _supports_check_mode = True
        _supports_async = True

        def run(self, tmp=None, task_vars=None):
            task_vars = task_vars or {}
            result = None
            try:
                here = self._here(task_vars)
            except Exception as exc:  # pylint: disable=broad-except  # the module path decides nothing of this
                here = False
                self._tell("deciding where to run it failed unexpectedly (%s)" % type(exc).__name__)
            if here:
                try:
                    result = self._run_here(tmp, task_vars)
                except NotHere as exc:
                    self._tell(exc.why)
            if result is None:
                result = super(ActionModule, self).run(tmp, task_vars)
            if result.get("failed") and isinstance(result.get("msg"), str):
                result["msg"] = self._explained(result["msg"], task_vars)
            return result

        def _explained(self, msg, task_vars):
            """``msg`` with what the role says of it (see ROLE_VARIABLES and FAILURE_NOTE)."""
            role = getattr(self._task, "_role", None)
            if role is None:
                return msg
            try:
                name = role.get_name(include_role_fqcn=False)
                names = self._templar.template(task_vars.get(ROLE_VARIABLES % name) or {})
                note = self._templar.template(task_vars.get(FAILURE_NOTE % name) or "")
            except Exception:  # a hint must never hide the module's own message
                return msg
            option = OPTION_IN_MESSAGE.search(msg)
            if option and isinstance(names, dict) and names.get(option.group(1)):
                msg = "%s. In the role, set %s." % (msg.rstrip("."), names[option.group(1)])
            if note:
                msg = "%s. %s" % (msg.rstrip("."), note)
            return msg

        def _tell(self, why):
            display.v("%s runs as a module process: %s" % (self._task.action, why))

        def _run_here(self, tmp, task_vars):
            """The module's result, run in this process; ``NotHere`` when that failed before the module ran."""
            try:
                result = super(NormalAction, self).run(tmp, task_vars)  # ActionBase's checks only
                environment = {}
                self._compute_environment_string(raw_environment_out=environment)
                args = json.loads(json.dumps(self._task.args, cls=_core_probe.args_encoder()))
                settings = dict(check_mode=bool(self._task.check_mode), diff=bool(self._task.diff),
                                no_log=bool(self._task.no_log), inject_invocation=_inject_invocation(task_vars),
                                environment=dict((str(k), str(v)) for k, v in environment.items()))
            except Exception as exc:  # pylint: disable=broad-except  # nothing of the module has run yet
                raise NotHere("preparing the run in the worker process failed unexpectedly (%s)" % type(exc).__name__)
            result.update(run_module_here(module, self._task.action, args, **settings))
            return result

        def _here(self, task_vars):
            """True when a module run would be a local process with this very Python (and the probe found no problem)."""
            if _core_probe.PROBLEM:
                return False
            switch = task_vars.get(SWITCH_VARIABLE, os.environ.get(SWITCH_ENV, True))
            try:
                if not boolean(self._templar.template(switch), strict=False):
                    return False
            except Exception:
                return False
            if not _http.HAS_REQUESTS:
                return False
            connection = getattr(self._connection, "_load_name", None) or getattr(self._connection, "transport", "")
            if connection not in LOCAL_CONNECTIONS or self._play_context.become or self._task.async_val:
                return False
            host_vars = task_vars
            if self._task.delegate_to:
                host_vars = task_vars.get("ansible_delegated_vars", {}).get(self._task.delegate_to, {})
            interpreter = host_vars.get("ansible_python_interpreter")
            if interpreter is None:  # the configured interpreter (ANSIBLE_PYTHON_INTERPRETER, ansible.cfg), unless discovered
                from ansible import constants as C
                try:
                    interpreter = C.config.get_config_value("INTERPRETER_PYTHON", variables=host_vars)
                except Exception:
                    return False
                if not interpreter or str(interpreter).startswith("auto"):
                    return False
            try:
                interpreter = str(self._templar.template(interpreter))
            except Exception:
                return False
            return same_python(interpreter, sys.executable)

    return ActionModule


_TOLD = []


def _tell_probe_once():
    """Say once a process (at -v) why the in-worker path is off on this controller, if it is."""
    if _core_probe.PROBLEM and not _TOLD:
        _TOLD.append(True)
        display.v("idpbridge.authentik_cloudflare: every module runs as a module process on this controller: %s"
                  % _core_probe.PROBLEM)


def same_python(interpreter, executable):
    """True when ``interpreter`` is ``executable``: the same file in the same bin directory (so the same venv)."""
    interpreter = interpreter.strip()
    if not os.path.isabs(interpreter):
        return False
    # the bin directories resolved (a venv reached through a linked folder is still that venv), and the files
    return (os.path.realpath(os.path.dirname(os.path.abspath(interpreter)))
            == os.path.realpath(os.path.dirname(os.path.abspath(executable)))
            and os.path.realpath(interpreter) == os.path.realpath(executable))


def _inject_invocation(task_vars):
    """Whether a module result carries ``invocation`` on this ansible-core (always before 2.19)."""
    from ansible import constants as C
    try:
        return bool(C.config.get_config_value("INJECT_INVOCATION", variables=task_vars))
    except Exception:
        return True
