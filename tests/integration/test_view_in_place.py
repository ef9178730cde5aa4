"""dbt views are replaced in place (dbt/macros/materializations/view_in_place.sql).

dbt's own view materialisation swaps a new view in and drops the old one with CASCADE, which
takes every view built on it along (reliability case B2). Replaced in place, a view keeps its
identity, and the views on it survive; a real schema change (a column dropped or retyped)
still rebuilds it, and a table or a crashed swap's leftover under its name is cleared.
"""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.slow

MODEL = "staging.stg_crm__areas"
DEPENDANT = "intermediate.int_areas_resolved_to_city"
COLUMNS = ["area_code", "area_name", "level", "parent_code", "snapshot_date", "load_id"]


def _run(url: str, *models: str) -> None:
    from sqwh.transform import run_dbt

    outcome = run_dbt(url, ["run", "--select", *models], period="2019H1")
    assert outcome.success, outcome.failures


def _as_dbt(url: str) -> psycopg.Connection:
    """A connection acting as the role dbt builds as (profiles.yml), which owns the models."""
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("set role etl_writer")
    return conn


def _oid(conn: psycopg.Connection, name: str) -> int | None:
    return conn.execute("select to_regclass(%s)::oid", (name,)).fetchone()[0]


def _columns(conn: psycopg.Connection, name: str) -> list[str]:
    schema, table = name.split(".")
    return [
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns"
            " where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        )
    ]


def test_rebuilt_view_keeps_its_identity_and_its_dependants(scratch_db: str) -> None:
    _run(scratch_db, "stg_crm__areas", "int_areas_resolved_to_city")
    with _as_dbt(scratch_db) as conn:
        model, dependant = _oid(conn, MODEL), _oid(conn, DEPENDANT)
        assert model and dependant
        conn.execute(f"create view intermediate.probe_on_areas as select area_code from {MODEL}")

    _run(scratch_db, "stg_crm__areas")  # the upstream view alone, as after a crash mid-run
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        assert _oid(conn, MODEL) == model, "the view was swapped, not replaced in place"
        assert _oid(conn, DEPENDANT) == dependant
        assert _oid(conn, "intermediate.probe_on_areas") is not None
        assert _columns(conn, MODEL) == COLUMNS


def test_a_changed_view_table_or_leftover_is_rebuilt(scratch_db: str) -> None:
    _run(scratch_db, "stg_crm__areas")  # the schema, as dbt creates it
    with _as_dbt(scratch_db) as conn:
        conn.execute(f"drop view {MODEL}")
        # a schema change: the old view has a column the model no longer has, and a view on it
        conn.execute(f"create view {MODEL} as select 'x'::text as area_code, 1 as retired")
        conn.execute(f"create view staging.probe_on_old as select retired from {MODEL}")
        conn.execute("create table staging.stg_crm__areas__dbt_backup (x int)")
    _run(scratch_db, "stg_crm__areas")
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        assert _columns(conn, MODEL) == COLUMNS
        # its dependant was written against the dropped column: it goes with the old view
        assert _oid(conn, "staging.probe_on_old") is None
        assert _oid(conn, "staging.stg_crm__areas__dbt_backup") is None
    with _as_dbt(scratch_db) as conn:
        # the model was a table before: it becomes the view
        conn.execute(f"drop view {MODEL}")
        conn.execute(f"create table {MODEL} (area_code text)")
    _run(scratch_db, "stg_crm__areas")
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        kind = conn.execute("select relkind from pg_class where oid = %s", (_oid(conn, MODEL),))
        assert kind.fetchone()[0] == "v"
        assert _columns(conn, MODEL) == COLUMNS
