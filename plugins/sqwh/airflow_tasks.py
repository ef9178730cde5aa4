"""What the DAG files call: task bodies and the source-coverage sensor, kept here so that the
DAG files stay declarative. Cheap to import (DAG files import it at parse time): anything heavy
is imported inside the functions, at task run time.

The warehouse a task uses: ``WAREHOUSE_URL`` if set, else the Airflow connection
``warehouse`` (``AIRFLOW_CONN_WAREHOUSE`` or the UI; id overridable with
``SQWH_WAREHOUSE_CONN_ID``), else the embedded PostgreSQL started on demand.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import BaseOperator

log = logging.getLogger(__name__)

TZ = "Asia/Shanghai"


def warehouse_conn_id() -> str:
    return os.environ.get("SQWH_WAREHOUSE_CONN_ID", "warehouse")


def connection_url(conn: Any) -> str:
    """A libpq URL from an Airflow connection (host may be a unix-socket directory)."""
    from urllib.parse import quote

    user = quote(conn.login or "postgres", safe="")
    password = quote(conn.password or "", safe="")
    db = conn.schema or "warehouse"
    port = conn.port or 5432
    host = conn.host or "localhost"
    if host.startswith("/"):
        return f"postgresql://{user}:{password}@/{db}?host={host}&port={port}"
    return f"postgresql://{user}:{password}@{host}:{port}/{db}"


def warehouse_url_for_task() -> str:
    """Resolve the warehouse inside a task; the answer is pinned in ``WAREHOUSE_URL`` so that
    every module of the task (loader, dbt, gate, publisher) uses the same database."""
    from sqwh.warehouse import warehouse_url

    if os.environ.get("WAREHOUSE_URL"):
        return os.environ["WAREHOUSE_URL"]
    try:
        from airflow.sdk import Connection

        conn = Connection.get(warehouse_conn_id())
    except Exception:  # not defined (or not inside Airflow): the embedded default
        conn = None
    if conn is not None:
        os.environ["WAREHOUSE_URL"] = connection_url(conn)
    return warehouse_url()


def run_step(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """A pipeline step as a task: contract failures fail at once, the rest is retried."""
    from sqwh import pipeline

    warehouse_url_for_task()
    return pipeline.as_task(fn, *args, **kwargs)


# -- periods --------------------------------------------------------------------------------


def _period_param(params: dict | None) -> str | None:
    """The `period` param, checked: a malformed one fails at once (a retry cannot fix it)."""
    from airflow.sdk.exceptions import AirflowFailException

    from sqwh.period import Period

    if not (params and params.get("period")):
        return None
    try:
        return Period.parse(str(params["period"])).code
    except ValueError as exc:
        raise AirflowFailException(str(exc)) from exc


def halfyear_period(params: dict | None, logical_date: Any, run_after: Any) -> str:
    """The `period` param, else the half year before the run's date (1 Jan -> H2 of last year)."""
    from sqwh.period import Period

    if given := _period_param(params):
        return given
    moment = logical_date or run_after
    if moment is None:
        raise ValueError("no period param and no logical date: pass period like 2019H1")
    local = moment.astimezone(_tz()).date()
    return Period.containing(local).previous().code


def latest_loaded_period(params: dict | None) -> str:
    """The `period` param, else the half year of the latest loaded business day."""
    from sqwh.period import Period
    from sqwh.warehouse import connect

    if given := _period_param(params):
        return given
    with connect(warehouse_url_for_task()) as conn:
        row = conn.execute(
            "select max(business_date) from audit.load_manifest where status = 'LOADED'"
        ).fetchone()
    day = row[0] if row else None  # type: ignore[index]
    if day is None:
        day = datetime.now(_tz()).date()
    return Period.containing(day).code


def _tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(TZ)


# -- ingest ---------------------------------------------------------------------------------


def load_entity(
    system: str, entity: str, landing: str, run_id: str | None, outlet_event: Any
) -> dict[str, Any]:
    """Load new files of one entity; skip (no asset event) when this run loaded none of it."""
    from airflow.sdk.exceptions import AirflowSkipException

    from sqwh import pipeline

    summary = run_step(pipeline.ingest, system, landing, entity=entity, run_id=run_id)
    loaded = loaded_in_run(entity, run_id)
    if not loaded["files"]:
        raise AirflowSkipException(
            f"no new {entity} file in {landing}/{system} ({summary['skipped']} already loaded, "
            f"{summary['waiting']} waiting for their .chk): nothing to announce"
        )
    outlet_event.extra = loaded
    return {**summary, entity: loaded}


