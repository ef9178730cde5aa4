"""Run the project's real Airflow DAGs in-process (``dag.test()``), as `sqwh run` does.

Airflow reads its configuration when first imported, so :func:`configure_airflow` must run
before anything imports ``airflow``; the CLI calls it first thing.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqwh.config import settings

log = logging.getLogger(__name__)


def _secret(name: str) -> str:
    path = settings().state_dir / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def airflow_env() -> dict[str, str]:
    """Environment for a local Airflow: its own home (SQLite metadata) and this project's DAGs."""
    s = settings()
    home = s.airflow_home
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(s.dags_dir),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(s.project_dir / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",  # 2-core machines: not 32 worker processes
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret("airflow-jwt-secret"),
        "AIRFLOW__API__SECRET_KEY": _secret("airflow-api-secret"),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(s.logs_dir / "airflow"),
        "GX_ANALYTICS_ENABLED": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def configure_airflow() -> None:
    for key, value in airflow_env().items():
        os.environ.setdefault(key, value)
    settings().airflow_home.mkdir(parents=True, exist_ok=True)
    _ensure_metadata_db()
    from sqwh.dbt_tasks import ensure_manifest

    try:  # the per-model DAG (build_marts) reads it at parse time; rebuilt only when outdated
        ensure_manifest()
    except Exception as exc:  # the half-year DAG's own dbt build will say what is wrong
        log.warning("could not build the dbt manifest for build_marts: %s", exc)


def _ensure_metadata_db() -> None:
    home = Path(os.environ["AIRFLOW_HOME"])
    marker = home / ".migrated"
    from importlib.metadata import version

    want = version("apache-airflow-core")
    if marker.exists() and marker.read_text().strip() == want:
        return
    log.info("initialising Airflow's metadata database in %s (once)", home)
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run(
        [str(airflow), "db", "migrate"],
        check=True,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
    )
    marker.write_text(want)


class DagRunFailed(Exception):
    def __init__(self, message: str, failed_tasks: list[str] | None = None) -> None:
        super().__init__(message)
        self.failed_tasks = failed_tasks or []


def run_dag(dag_id: str, conf: dict[str, Any]) -> str:
    """Run one DAG of the project in-process; returns the run id, raises if the run failed."""
    from airflow.dag_processing.dagbag import DagBag

    bag = (
        DagBag(dag_folder=str(settings().dags_dir), include_examples=False)
        if "include_examples" in DagBag.__init__.__code__.co_varnames
        else DagBag(dag_folder=str(settings().dags_dir))
    )
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise DagRunFailed(
            f"no DAG {dag_id!r} in {settings().dags_dir}; import errors: {bag.import_errors or '-'}"
        )
    for path, error in bag.import_errors.items():  # another DAG file: not this run's problem
        log.warning("DAG file %s failed to import: %s", path, str(error).strip()[-500:])
    log.info("running DAG %s with %s", dag_id, conf)
    run = dag.test(run_conf=conf)
    state = str(getattr(run.state, "value", run.state))
    if state != "success":
        failed = [
            ti.task_id
            for ti in run.get_task_instances()
            if str(getattr(ti.state, "value", ti.state)) == "failed"
        ]
        reasons = _alerts(str(run.run_id))
        raise DagRunFailed(
            f"DAG {dag_id} run {run.run_id} ended {state}; failed tasks: {', '.join(failed) or '-'}"
            + "".join(f"\n{r}" for r in reasons),
            failed_tasks=failed,
        )
    return str(run.run_id)


def _alerts(run_id: str) -> list[str]:
    """What the failure callbacks recorded in audit.alert for this run."""
    from sqwh.alerts import alerts_for_run
    from sqwh.warehouse import connect, warehouse_url

    try:
        with connect(warehouse_url()) as conn:
            return alerts_for_run(conn, run_id)
    except Exception as exc:  # the run already failed; this only adds detail
        log.warning("could not read audit.alert: %s", exc)
        return []
