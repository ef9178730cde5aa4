"""Keep staging, intermediate and marts current as data arrives (data-aware scheduling).

Scheduled on the `raw.<entity>` assets that the ingest DAGs emit: a run starts once every
daily entity of every source system has new rows since the last run (an entity with nothing
new emits nothing), so the marts join a consistent day across systems; snapshot and monthly
entities load before the daily ones in their ingest DAG and are picked up by the same run.
One Airflow task per dbt
model and seed (astronomer-cosmos, read from the pre-built manifest, grouped by folder):
`dbt build --select <model>` builds it and runs its dbt tests, so a failed model retries
alone and the lineage is visible in the graph. Models declared incremental in dbt build
incrementally; set `full_refresh` to rebuild them. The half-year indicators (the
candidate) are built by `publish_halfyear_indicators`, not here.

`period` (default: the half year of the latest loaded business day) is passed to dbt as
`--vars`, for the dimensions that take their snapshot at the period's end.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetAll, Param, dag, task

from sqwh.alerts import default_args
from sqwh.assets import raw_asset
from sqwh.dbt_tasks import model_task_group
from sqwh.registry import load_registry

DEFAULT_ARGS = default_args(retries=2)

EVERY_DAILY_ENTITY_LOADED = AssetAll(
    *[raw_asset(e.name) for e in load_registry().entities if e.delivery == "daily"]
)


@dag(
    dag_id="build_marts",
    description="dbt per model: staging -> intermediate -> marts, on new raw data",
    schedule=EVERY_DAILY_ENTITY_LOADED,
    start_date=pendulum.datetime(2019, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["transform", "dbt"],
    params={
        "period": Param("", type="string", description="half year for --vars; empty = latest"),
        "full_refresh": Param(False, type="boolean", description="dbt --full-refresh"),
    },
    doc_md=__doc__,
)
def build_marts():
    @task
    def resolve_period(params: dict | None = None) -> str:
        from sqwh.airflow_tasks import latest_loaded_period

        return latest_loaded_period(params)

    resolve_period() >> model_task_group("dbt", exclude=["path:models/indicators"])


build_marts()
