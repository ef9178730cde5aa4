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
    pass


def run_dag(dag_id: str, conf: dict[str, Any]) -> str:
    """Run one DAG of the project in-process; returns the run id, raises if the run failed."""
    from airflow.dag_processing.dagbag import DagBag

    bag = (
        DagBag(dag_folder=str(settings().dags_dir), include_examples=False)
        if "include_examples" in DagBag.__init__.__code__.co_varnames
        else DagBag(dag_folder=str(settings().dags_dir))
    )
    if bag.import_errors:
        raise DagRunFailed(f"DAG files failed to import: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise DagRunFailed(f"no DAG {dag_id!r} in {settings().dags_dir}")
    log.info("running DAG %s with %s", dag_id, conf)
    run = dag.test(run_conf=conf)
    state = str(getattr(run.state, "value", run.state))
    if state != "success":
        failed = [
            ti.task_id
            for ti in run.get_task_instances()
            if str(getattr(ti.state, "value", ti.state)) == "failed"
        ]
        raise DagRunFailed(
            f"DAG {dag_id} run {run.run_id} ended {state}; failed tasks: {', '.join(failed) or '-'}"
        )
    return str(run.run_id)