def loaded_in_run(entity: str, run_id: str | None) -> dict[str, Any]:
    """What this DAG run loaded of the entity, from the ledger (whichever task loaded it)."""
    from sqwh.warehouse import connect

    with connect(warehouse_url_for_task()) as conn:
        files, rows, rejected, first, last = conn.execute(
            """select count(*), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0),
                      min(business_date), max(business_date)
               from audit.load_manifest where entity = %s and run_id = %s and status = 'LOADED'""",
            (entity, run_id),
        ).fetchone()  # type: ignore[misc]
    return {
        "files": int(files),
        "rows_loaded": int(rows),
        "rows_rejected": int(rejected),
        "first_day": first.isoformat() if first else None,
        "last_day": last.isoformat() if last else None,
    }


# -- report ---------------------------------------------------------------------------------


def render_report(period: str) -> str:
    """Render the half-year report with sqwh.report when that module is installed."""
    from airflow.sdk.exceptions import AirflowSkipException

    url = warehouse_url_for_task()
    try:
        from sqwh.report import render_report as render
    except ModuleNotFoundError as exc:
        if exc.name not in ("sqwh.report", "sqwh.report.render_report"):
            raise
        raise AirflowSkipException(
            "sqwh.report is not installed in this build; the report was not rendered"
        ) from exc
    path = render(url, period)
    log.info("report for %s: %s", period, path)
    return str(path)


# -- waiting for the sources ----------------------------------------------------------------


def missing_now(period: str, systems: list[str], url: str | None = None) -> list[str]:
    from sqwh.coverage import missing_deliveries
    from sqwh.warehouse import connect

    with connect(url or warehouse_url_for_task()) as conn:
        return [str(m) for m in missing_deliveries(conn, period, systems)]


class WaitForSourcesOperator(BaseOperator):
    """Wait, deferred in the triggerer (no worker slot, no busy poke), until the given source
    systems have delivered the whole period; fail with the missing source-days after
    ``timeout_minutes`` (0: check once and fail at once, what `sqwh run` does)."""

    template_fields = ("period", "timeout_minutes")
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        systems: list[str],
        period: str,
        timeout_minutes: str | float = 720,
        poll_seconds: float = 300,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.systems = list(systems)
        self.period = period
        self.timeout_minutes = timeout_minutes
        self.poll_seconds = poll_seconds

    def _fail(self, missing: list[str], waited: str) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        from sqwh.coverage import summarise

        raise AirflowFailException(
            f"{', '.join(self.systems)} do not cover {self.period} {waited}: {summarise(missing)}\n"
            "Deliver the missing files (with their .chk) and re-run; the ingest DAGs load them."
        )

    def execute(self, context: Any) -> dict[str, Any]:
        from sqwh.airflow_triggers import SourceCoverageTrigger

        missing = missing_now(self.period, self.systems)
        if not missing:
            log.info("%s cover %s", ", ".join(self.systems), self.period)
            return {"period": self.period, "covered": True}
        minutes = float(self.timeout_minutes or 0)
        if minutes <= 0:
            self._fail(missing, "(not waiting: timeout 0)")
        deadline = datetime.now(UTC) + timedelta(minutes=minutes)
        log.info(
            "%s: %d source-days missing for %s; waiting in the triggerer until %s",
            ", ".join(self.systems),
            len(missing),
            self.period,
            deadline.isoformat(timespec="seconds"),
        )
        self.defer(
            trigger=SourceCoverageTrigger(
                period=self.period,
                systems=self.systems,
                deadline=deadline.isoformat(),
                poll_seconds=self.poll_seconds,
            ),
            method_name="execute_complete",
        )
        return {}  # not reached: defer() raises

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict:
        event = event or {}
        if event.get("status") == "covered":
            return {"period": self.period, "covered": True}
        if event.get("status") == "timeout":
            self._fail(list(event.get("missing") or []), f"after {self.timeout_minutes} min")
        raise RuntimeError(f"coverage trigger ended without a verdict: {event}")
