"""The shape of the orchestration, as the scheduler sees it: the half-year graph
(ingest -> transform -> gate -> publish -> report), per-model dbt tasks, file-arrival and
daily schedules, the cron and its period, retries and failure alerts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dag_probe import run_probe

PROJECT = Path(__file__).resolve().parents[2]
DAGS = PROJECT / "dags"

PROBE = r"""
import json, sys
from datetime import datetime
from zoneinfo import ZoneInfo
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization
from airflow.timetables.base import DataInterval, TimeRestriction
from sqwh.airflow_tasks import halfyear_period

bag = DagBag(dag_folder=sys.argv[1])
out = {"errors": {k: str(v)[:800] for k, v in bag.import_errors.items()}, "dags": {}}
scheduler_dags = {}
for dag_id, dag in bag.dags.items():
    encoded = DagSerialization.to_dict(dag)  # what the scheduler stores
    scheduler_dags[dag_id] = DagSerialization.from_dict(encoded)
    tasks = {}
    for t in dag.tasks:
        cbs = t.on_failure_callback or []
        cbs = cbs if isinstance(cbs, list) else [cbs]
        tasks[t.task_id] = {
            "upstream": sorted(t.upstream_task_ids),
            "operator": type(t).__name__,
            "pool": t.pool, "pool_slots": t.pool_slots, "priority": t.priority_weight,
            "retries": t.retries, "backoff": bool(t.retry_exponential_backoff),
            "callbacks": [type(c).__name__ for c in cbs],
            "outlets": [getattr(o, "name", str(o)) for o in t.outlets],
        }
    tt = scheduler_dags[dag_id].timetable
    out["dags"][dag_id] = {
        "timetable": type(tt).__name__,
        "summary": tt.summary,
        "schedule": encoded["dag"]["timetable"],
        "tasks": tasks,
        "max_active_tasks": dag.max_active_tasks,
    }

pub = scheduler_dags["publish_halfyear_indicators"].timetable
tz = ZoneInfo("Asia/Shanghai")
runs = []
for after in ("2019-05-15", "2019-07-02", "2019-12-31"):
    start = datetime.fromisoformat(after).replace(tzinfo=tz)
    nxt = pub.next_dagrun_info(
        last_automated_data_interval=DataInterval(start, start),
        restriction=TimeRestriction(earliest=None, latest=None, catchup=True),
    )
    runs.append({"after": after, "run_at": nxt.logical_date.astimezone(tz).isoformat(),
                 "period": halfyear_period({}, nxt.logical_date, None)})
out["cron_runs"] = runs
out["param_period"] = halfyear_period({"period": "2018h2"}, None, None)
print("JSON" + json.dumps(out, default=str))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = run_probe(PROBE, tmp_path_factory.mktemp("airflow-home"), SQWH_LANDING="/data/landing")
    assert not data["errors"], data["errors"]
    return data


def test_halfyear_graph_is_ingest_transform_gate_publish_report(probe: dict) -> None:
    tasks = probe["dags"]["publish_halfyear_indicators"]["tasks"]
    waits = sorted(t for t in tasks if t.startswith("ingest.wait_for_"))
    assert waits == ["ingest.wait_for_bss", "ingest.wait_for_cc", "ingest.wait_for_crm"]
    for w in waits:
        assert tasks[w]["upstream"] == ["resolve_period"]
        assert tasks[w]["operator"] == "WaitForSourcesOperator"
    chain = [
        "transform.build_staging",
        "transform.build_intermediate",
        "transform.build_marts",
        "transform.build_indicators",
        "run_gate",
        "publish",
        "render_report",
    ]
    assert set(waits) <= set(tasks[chain[0]]["upstream"])
    for before, after in zip(chain, chain[1:], strict=False):
        assert before in tasks[after]["upstream"], f"{after} must run after {before}"
    for layer in chain[:4]:
        assert (tasks[layer]["pool"], tasks[layer]["pool_slots"]) == ("sqwh_dbt", 2)


