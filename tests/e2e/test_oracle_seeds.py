"""A second seed at another scale, through the in-process pipeline (ingest, dbt build) only:
the candidate equals the independent oracle on the same landing. Only the first half of
January is delivered (plus snapshots and bills), which keeps it fast and makes every
timeliness item near the landing's end an open one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from tests.conftest import Sqwh
from tests.e2e.test_end_to_end import _assert_oracle_agrees
from tests.oracle import compute_indicators

pytestmark = pytest.mark.slow

PERIOD = "2019H1"
SEED = "23"
SCALE = "0.001"
LAST_DAY = "20190115"


def _first_days(generated: Path, landing: Path) -> None:
    for path in sorted(generated.rglob("*.csv")):
        day = path.name.split(".", 1)[0].split("_")
        dated = [p for p in day if p.isdigit() and len(p) == 8]
        daily = not path.name.startswith(("CRM_AREA", "CRM_CUSTOMER", "CRM_OUTLET", "BSS_BILL_2"))
        if daily and dated and dated[0] > LAST_DAY:
            continue
        target = landing / path.parent.name
        target.mkdir(parents=True, exist_ok=True)
        for f in (path, path.with_name(path.name + ".chk")):
            shutil.copy(f, target / f.name)


def test_second_seed_candidate_equals_the_oracle(
    embedded_sqwh: Sqwh, scratch_db: str, tmp_path: Path
) -> None:
    from sqwh import pipeline
    from sqwh.transform import run_dbt

    generated, landing = tmp_path / "generated", tmp_path / "landing"
    embedded_sqwh(
        "generate", "--period", PERIOD, "--scale", SCALE, "--seed", SEED, "--out", str(generated)
    )
    _first_days(generated, landing)
    for system in ("bss", "crm", "cc"):
        pipeline.ingest(system, landing)
    # the models only: their dbt tests run in the end-to-end chain
    outcome = run_dbt(scratch_db, ["build", "--exclude-resource-type", "test", "unit_test"], PERIOD)
    assert outcome.success, "\n".join(outcome.failures)

    with psycopg.connect(scratch_db) as conn:
        cur = conn.execute(
            """select geo_level, city_code, breakdown_type, breakdown, indicator_code,
                      numerator, denominator, value
               from candidate.half_year_indicators"""
        )
        got = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    expected = compute_indicators(landing, PERIOD)
    assert len(set(got.indicator_code)) == 24
    _assert_oracle_agrees(got, expected)
