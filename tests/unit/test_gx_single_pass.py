"""The gate's single-pass unexpected-rows check: the same verdict, count and rows as GX's own
check, from one execution of the query (sqwh/gx_single_pass.py). Runs on SQLite: the check
is plain SQL, and GX needs no server for it."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pytest

QUERY = "select id, value from {batch} where value > {limit} order by id"


def _validate(tmp_path: Path, values: list[int], expectation_type: str) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        import sqwh.gx_single_pass  # noqa: F401

    tmp_path.mkdir()
    db = tmp_path / "checked.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table checked (id integer, value integer)")
        conn.executemany("insert into checked values (?, ?)", list(enumerate(values)))
    ctx = gx.get_context(mode="ephemeral")
    source = ctx.data_sources.add_sqlite(name="db", connection_string=f"sqlite:///{db}")
    batch = source.add_table_asset(
        name="checked", table_name="checked"
    ).add_batch_definition_whole_table("all")
    suite = ctx.suites.add(
        gx.ExpectationSuite(
            name="s",
            expectations=[
                {
                    "type": expectation_type,
                    "kwargs": {"unexpected_rows_query": QUERY.replace("{limit}", str(limit))},
                }
                for limit in (0, 100)
            ],
        )
    )
    statements: list[str] = []

    def executed(*args: Any) -> None:
        statements.append(args[2])

    event.listen(Engine, "before_cursor_execute", executed)
    try:
        result = batch.get_batch().validate(suite, result_format="COMPLETE")
    finally:
        event.remove(Engine, "before_cursor_execute", executed)
    checked = [s for s in statements if "checked" in s and "sqlite_master" not in s]
    return [{"success": r.success, **r.result} for r in result.results] + [
        {"queries": len(checked)}
    ]


@pytest.mark.parametrize("count", [0, 3, 250])
def test_same_verdict_count_and_rows_as_gx_with_half_the_queries(
    tmp_path: Path, count: int
) -> None:
    values = [1] * count + [0] * 7
    own = _validate(tmp_path / "own", values, "unexpected_rows_single_pass_expectation")
    gx_own = _validate(tmp_path / "gx", values, "unexpected_rows_expectation")
    failing, passing, queries = own
    assert failing["success"] is (count == 0)
    assert failing["observed_value"] == count  # counted over all rows, not the 200 fetched
    assert failing["details"]["unexpected_rows"] == [
        {"id": i, "value": 1} for i in range(min(count, 200))
    ]
    assert passing == {"success": True, "observed_value": 0, "details": {"unexpected_rows": []}}
    assert own[:2] == gx_own[:2]
    assert queries["queries"] * 2 == gx_own[2]["queries"] == 4
