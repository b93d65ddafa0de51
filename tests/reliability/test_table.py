"""docs/reliability.md has one row per case of the suite (the session check compares every cell)."""

from __future__ import annotations

import os
import re

import pytest

from tests.reliability import cases, table


def test_the_table_has_one_row_per_case():
    if os.environ.get("IDPB_RELIABILITY_WRITE") == "1":
        pytest.skip("the table is being rewritten by this run")
    text = table.DOC.read_text()
    ids = re.findall(r"^\| `([a-z0-9-]+)` \|", text, re.M)
    assert sorted(ids) == sorted(cases.ALL), "rerun with IDPB_RELIABILITY_WRITE=1: the cases changed"
    assert len(ids) == len(set(ids))
    assert len([c for c, g in cases.ALL.items() if g in ("role-input", "module-input")]) >= 30


def test_the_table_is_rendered_from_rows():
    rows = {c: {"id": c, **{k: "x" for k in table.COLUMNS}} for c in cases.ALL}
    rendered = table.render(rows)
    assert rendered.count("\n| `") == len(cases.ALL)
    assert table.scrub("GET http://127.0.0.1:4242/x 0123456789abcdef0123456789abcdef in 2.5 s") == "GET <server>/x <id> in N s"