def test_build_marts_has_one_task_per_model_in_dbt_order(probe: dict) -> None:
    from sqwh.dbt_tasks import manifest_path

    dag = probe["dags"]["build_marts"]
    tasks = dag["tasks"]
    nodes = json.loads(manifest_path().read_text())["nodes"]
    want = {
        f"{n['name']}_{n['resource_type']}_build"
        for n in nodes.values()
        if n["resource_type"] in ("model", "seed") and not n["path"].startswith("indicators/")
    }
    rendered = {t.rsplit(".", 1)[-1] for t in tasks}
    assert want <= rendered, f"models without a task: {sorted(want - rendered)[:10]}"
    assert not any("ind_" in t for t in tasks), "indicators belong to the half-year DAG"
    dbt_tasks = {k: v for k, v in tasks.items() if k.startswith("dbt.")}
    assert len(dbt_tasks) >= 30
    assert all(v["pool"] == "sqwh_dbt" and v["pool_slots"] == 1 for v in dbt_tasks.values())
    fct_calls = next(k for k in dbt_tasks if k.endswith("fct_calls_model_build"))
    assert any("stg_cc__calls" in u for u in tasks[fct_calls]["upstream"])
    # data-aware: every daily entity of every source system has new rows
    from sqwh.registry import load_registry

    assert dag["timetable"] == "AssetTriggeredTimetable"
    cond = dag["schedule"]["__var"]["asset_condition"]
    assert cond["__type"] == "asset_all"
    daily = {f"raw.{e.table}" for e in load_registry().entities if e.delivery == "daily"}
    assert {a["name"] for a in cond["objects"]} == daily
    assert "raw.cc_call" in daily and "raw.crm_customer" not in daily


def test_ingest_runs_daily_and_on_file_arrival(probe: dict) -> None:
    for system in ("bss", "crm", "cc"):
        dag = probe["dags"][f"ingest_{system}"]
        assert dag["timetable"] == "AssetOrTimeSchedule"
        sched = dag["schedule"]["__var"]
        assert sched["timetable"]["__var"]["expression"] == "0 2 * * *"
        assert sched["timetable"]["__var"]["timezone"] == "Asia/Shanghai"
        asset = sched["asset_condition"]
        assert asset["name"] == f"landing.{system}"
        (watcher,) = asset["watchers"]
        assert watcher["trigger"]["classpath"] == "sqwh.airflow_triggers.LandingFileTrigger"
        assert watcher["trigger"]["kwargs"]["folder"] == f"/data/landing/{system}"
        assert dag["max_active_tasks"] == 1
        loads = {k: v for k, v in dag["tasks"].items() if k.startswith("load_")}
        assert loads
        for task_id, t in loads.items():
            assert t["outlets"] == [f"raw.{task_id.removeprefix('load_')}"]
    crm = probe["dags"]["ingest_crm"]["tasks"]
    assert crm["load_crm_customer"]["priority"] > crm["load_crm_complaint"]["priority"]


def test_halfyear_cron_publishes_the_previous_half_year(probe: dict) -> None:
    dag = probe["dags"]["publish_halfyear_indicators"]
    assert dag["timetable"] == "CronTriggerTimetable"
    assert dag["summary"] == "0 3 1 1,7 *"
    runs = {r["after"]: r for r in probe["cron_runs"]}
    assert runs["2019-05-15"]["run_at"] == "2019-07-01T03:00:00+08:00"
    assert runs["2019-05-15"]["period"] == "2019H1"
    assert runs["2019-12-31"]["run_at"] == "2020-01-01T03:00:00+08:00"
    assert runs["2019-12-31"]["period"] == "2019H2"
    assert probe["param_period"] == "2018H2"


def test_every_task_retries_with_backoff_and_alerts_on_failure(probe: dict) -> None:
    for dag_id, dag in probe["dags"].items():
        for task_id, t in dag["tasks"].items():
            assert t["retries"] >= 1 and t["backoff"], f"{dag_id}.{task_id}: {t}"
            assert "AuditAlertNotifier" in t["callbacks"], f"{dag_id}.{task_id}: {t['callbacks']}"
