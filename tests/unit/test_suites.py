"""The expectation suites are reviewable files; these checks keep them runnable on every
supported PostgreSQL (15 needs an alias on every subquery in FROM)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sqwh.period import Period
from sqwh.quality import SUITES, load_suite

SUITE_DIR = Path(__file__).resolve().parents[2] / "expectations" / "suites"


def test_every_suite_file_is_run_by_the_gate() -> None:
    assert {p.name.removesuffix(".json") for p in SUITE_DIR.glob("*.json")} == set(SUITES)


@pytest.mark.parametrize("name", sorted(SUITES))
def test_suite_placeholders_are_all_substituted(name: str) -> None:
    suite = load_suite(name, Period.parse("2019H2"))
    text = json.dumps(suite)
    assert "${" not in text
    assert suite["name"] == name


@pytest.mark.parametrize("name", sorted(SUITES))
def test_batch_has_an_alias_wherever_gx_leaves_it_bare(name: str) -> None:
    # GX substitutes {batch} with an aliased subquery only when the query has no JOIN
    for e in load_suite(name, Period.parse("2019H1"))["expectations"]:
        query = e["kwargs"].get("unexpected_rows_query")
        if query and "join" in query.lower():
            assert not re.findall(r"\{batch\}(?!\s+as\s)", query), e["meta"]["check"]


@pytest.mark.parametrize("name", sorted(SUITES))
def test_every_expectation_says_what_it_checks_and_whether_it_blocks(name: str) -> None:
    for e in load_suite(name, Period.parse("2019H1"))["expectations"]:
        assert e["meta"]["check"]
        assert isinstance(e["meta"]["blocking"], bool)
