"""What the half-year report reads: the published figures, their publication and checks.

The report is a view of a *publication*, never of the candidate or the marts, so the numbers
in it are exactly what BI and auditors see in ``reporting.half_year_indicators``. Two lookup
tables outside ``reporting``/``audit`` are read because nothing published carries them yet:
the indicator catalogue (names, definitions, themes) and the city names. Their table names
are constants here so moving them into ``reporting`` is a one-line change.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

from sqwh.period import Period

CATALOGUE_TABLE = "marts.indicator_catalogue"
CITY_TABLE = "marts.dim_city"


class ReportUnavailable(Exception):
    """The period has nothing published, so there is nothing a report could truthfully show."""


@dataclass(frozen=True)
class Figure:
    """One published row (period x geography x breakdown x indicator)."""

    indicator_code: str
    geo_level: str
    city_code: str | None
    breakdown_type: str | None
    breakdown: str | None
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None
    unit: str
    target: Decimal | None
    comparison: str | None
    meets_target: bool | None
    previous_value: Decimal | None
    change: Decimal | None
    null_reason: str | None

    @property
    def is_headline(self) -> bool:
        return self.breakdown_type is None


@dataclass(frozen=True)
class Indicator:
    """A catalogue row: what an indicator means and where its target comes from."""

    code: str
    theme: str
    name_zh: str
    name_en: str
    definition: str
    unit: str
    target: Decimal | None
    comparison: str | None
    target_source: str | None
    breakdown_type: str | None
    catalogue_version: str


@dataclass(frozen=True)
class ValidationRun:
    validation_id: int
    suite: str
    success: bool
    statistics: dict[str, Any]
    result_path: str | None


@dataclass(frozen=True)
class Publication:
    publication_id: int
    period: str
    run_id: str | None
    code_version: str | None
    dbt_manifest_hash: str | None
    catalogue_version: str | None
    input_files: list[dict[str, Any]]
    row_count: int
    published_at: Any
    published_by: str
    validations: list[ValidationRun]


@dataclass(frozen=True)
class HistoryPoint:
    """A headline value of an earlier (or this) period, for trend charts."""

    period: str
    indicator_code: str
    geo_level: str
    city_code: str | None
    value: Decimal | None


@dataclass(frozen=True)
class ReportData:
    period: str
    publication: Publication
    figures: list[Figure]
    catalogue: dict[str, Indicator]
    cities: dict[str, str]
    history: list[HistoryPoint]


def load(conn: psycopg.Connection, period: str) -> ReportData:
    """Read everything one report needs, in one transaction (a consistent snapshot)."""
    code = Period.parse(period).code
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        figures = _figures(conn, code)
        if not figures:
            raise ReportUnavailable(
                f"nothing is published for {code} in reporting.half_year_indicators; "
                f"publish it first (`sqwh run --landing <folder> --period {code}`)"
            )
        ids = {f[0] for f in figures}
        if len(ids) != 1:
            raise ReportUnavailable(f"{code} mixes publications {sorted(ids)} in reporting")
        return ReportData(
            period=code,
            publication=_publication(conn, ids.pop()),
            figures=[f[1] for f in figures],
            catalogue=_catalogue(conn),
            cities=dict(conn.execute(f"select city_code, city_name from {CITY_TABLE}").fetchall()),
            history=_history(conn, code),
        )


def _figures(conn: psycopg.Connection, period: str) -> list[tuple[int, Figure]]:
    rows = conn.execute(
        """select publication_id, indicator_code, geo_level, city_code, breakdown_type, breakdown,
                  numerator, denominator, value, unit, target, comparison, meets_target,
                  previous_value, change, null_reason
           from reporting.half_year_indicators where period = %s
           order by indicator_code, geo_level desc, city_code nulls first,
                    breakdown_type nulls first, breakdown""",
        (period,),
    ).fetchall()
    return [(r[0], Figure(*r[1:])) for r in rows]


def _publication(conn: psycopg.Connection, publication_id: int) -> Publication:
    row = conn.execute(
        """select publication_id, period, run_id, code_version, dbt_manifest_hash, catalogue_version,
                  input_files, row_count, published_at, published_by, validation_ids
           from audit.publication where publication_id = %s""",
        (publication_id,),
    ).fetchone()
    if row is None:
        raise ReportUnavailable(f"publication {publication_id} is missing from audit.publication")
    runs = conn.execute(
        """select validation_id, suite, success, coalesce(statistics, '{}'::jsonb), result_path
           from audit.validation_run where validation_id = any(%s) order by validation_id""",
        (row[10],),
    ).fetchall()
    return Publication(*row[:10], validations=[ValidationRun(*r) for r in runs])


def _catalogue(conn: psycopg.Connection) -> dict[str, Indicator]:
    rows = conn.execute(
        f"""select indicator_code, theme, name_zh, name_en, definition, unit, target, comparison,
                   target_source, breakdown_type, catalogue_version
            from {CATALOGUE_TABLE} order by indicator_code"""
    ).fetchall()
    return {r[0]: Indicator(*r) for r in rows}


def _history(conn: psycopg.Connection, period: str) -> list[HistoryPoint]:
    rows = conn.execute(
        """select period, indicator_code, geo_level, city_code, value
           from reporting.half_year_indicators
           where breakdown_type is null and period <= %s
           order by period, indicator_code, geo_level desc, city_code nulls first""",
        (period,),
    ).fetchall()
    return [HistoryPoint(*r) for r in rows]
