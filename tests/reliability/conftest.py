"""The reliability suite: the integration harness (test servers, ``api``, ``play``) plus the figures table.

Every case records one row (``record`` fixture); at the end of a complete run the rows are rendered into
docs/reliability.md and compared with the checked-in file (``IDPB_RELIABILITY_WRITE=1`` writes it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.integration.conftest import api, play, servers  # noqa: E402,F401  pylint: disable=unused-import
from tests.reliability import table  # noqa: E402


def pytest_configure(config):
    # before the xdist workers start, so that they inherit the name of this session's rows directory
    if not hasattr(config, "workerinput"):
        table.clear_rows()


@pytest.fixture
def record(request):
    """``record(case_id, injected=, seen=, rerun=, objects=, writes=)``: this case's row of the table."""
    return table.Recorder(request)


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return
    problem = table.finish(exitstatus)
    if problem:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(problem)
        session.exitstatus = 1
