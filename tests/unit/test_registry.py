"""The registry is the single declaration of the extract contracts; derived files must not drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqwh.config import settings
from sqwh.dbt_sources import path as sources_path
from sqwh.dbt_sources import render
from sqwh.period import Period
from sqwh.registry import load_registry

PROJECT = Path(__file__).resolve().parents[2]


def test_registry_declares_every_entity_of_the_extract_contracts() -> None:
    names = set(load_registry().entity_names)
    assert names == {
        "BSS_ORDER", "BSS_FAULT", "BSS_BILL", "BSS_BILL_ADJ",
        "CRM_OUTLET", "CRM_AREA", "CRM_CUSTOMER", "CRM_CARE", "CRM_COMPLAINT", "CRM_SURVEY",
        "CC_CALL", "CC_SURVEY", "CC_SPAM_REPORT",
    }  # fmt: skip


def test_every_key_column_is_declared_and_personal_columns_are_marked() -> None:
    for e in load_registry().entities:
        assert set(e.key) <= set(e.column_names), e.name
    personal = {(e.name, c) for e in load_registry().entities for c in e.personal_columns}
    assert ("CRM_CUSTOMER", "id_no") in personal and ("CC_CALL", "caller_no") in personal


def test_dbt_sources_are_generated_from_the_registry() -> None:
    committed = sources_path(settings().dbt_dir).read_text(encoding="utf-8")
    assert committed == render(), (
        "dbt sources drifted from sources.yml: run `sqwh dbt-sources --write`"
    )


def test_no_personal_column_reaches_staging_in_clear() -> None:
    registry = load_registry()
    staging = list((PROJECT / "dbt" / "models" / "staging").rglob("stg_*.sql"))
    assert len(staging) == len(registry.entities)
    for model in staging:
        sql = model.read_text()
        for e in registry.entities:
            if f"source('raw', '{e.table}')" not in sql:
                continue
            for col in e.personal_columns:
                # whatever the alias of the source rows (d., s.)
                clear = re.search(rf"\b\w+\.{col}\s*(,|\n|as\b)", sql)
                assert not clear, f"{model.name} passes {col} in clear: {clear and clear[0]!r}"
                assert re.search(rf"pseudonymise\('\w+\.{col}'\)", sql), (
                    f"{model.name} does not pseudonymise {col}"
                )


@pytest.mark.parametrize(
    ("code", "start", "end", "previous"),
    [
        ("2019H1", "2019-01-01", "2019-07-01", "2018H2"),
        ("2019H2", "2019-07-01", "2020-01-01", "2019H1"),
    ],
)
def test_periods_are_half_open_half_years(code: str, start: str, end: str, previous: str) -> None:
    p = Period.parse(code)
    assert (p.first_day.isoformat(), p.end_day.isoformat(), p.previous().code) == (
        start,
        end,
        previous,
    )
    assert len(p.months) == 6


def test_period_rejects_anything_but_a_half_year() -> None:
    with pytest.raises(ValueError, match="write it like 2019H1"):
        Period.parse("2019Q1")
