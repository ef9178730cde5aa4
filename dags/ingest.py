"""Ingest DAGs, one per source system, generated from the source registry (sources.yml).

Each entity is a task that loads new files of that entity from the landing folder and
emits the entity's asset; a file already loaded (same sha256) is skipped, so re-runs and
retries never duplicate rows. Heavy imports happen inside the tasks, not at parse time.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, task

from sqwh.assets import raw_asset
from sqwh.registry import load_registry

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
}


def _entity_task(system: str, entity: str, asset: Asset):
    @task(task_id=f"load_{entity.lower()}", outlets=[asset])
    def load(params: dict | None = None, run_id: str | None = None, outlet_events=None) -> dict:
        from sqwh import pipeline

        summary = pipeline.as_task(
            pipeline.ingest, system, params["landing"], entity=entity, run_id=run_id
        )
        outlet_events[asset].extra = summary
        return summary

    return load


def _ingest_dag(system: str, name: str, entities: list[str]):
    @dag(
        dag_id=f"ingest_{system}",
        description=f"Load {name} extract files into raw",
        schedule="0 2 * * *",
        start_date=pendulum.datetime(2019, 1, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["ingest", system],
        params={
            "landing": Param(
                "landing", type="string", description="landing folder (holds <system>/ files)"
            )
        },
        doc_md=__doc__,
    )
    def ingest_dag():
        for entity in entities:
            _entity_task(system, entity, raw_asset(entity))()

    return ingest_dag()


for _system in load_registry().systems:
    globals()[f"ingest_{_system.code}"] = _ingest_dag(
        _system.code, _system.name, [e.name for e in _system.entities]
    )
