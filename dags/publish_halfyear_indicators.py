"""Build, validate and publish the half-year indicators (write-audit-publish).

`resolve_period` -> **ingest**: wait until every source system covers the whole period
(deferred in the triggerer; after `wait_for_sources_minutes` it fails naming the missing
source-days) -> **transform**: `dbt build` staging -> intermediate -> marts -> indicators
(the candidate), one task per layer with its dbt tests -> **gate** (`run_gate`: Great
Expectations; a failure stops here and leaves `reporting` untouched) -> **publish** (atomic
swap into `reporting.half_year_indicators`) -> **render_report**.

Runs at 03:00 Asia/Shanghai on 1 Jan and 1 Jul for the half year just ended; trigger it by
hand with `{"period": "2019H1"}`, or rebuild a past half year with
`airflow backfill create --dag-id publish_halfyear_indicators --from-date 2019-06-30
--to-date 2019-07-01` (the 1 Jul 2019 run publishes 2019H1). Every step is idempotent:
files load once, the candidate is rebuilt, publishing replaces the period's rows.
Data-contract failures (missing or refused inputs, failed dbt tests, the gate) are not
retried; connection drops are, with exponential backoff. Failures land in `audit.alert`.
"""

from __future__ import annotations

import os

from airflow.sdk import CronTriggerTimetable, Param, TaskGroup, chain, dag, task

from sqwh.airflow_tasks import WaitForSourcesOperator
from sqwh.alerts import default_args
from sqwh.assets import raw_asset
from sqwh.dbt_tasks import LAYERS, POOL, POOL_SLOTS
from sqwh.registry import load_registry

SOURCE_POLL_SECONDS = float(os.environ.get("SQWH_SOURCE_POLL_SECONDS", "300"))

DEFAULT_ARGS = default_args(retries=2)


def _build_layer(layer: str):
    @task(task_id=f"build_{layer}", pool=POOL, pool_slots=POOL_SLOTS, priority_weight=10)
    def build(period: str) -> dict:
        from sqwh.dbt_tasks import build_layer

        return build_layer(layer, period)

    return build


@dag(
    dag_id="publish_halfyear_indicators",
    description="Half-year indicators: wait for sources, dbt, gate, publish, report",
    schedule=CronTriggerTimetable("0 3 1 1,7 *", timezone="Asia/Shanghai"),
    # no start_date: unpausing waits for the next 1 Jan / 1 Jul instead of publishing the
    # last half year at once; past half years go through the period param or a backfill
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["publish", "indicators"],
    params={
        "period": Param(
            "", type="string", description="half year like 2019H1; empty = the one just ended"
        ),
        "wait_for_sources_minutes": Param(
            720,
            type="number",
            minimum=0,
            description="how long to wait for missing deliveries (0: fail at once with the list)",
        ),
        "reason": Param(
            "",
            type="string",
            description="why a published period is published again (a correction); kept in audit.publication",
        ),
    },
    doc_md=__doc__,
)
def publish_halfyear_indicators():
    @task
    def resolve_period(params: dict | None = None, logical_date=None, dag_run=None) -> str:
        from sqwh.airflow_tasks import halfyear_period

        return halfyear_period(params, logical_date, getattr(dag_run, "run_after", None))

    @task
    def run_gate(period: str, run_id: str | None = None) -> dict:
        from sqwh import pipeline
        from sqwh.airflow_tasks import run_step

        return run_step(pipeline.validate, period, run_id)

    @task
    def publish(
        period: str, validation: dict, run_id: str | None = None, params: dict | None = None
    ) -> int:
        from sqwh import pipeline
        from sqwh.airflow_tasks import run_step

        reason = (params or {}).get("reason") or None
        return run_step(pipeline.publish, period, run_id, validation, reason)

    @task
    def render_report(period: str, publication_id: int) -> str:
        from sqwh.airflow_tasks import render_report as render

        return render(period)

    period = resolve_period()
    with TaskGroup("ingest", tooltip="every source system covers the period") as ingest:
        for system in load_registry().systems:
            WaitForSourcesOperator(
                task_id=f"wait_for_{system.code}",
                systems=[system.code],
                period="{{ ti.xcom_pull(task_ids='resolve_period') }}",
                timeout_minutes="{{ params.wait_for_sources_minutes }}",
                poll_seconds=SOURCE_POLL_SECONDS,
                inlets=[raw_asset(e.name) for e in system.entities],
            )
    with TaskGroup("transform", tooltip="dbt build per layer, with dbt tests") as transform:
        chain(*[_build_layer(layer)(period) for layer in LAYERS])
    validation = run_gate(period)
    published = publish(period, validation)
    render_report(period, published)
    period >> ingest >> transform >> validation


publish_halfyear_indicators()
