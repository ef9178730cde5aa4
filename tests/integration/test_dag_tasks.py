"""The pieces the DAGs are made of, without a scheduler: the landing watcher, the coverage
wait, retry classification (contract vs transient) and the failure alert."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest


def _collect(agen, n: int, timeout: float) -> list:
    """Events of an async trigger: the first n, or those seen before the timeout."""
    out: list = []

    async def run():
        async for event in agen:
            out.append(event.payload)
            if len(out) >= n:
                break

    async def bounded():
        try:
            await asyncio.wait_for(run(), timeout)
        except TimeoutError:
            pass

    asyncio.run(bounded())
    return out


def test_landing_watcher_fires_once_per_settled_batch_of_complete_files(tmp_path: Path) -> None:
    from sqwh.airflow_triggers import LandingFileTrigger

    folder = tmp_path / "cc"
    folder.mkdir()
    (folder / "CC_CALL_20190101.csv").write_text("x")  # no .chk yet: still arriving
    trigger = LandingFileTrigger(folder=str(folder), poll_seconds=0.2)
    assert _collect(trigger.run(), 1, timeout=1.0) == []  # nothing complete: no event

    (folder / "CC_CALL_20190101.csv.chk").write_text("x|1|0|d41d8cd98f00b204e9800998ecf8427e")
    (folder / "CC_CALL_20190102.csv.chk").write_text("y")
    events = _collect(LandingFileTrigger(folder=str(folder), poll_seconds=0.2).run(), 1, 3.0)
    assert events and events[0]["control_files"] == 2
    assert events[0]["latest"] == ["CC_CALL_20190101.csv.chk", "CC_CALL_20190102.csv.chk"]

    classpath, kwargs = trigger.serialize()
    assert classpath == "sqwh.airflow_triggers.LandingFileTrigger"
    assert kwargs == {"folder": str(folder), "poll_seconds": 0.2}


def test_landing_watcher_remembers_what_it_announced(tmp_path: Path) -> None:
    """With the asset state store, a restarted triggerer does not re-announce old files."""
    from sqwh.airflow_triggers import STATE_KEY, LandingFileTrigger, control_files

    class Store:
        def __init__(self, value):
            self.value = value

        async def aget(self, key, default=None):
            assert key == STATE_KEY
            return self.value

        async def aset(self, key, value):
            self.value = value

    (tmp_path / "A_20190101.csv.chk").write_text("1")
    store = Store(control_files(str(tmp_path))[0])  # announced before the restart
    trigger = LandingFileTrigger(folder=str(tmp_path), poll_seconds=0.2)
    trigger.asset_state_store = store
    assert _collect(trigger.run(), 1, timeout=1.0) == []
    (tmp_path / "A_20190102.csv.chk").write_text("2")  # arrives while the triggerer is down
    trigger = LandingFileTrigger(folder=str(tmp_path), poll_seconds=0.2)
    trigger.asset_state_store = store
    events = _collect(trigger.run(), 2, timeout=2.0)  # one event, then quiet
    assert len(events) == 1 and events[0]["control_files"] == 2
    assert store.value == events[0]["fingerprint"]  # kept for the next restart


def test_coverage_lists_missing_days_months_and_snapshots(scratch_db: str) -> None:
    from sqwh.coverage import missing_deliveries, summarise

    with psycopg.connect(scratch_db, autocommit=True) as conn:
        for day in range(1, 32):
            if day != 15:
                conn.execute(
                    """insert into audit.load_manifest (system, entity, file_name, file_path,
                           business_date, status, declared_records)
                       values ('cc', 'CC_CALL', 'f', 'p', %s, 'LOADED', 1)""",
                    (f"2019-01-{day:02d}",),
                )
        for entity, day in (("CRM_AREA", "2019-06-30"), ("CC_CALL", "2019-01-15")):
            conn.execute(  # same bytes as an earlier delivery: counts for snapshots only
                """insert into audit.load_manifest (system, entity, file_name, file_path,
                       business_date, status) values ('x', %s, 'f', 'p', %s, 'DUPLICATE')""",
                (entity, day),
            )
        missing = missing_deliveries(conn, "2019H1", ["cc", "bss", "crm"])
    text = [str(m) for m in missing]
    assert "CC_CALL 2019-01-15" in text and "CC_CALL 2019-01-14" not in text
    assert "CC_CALL 2019-06-30" in text
    assert "BSS_BILL month 201903" in text
    assert "CRM_CUSTOMER snapshot on/after 2019-06-30" in text
    assert not any(m.startswith("CRM_AREA") for m in text)
    message = summarise(missing)
    assert message.startswith(f"{len(missing)} missing source-days (")
    assert "CC_CALL: 151" in message  # 181 days, 30 delivered


def test_coverage_trigger_reports_the_missing_list_at_its_deadline(scratch_db: str) -> None:
    from sqwh.airflow_triggers import SourceCoverageTrigger

    trigger = SourceCoverageTrigger(
        period="2019H1",
        systems=["cc"],
        deadline=(datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
        poll_seconds=0.3,
    )
    events = _collect(trigger.run(), 1, timeout=30)
    assert events and events[0]["status"] == "timeout"
    assert "CC_CALL 2019-01-01" in events[0]["missing"]
    assert len(events[0]["missing"]) == 3 * 181


def test_contract_failures_fail_fast_and_transient_ones_are_retried() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from sqwh.alerts import classify
    from sqwh.dbt_tasks import looks_transient
    from sqwh.pipeline import DataContractError, as_task

    def refused():
        raise DataContractError("BSS_ORDER_20190101.csv: control file size mismatch")

    with pytest.raises(AirflowFailException) as exc:
        as_task(refused)
    assert classify(exc.value) == "data_contract"
    assert classify(psycopg.OperationalError("server closed the connection")) == "error"
    assert looks_transient("Database Error: server closed the connection unexpectedly")
    assert looks_transient("could not connect to server: Connection refused")
    assert not looks_transient("Failure in test unique_fct_calls_call_id: Got 3 results")
    assert not looks_transient('relation "marts.fct_calls" does not exist')


def test_failed_dbt_test_in_a_model_task_is_not_retried(tmp_path: Path) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from sqwh.dbt_tasks import _fail_fast_on_data_errors

    target = tmp_path / "target"
    target.mkdir()

    def results(*rows):
        (target / "run_results.json").write_text(json.dumps({"results": list(rows)}))

    results({"unique_id": "model.sqwh.fct_calls", "status": "success", "message": "OK"})
    _fail_fast_on_data_errors(str(tmp_path))  # nothing failed: nothing raised
    results({"unique_id": "test.sqwh.unique_fct_calls_call_id", "status": "fail", "message": "3"})
    with pytest.raises(AirflowFailException, match="unique_fct_calls_call_id"):
        _fail_fast_on_data_errors(str(tmp_path))
    results(
        {
            "unique_id": "model.sqwh.fct_calls",
            "status": "error",
            "message": "Database Error: terminating connection due to administrator command",
        }
    )
    _fail_fast_on_data_errors(str(tmp_path))  # transient: left to the retries


def test_alert_is_logged_and_recorded_in_audit(scratch_db: str, caplog) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from sqwh.alerts import AuditAlertNotifier

    class TI:
        dag_id, task_id, run_id, try_number = "publish_halfyear_indicators", "run_gate", "r1", 1
        log_url = "http://localhost:8080/log"

    try:
        raise AirflowFailException("Quality gate failed for 2019H1; nothing was published")
    except AirflowFailException as exc:
        context = {"ti": TI(), "exception": exc, "params": {"period": "2019H1"}}
    assert os.environ["WAREHOUSE_URL"] == scratch_db
    with caplog.at_level("ERROR", logger="sqwh.alerts"):
        AuditAlertNotifier().notify(context)
    assert "ALERT [sqwh] publish_halfyear_indicators.run_gate failed for 2019H1" in caplog.text
    with psycopg.connect(scratch_db) as conn:
        row = conn.execute(
            "select dag_id, task_id, run_id, period, kind, message, log_url from audit.alert"
        ).fetchone()
    assert row[:5] == ("publish_halfyear_indicators", "run_gate", "r1", "2019H1", "data_contract")
    assert "nothing was published" in row[5] and "Not retried" in row[5]
    assert row[6] == "http://localhost:8080/log"


def test_tasks_find_the_warehouse_in_the_airflow_connection(
    scratch_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without WAREHOUSE_URL, tasks use the Airflow connection `warehouse` (socket host ok)."""
    from sqwh.airflow_tasks import warehouse_url_for_task
    from sqwh.warehouse import parse_url

    info = parse_url(scratch_db)
    conn = {
        "conn_type": "postgres",
        "host": info.host,
        "port": info.port,
        "login": info.user,
        "password": "unused",  # trust auth; cosmos-style mappings insist on one
        "schema": info.dbname,
    }
    monkeypatch.delenv("WAREHOUSE_URL")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(conn))
    url = warehouse_url_for_task()
    assert os.environ["WAREHOUSE_URL"] == url  # pinned for every module of the task
    with psycopg.connect(url) as c:
        assert c.execute("select current_database()").fetchone()[0] == info.dbname
