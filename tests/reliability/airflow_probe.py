"""`python -m tests.reliability.airflow_probe MODE LANDING ADMIN_URL`: run the real
``ingest_bss`` DAG with ``dag.test()`` (the project's retry policy, only the first retry delay
cut to 1 s) and inject one fault; prints the task's final state and tries as JSON.

MODE ``drop``: terminate the loader's warehouse connection once its COPY shows progress.
MODE ``die-after-commit``: the first try dies right after the load committed.
MODE ``contract``: nothing injected (the landing holds a file that breaks its contract).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import timedelta

TASK = "load_bss_fault"


def drop_first_copy(admin_url: str, dbname: str, done: threading.Event) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        while not done.is_set():
            row = conn.execute(
                "select pid, tuples_processed from pg_stat_progress_copy where datname = %s",
                (dbname,),
            ).fetchone()
            if row and row[1] > 0:
                conn.execute("select pg_terminate_backend(%s)", (row[0],))
                print(f"terminated backend {row[0]} after {row[1]} rows", file=sys.stderr)
                return
            time.sleep(0.05)


def die_after_first_commit() -> None:
    import psycopg

    from sqwh import pipeline

    real = pipeline.ingest
    died: list[str] = []

    def ingest(*args, **kwargs):
        summary = real(*args, **kwargs)
        if summary["loaded"] and not died:  # the first try that committed a load dies
            died.append(kwargs.get("entity") or "?")
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return summary

    pipeline.ingest = ingest


def main(mode: str, landing: str, admin_url: str) -> None:
    from sqwh.orchestrate import _ensure_metadata_db, airflow_env

    for key, value in airflow_env().items():
        os.environ.setdefault(key, value)
    _ensure_metadata_db()
    from airflow.dag_processing.dagbag import DagBag

    from sqwh.config import settings
    from sqwh.warehouse import parse_url

    dag = DagBag(dag_folder=str(settings().dags_dir / "ingest.py")).get_dag("ingest_bss")
    task = dag.task_dict[TASK]
    policy = {
        "retries": task.retries,
        "exponential_backoff": task.retry_exponential_backoff,
        "retry_delay_s": task.retry_delay.total_seconds(),
    }
    task.retry_delay = timedelta(seconds=1)  # the policy as shipped, minus the 30 s wait
    done = threading.Event()
    if mode == "drop":
        db = parse_url(os.environ["WAREHOUSE_URL"]).dbname
        threading.Thread(target=drop_first_copy, args=(admin_url, db, done), daemon=True).start()
    elif mode == "die-after-commit":
        die_after_first_commit()
    run = dag.test(run_conf={"landing": landing})
    done.set()
    ti = next(t for t in run.get_task_instances() if t.task_id == TASK)
    print(
        json.dumps(
            {
                "run_id": run.run_id,
                "run_state": str(getattr(run.state, "value", run.state)),
                "state": str(getattr(ti.state, "value", ti.state)),
                "try_number": ti.try_number,
                "policy": policy,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
