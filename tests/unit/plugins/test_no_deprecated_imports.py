"""No plugin imports an ansible-core shim that a maintained core deprecates.

ansible-core 2.22 prints a deprecation warning the moment ``ansible.module_utils.six`` is imported
(removal in 2.24); ``_text`` and ``common._collections_compat`` are shims of the same kind. The
integration suites catch the warning on the cores they run; this check names the file and line on
every core, in a second, before any play runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PLUGINS = sorted((ROOT / "plugins").rglob("*.py"))
SHIMS = ("ansible.module_utils.six", "ansible.module_utils._text",
         "ansible.module_utils.common._collections_compat")


def imported(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, node.module + "." + alias.name


def test_the_plugins_are_found():
    assert len(PLUGINS) > 20


@pytest.mark.parametrize("path", PLUGINS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_deprecated_shim(path):
    found = ["%s:%d imports %s" % (path.relative_to(ROOT), line, name)
             for line, name in imported(ast.parse(path.read_text(), str(path)))
             if any(name == shim or name.startswith(shim + ".") for shim in SHIMS)]
    assert not found, "use the Python standard library instead:\n" + "\n".join(found)


def test_the_check_sees_a_shim():
    tree = ast.parse("from ansible.module_utils.six.moves.urllib.parse import quote\n"
                     "from ansible.module_utils import six\n")
    names = [name for _line, name in imported(tree)]
    assert "ansible.module_utils.six.moves.urllib.parse" in names and "ansible.module_utils.six" in names
