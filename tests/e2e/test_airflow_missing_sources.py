"""`sqwh run` (the real DAGs under dag.test) on a half year with a source-day missing: the
half-year DAG stops before building anything, names the missing source-day, records an
alert in audit.alert and does not retry; reporting stays empty for that period."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Sqwh, _state_env

pytestmark = pytest.mark.slow


def test_missing_source_day_stops_the_publication_with_the_list(tmp_path: Path) -> None:
    sqwh = Sqwh(home=tmp_path / "state", env=_state_env(tmp_path / "state", None))
    landing = tmp_path / "landing"
    try:
        sqwh(
            "generate", "--period", "2020H1", "--scale", "XS", "--seed", "11",
            "--out", str(landing), "--defect", "drop-day:CC_CALL:20200315",
        )  # fmt: skip
        proc = sqwh("run", "--landing", str(landing), "--period", "2020H1", check=False)
        assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
        err = proc.stderr
        assert "ingest.wait_for_cc" in err
        assert "1 missing source-days (CC_CALL: 1)" in err and "CC_CALL 2020-03-15" in err, err
        assert "Nothing was published" in err
        with sqwh.connect() as conn:
            alerts = conn.execute(
                "select task_id, kind, try_number from audit.alert order by alert_id"
            ).fetchall()
            published = conn.execute(
                "select count(*) from reporting.half_year_indicators where period = '2020H1'"
            ).fetchone()[0]
            built = conn.execute(
                "select count(*) from information_schema.tables where table_schema = 'candidate'"
            ).fetchone()[0]
        assert alerts == [("ingest.wait_for_cc", "data_contract", 1)]
        assert published == 0
        assert built == 0  # stopped before dbt built the candidate
    finally:
        sqwh("warehouse", "stop", check=False)
