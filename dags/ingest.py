"""Ingest DAGs, one per source system, generated from the source registry (sources.yml).

Runs daily at 02:00 Asia/Shanghai **and** whenever complete files (data file + `.chk`) land
in `<landing>/<system>/`: an asset watcher in the triggerer (no worker slot, no poke loop)
turns a new batch of deliveries into an event on `landing.<system>`.

Each entity is a task that loads the new files of that entity and emits the entity's asset
`raw.<entity>` (with the load summary as extra); an entity with nothing new is *skipped* and
emits nothing. A file already loaded (same sha256) is skipped, so re-runs and retries never
duplicate rows. Refused files fail the task at once (no retry: the file must be fixed);
connection drops are retried with exponential backoff. Heavy imports happen inside tasks.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from sqwh.alerts import default_args
from sqwh.assets import landing_asset, raw_asset
from sqwh.config import settings
from sqwh.registry import load_registry

LANDING = str(settings().landing_dir)  # SQWH_LANDING, else <state>/landing

DEFAULT_ARGS = default_args(retries=3)


def _entity_task(system: str, entity: str, delivery: str, asset: Asset):
    # snapshots and monthly files first, daily ones last: build_marts starts when every daily
    # entity has new rows, and by then the dimensions of the same batch are loaded too
    @task(
        task_id=f"load_{entity.lower()}",
        outlets=[asset],
        priority_weight=1 if delivery == "daily" else 10,
        weight_rule="absolute",
    )
    def load(params: dict | None = None, run_id: str | None = None, outlet_events=None) -> dict:
        from sqwh.airflow_tasks import load_entity

        return load_entity(system, entity, params["landing"], run_id, outlet_events[asset])

    return load


def _ingest_dag(system: str, name: str, entities: list[tuple[str, str]]):
    @dag(
        dag_id=f"ingest_{system}",
        description=f"Load {name} extract files into raw (daily and on file arrival)",
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable("0 2 * * *", timezone="Asia/Shanghai"),
            assets=landing_asset(system, LANDING),
        ),
        start_date=pendulum.datetime(2019, 1, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        # one file at a time per source system: gentle on small machines, and two entity
        # tasks never race for a file (loader's landing_files() matches by name prefix)
        max_active_tasks=1,
        default_args=DEFAULT_ARGS,
        tags=["ingest", system],
        params={
            "landing": Param(
                LANDING, type="string", description="landing folder (holds <system>/ files)"
            )
        },
        doc_md=__doc__,
    )
    def ingest_dag():
        for entity, delivery in entities:
            _entity_task(system, entity, delivery, raw_asset(entity))()

    return ingest_dag()


for _system in load_registry().systems:
    globals()[f"ingest_{_system.code}"] = _ingest_dag(
        _system.code, _system.name, [(e.name, e.delivery) for e in _system.entities]
    )
