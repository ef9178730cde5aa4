"""Run a DAG-inspecting script in a fresh interpreter with a throwaway Airflow home, as the
dag-processor would, and return the JSON it prints (a line starting with ``JSON``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DAGS = Path(__file__).resolve().parents[1] / "dags"


def run_probe(code: str, home: Path, **extra_env: str) -> dict:
    from sqwh.dbt_tasks import ensure_manifest

    ensure_manifest()  # build_marts reads dbt's manifest (built by `make dbt-manifest`)
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "SQWH_HOME": str(home / "sqwh"),
        **extra_env,
    }
    proc = subprocess.run(
        [sys.executable, "-c", code, str(DAGS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("JSON"))
    return json.loads(line[4:])
