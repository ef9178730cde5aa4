"""Section B of the fault catalogue on a warehouse holding two published half years:
a backfill of the older one leaves the newer untouched (B5), and a correction after
publication is a new publication with its reason, the diff against the one it supersedes,
and the superseded figures kept (B7)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from sqwh.publish import candidate_digest, publish
from sqwh.warehouse import connect
from tests.reliability.faults import ScratchServer, ingest_all, loaded_warehouse

pytestmark = pytest.mark.slow
OLD, NEW = "2019H1", "2019H2"
SEED = 7
# 40 BSS orders of one day withdrawn by a corrected re-delivery of that day
CORRECTION = "redeliver:BSS_ORDER:20190311:40"
FIGURE = "indicator_code, geo_level, city_code, breakdown_type, breakdown"
Key = tuple[str | None, ...]
Values = tuple[Decimal | None, ...]


def _publish(url: str, period: str, reason: str | None = None) -> int:
    from sqwh.transform import build

    build(url, period)
    with connect(url) as conn:
        digest = candidate_digest(conn)
    return publish(url, period, f"test-{period}", [], digest, reason)


@pytest.fixture(scope="module")
def two_periods(
    scratch_server: ScratchServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict]:
    """XS extracts of 2019H1 and 2019H2 loaded and each published once (in-process)."""
    home = Path(tmp_path_factory.mktemp("publication-history"))
    url = scratch_server.new_database(scratch_server.start())
    with loaded_warehouse(home, url, [OLD, NEW], SEED):
        first = {period: _publish(url, period) for period in (OLD, NEW)}
        yield {"url": url, "home": home, "first": first}


def period_rows_hash(url: str, period: str) -> str:
    """Every column of every reporting row of ``period``, publication id included."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select r::text from reporting.half_year_indicators as r where period = %s order by 1",
            (period,),
        ).fetchall()
    assert rows, f"no reporting rows for {period}"
    return hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()


def figures(url: str, table: str, where: str, param: object) -> dict[Key, Values]:
    with psycopg.connect(url) as conn:
        return {
            tuple(r[:5]): tuple(r[5:])
            for r in conn.execute(
                f"select {FIGURE}, numerator, denominator, value from {table} where {where} = %s",
                (param,),
            )
        }


def test_backfill_of_the_older_period_leaves_the_newer_untouched(two_periods: dict) -> None:
    url = two_periods["url"]
    newer_before = period_rows_hash(url, NEW)
    older_before = figures(url, "reporting.half_year_indicators", "period", OLD)

    again = _publish(url, OLD)

    assert period_rows_hash(url, NEW) == newer_before
    with psycopg.connect(url) as conn:
        ids = dict(
            conn.execute(
                "select period, max(publication_id) from reporting.half_year_indicators group by 1"
            ).fetchall()
        )
    assert ids == {OLD: again, NEW: two_periods["first"][NEW]}
    assert figures(url, "reporting.half_year_indicators", "period", OLD) == older_before
    # same inputs: a new publication, nothing changed
    with psycopg.connect(url) as conn:
        changes = conn.execute(
            "select count(*) from audit.publication_change where publication_id = %s", (again,)
        ).fetchone()[0]
    assert changes == 0


def test_a_correction_is_a_new_publication_with_reason_diff_and_the_old_kept(
    two_periods: dict,
) -> None:
    from sqwh.generate import generate

    url, home = two_periods["url"], two_periods["home"]
    with psycopg.connect(url) as conn:
        superseded = conn.execute(
            "select max(publication_id) from reporting.half_year_indicators where period = %s",
            (OLD,),
        ).fetchone()[0]
    before = figures(url, "reporting.half_year_indicators", "period", OLD)
    newer_before = period_rows_hash(url, NEW)

    # the same period again with one day re-delivered, corrected: only the _2 file is new
    generate(home / "landing", OLD, scale="XS", seed=SEED, defects=[CORRECTION])
    ingest_all(home / "landing")
    reason = "BSS re-delivered 2019-03-11 without 40 withdrawn orders (ticket OPS-1234)"
    corrected = _publish(url, OLD, reason)

    after = figures(url, "reporting.half_year_indicators", "period", OLD)
    expected = {
        key: (before.get(key), after.get(key))
        for key in set(before) | set(after)
        if before.get(key) != after.get(key)
    }
    assert expected, "the correction changed no figure: the test would prove nothing"

    with psycopg.connect(url) as conn:
        pub = conn.execute(
            "select period, reason, supersedes from audit.publication where publication_id = %s",
            (corrected,),
        ).fetchone()
        listed = {
            tuple(r[:5]): (tuple(r[5:8]), tuple(r[8:11]))
            for r in conn.execute(
                f"""select {FIGURE}, old_numerator, old_denominator, old_value,
                       new_numerator, new_denominator, new_value
                    from audit.publication_change where publication_id = %s and supersedes = %s""",
                (corrected, superseded),
            )
        }
    assert pub == (OLD, reason, superseded)
    # exactly the changed figures, with their old and new values
    assert listed == {
        key: (
            old if old is not None else (None, None, None),
            new if new is not None else (None, None, None),
        )
        for key, (old, new) in expected.items()
    }
    # the superseded publication stays retrievable, figure for figure
    assert figures(url, "audit.superseded_indicators", "publication_id", superseded) == before
    assert period_rows_hash(url, NEW) == newer_before
