"""Failure alerts: a clear log line and a row in ``audit.alert`` for every failed task.

:class:`AuditAlertNotifier` is an Airflow notifier, so it sits beside Airflow's own ones in a
task's ``on_failure_callback`` list; to mail or post the same alert add e.g.
``SmtpNotifier(...)`` or ``SlackWebhookNotifier(...)`` (their providers) in
:func:`failure_callbacks`. Cheap to import: DAG files use it at parse time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger("sqwh.alerts")

MAX_MESSAGE = 8000


def classify(exc: BaseException | None) -> str:
    """'data_contract' (not retried: fix the input), else 'error' (retried, then alerted)."""
    from airflow.sdk.exceptions import AirflowFailException

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, AirflowFailException) or type(exc).__name__ == "DataContractError":
            return "data_contract"
        exc = exc.__cause__ or exc.__context__
    return "error"


def alert_text(context: dict[str, Any]) -> dict[str, Any]:
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    params = context.get("params") or {}
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", None)
    kind = classify(exc if isinstance(exc, BaseException) else None)
    period = params.get("period") or None
    reason = str(exc).strip() if exc is not None else "see the task log"
    what = f"{dag_id}.{task_id}" if task_id else dag_id
    head = f"[sqwh] {what} failed" + (f" for {period}" if period else "")
    tail = (
        "Not retried: the input breaks its contract; fix or re-deliver it, then re-run."
        if kind == "data_contract"
        else "Retries are exhausted; check the warehouse and the log, then clear the task."
    )
    return {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "try_number": getattr(ti, "try_number", None),
        "period": period,
        "kind": kind,
        "message": f"{head}: {reason}\n{tail}"[:MAX_MESSAGE],
        "log_url": getattr(ti, "log_url", None),
    }


def record_alert(alert: dict[str, Any], url: str | None = None) -> int | None:
    """Insert the alert into ``audit.alert``; returns its id (None if the warehouse is away)."""
    try:
        from sqwh.airflow_tasks import warehouse_url_for_task
        from sqwh.warehouse import connect

        with connect(url or warehouse_url_for_task()) as conn:
            row = conn.execute(
                """insert into audit.alert (dag_id, task_id, run_id, try_number, period, kind,
                       message, log_url)
                   values (%(dag_id)s, %(task_id)s, %(run_id)s, %(try_number)s, %(period)s,
                       %(kind)s, %(message)s, %(log_url)s)
                   returning alert_id""",
                alert,
            ).fetchone()
            conn.commit()
            return int(row[0])  # type: ignore[index]
    except Exception as exc:  # an alert must never hide the failure it reports
        log.error("could not write the alert to audit.alert: %s", exc)
        return None


def alerts_for_run(conn: Any, run_id: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "select message from audit.alert where run_id = %s order by alert_id", (run_id,)
        )
    ]


class AuditAlertNotifier(BaseNotifier):
    """Logs the failure and records it in ``audit.alert`` (what, why, retried or not, log URL)."""

    def notify(self, context: Any) -> None:
        alert = alert_text(dict(context))
        log.error("ALERT %s", alert["message"])
        alert_id = record_alert(alert)
        if alert_id is not None:
            log.error("ALERT recorded as audit.alert %s", alert_id)


def failure_callbacks() -> Sequence[Any]:
    """What runs when a task finally fails. Add Airflow notifiers for mail or chat here."""
    return [AuditAlertNotifier()]


def default_args(retries: int = 2) -> dict[str, Any]:
    """The retry and alert policy every DAG of the project shares: transient failures retry
    with exponential backoff (30 s up to 10 min); data-contract failures skip retries (they
    raise AirflowFailException); the last failure writes an alert."""
    from datetime import timedelta

    return {
        "owner": "data-engineering",
        "retries": retries,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": failure_callbacks(),
    }
