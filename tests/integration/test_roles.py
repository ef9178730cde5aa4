"""Least privilege, proven by connecting as each role (SQLSTATE 42501 where access is denied)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from sqwh.warehouse import connect


def as_role(url: str, role: str) -> psycopg.Connection:
    # trust authentication on the test servers: the role name is the whole credential
    return psycopg.connect(
        url.replace("postgresql://postgres:@", f"postgresql://{role}:@", 1), autocommit=True
    )


@pytest.fixture
def populated(scratch_db: str) -> str:
    with connect(scratch_db) as conn:
        conn.execute(
            """insert into reporting.half_year_indicators (period, geo_level, indicator_code, unit, publication_id)
               values ('2019H1', 'PROVINCE', 'CH_OUTLETS', 'count', 1)"""
        )
        conn.commit()
    return scratch_db


def test_bi_reader_reads_reporting(populated: str) -> None:
    with as_role(populated, "bi_reader") as conn:
        assert (
            conn.execute("select count(*) from reporting.half_year_indicators").fetchone()[0] == 1
        )


@pytest.mark.parametrize(
    "table",
    [
        "raw.cc_call",
        "raw.crm_customer",
        "raw.quarantine",
        "audit.load_manifest",
        "private.pseudonym_key",
    ],
)
def test_bi_reader_cannot_read_raw_audit_or_private(populated: str, table: str) -> None:
    with (
        as_role(populated, "bi_reader") as conn,
        pytest.raises(errors.InsufficientPrivilege) as exc,
    ):
        conn.execute(f"select * from {table} limit 1")
    assert exc.value.sqlstate == "42501"


def test_auditor_reads_audit_but_not_raw(populated: str) -> None:
    with as_role(populated, "auditor") as conn:
        conn.execute("select count(*) from audit.load_manifest").fetchone()
        conn.execute("select count(*) from reporting.half_year_indicators").fetchone()
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("select * from raw.cc_call limit 1")


@pytest.mark.parametrize("role", ["bi_reader", "auditor"])
def test_readers_cannot_write(populated: str, role: str) -> None:
    with as_role(populated, role) as conn:
        for statement in (
            "delete from reporting.half_year_indicators",
            "insert into audit.publication (period, input_files, validation_ids, row_count) values ('x', '[]', '{}', 0)",
            "create table reporting.mine (x int)",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
