"""The stand-in for ``AnsibleModule`` every unit test hands to the code under test.

It carries what the collection's clients, resources and engine read of a module: ``params``, ``check_mode``,
``_diff`` and ``warn`` (kept in ``warnings``). ``fail_json`` and ``exit_json`` end the call as a module's would,
with ``SystemExit``, holding ``("fail", kwargs)`` or ``("exit", kwargs)``.
"""

from __future__ import annotations


class FakeModule:
    """``params`` (a mapping, updated with ``more``), check mode and diff as given."""

    def __init__(self, params=None, check_mode=False, diff=False, **more):
        self.params = dict(params or {}, **more)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)

    def fail_json(self, **kwargs):
        raise SystemExit(("fail", kwargs))

    def exit_json(self, **kwargs):
        raise SystemExit(("exit", kwargs))
