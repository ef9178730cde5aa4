"""Build, validate and publish the half-year indicators (write-audit-publish).

transform (dbt build: staging -> marts -> candidate, with dbt tests) -> validate (Great
Expectations gate; a failure stops here and leaves reporting untouched) -> publish (atomic
swap into reporting.half_year_indicators). Runs early on 1 Jan and 1 Jul (Asia/Shanghai)
for the half year just ended, or for the `period` param when triggered by hand.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 1,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
}


@dag(
    dag_id="publish_halfyear_indicators",
    schedule=CronTriggerTimetable("0 3 1 1,7 *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2019, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["publish", "indicators"],
    params={
        "period": Param(
            "", type="string", description="half year like 2019H1; empty = the one just ended"
        )
    },
    doc_md=__doc__,
)
def publish_halfyear_indicators():
    @task
    def resolve_period(params: dict | None = None, logical_date=None) -> str:
        from sqwh.period import Period

        if params and params.get("period"):
            return Period.parse(params["period"]).code
        # scheduled on 1 Jan / 1 Jul: publish the half year that just ended
        return Period.containing(logical_date.in_timezone("Asia/Shanghai").date()).previous().code

    @task
    def transform(period: str) -> dict:
        from sqwh import pipeline

        return pipeline.as_task(pipeline.transform, period)

    @task
    def validate(period: str, run_id: str | None = None) -> dict:
        from sqwh import pipeline

        return pipeline.as_task(pipeline.validate, period, run_id)

    @task
    def publish(period: str, validation: dict, run_id: str | None = None) -> int:
        from sqwh import pipeline

        return pipeline.as_task(pipeline.publish, period, run_id, validation)

    period = resolve_period()
    built = transform(period)
    validation = validate(period)
    built >> validation
    publish(period, validation)


publish_halfyear_indicators()
