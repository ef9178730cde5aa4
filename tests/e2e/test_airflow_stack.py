"""The real scheduler stack (api-server, scheduler, dag-processor, triggerer; LocalExecutor)
in the background, driven through the stable REST API with `apache-airflow-client`:

- a half year without deliveries fails at once (wait 0) with the missing source-days, an
  alert row and no retry;
- the half-year DAG triggered with a `period` waits (deferred) for its sources; files landing
  in the watched folders start the ingest DAGs (asset watcher), whose entity assets start
  `build_marts` (per-model dbt); the publication then succeeds and `reporting` holds it;
- `airflow backfill create` rebuilds that half year idempotently.

Everything started here is stopped by PID (process groups) at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.conftest import SERVER_ADMIN_URL, Sqwh, _state_env, server_available

pytestmark = pytest.mark.slow

PERIOD = "2019H1"
PUBLISH = "publish_halfyear_indicators"
PYTHON = sys.executable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    sqwh: Sqwh
    env: dict[str, str]
    url: str
    password: str
    landing: Path
    pids: dict[str, int]
    started_in: float

    def client(self):
        import airflow_client.client as client
        import requests

        token = requests.post(
            f"{self.url}/auth/token",
            json={"username": "admin", "password": self.password},
            timeout=30,
        ).json()["access_token"]
        return client.ApiClient(client.Configuration(host=self.url, access_token=token))

    def stack_cli(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "-m", "sqwh.airflow_stack", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _group_members(pgid: int) -> list[int]:
    from sqwh.process_groups import group_members

    return group_members(pgid)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = Path(tmp_path_factory.mktemp("af-stack"))
    landing = home / "landing"
    landing.mkdir()
    env = _state_env(home, None)
    port = _free_port()
    env.update(
        {
            "SQWH_LANDING": str(landing),
            "SQWH_LANDING_POLL_SECONDS": "3",
            "SQWH_SOURCE_POLL_SECONDS": "5",
            "SQWH_AIRFLOW_PORT": str(port),
            "SQWH_AIRFLOW_PASSWORD": "stack-test-pw",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        }
    )
    meta_db = None
    if server_available():
        meta_db = f"sqwh_airflow_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(SERVER_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'create database "{meta_db}"')
        base = SERVER_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"{base}/{meta_db}"
    sqwh = Sqwh(home=home, env=env)
    ctx = Stack(sqwh, env, f"http://127.0.0.1:{port}", "stack-test-pw", landing, {}, 0.0)
    started = time.monotonic()
    up = ctx.stack_cli("up", timeout=420)
    pid_dir = home / "airflow-stack" / "run"
    ctx.pids = (
        {p.stem: int(p.read_text()) for p in pid_dir.glob("*.pid")} if pid_dir.exists() else {}
    )
    try:
        assert up.returncode == 0, f"{up.stdout[-3000:]}\n{up.stderr[-5000:]}"
        ctx.started_in = time.monotonic() - started
        print(
            f"\nstack healthy in {ctx.started_in:.0f} s: {ctx.pids} (metadata: {meta_db or 'sqlite'})"
        )
        yield ctx
    finally:
        down = ctx.stack_cli("down", timeout=120)
        print(down.stdout)
        leftovers = {name: _group_members(pid) for name, pid in ctx.pids.items()}
        for members in leftovers.values():
            for pid in members:  # last resort, still only what we started
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
        sqwh("warehouse", "stop", check=False)
        if meta_db:
            with psycopg.connect(SERVER_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'drop database if exists "{meta_db}" with (force)')
        assert not any(leftovers.values()), f"processes left after down: {leftovers}"


def _latest_publication(sqwh: Sqwh, period: str) -> tuple[str, int]:
    """The run id of the period's latest publication, and how many distinct row counts its
    indicators have (1: every indicator has the same cities and province)."""
    with sqwh.connect() as conn:
        pub_run = conn.execute(
            "select run_id from audit.publication where period = %s order by publication_id desc",
            (period,),
        ).fetchone()[0]
        per_indicator = conn.execute(
            """select count(distinct n) from (select indicator_code, count(*) as n
               from reporting.half_year_indicators where period = %s and breakdown_type is null
               group by indicator_code) as c""",
            (period,),
        ).fetchone()[0]
    return pub_run, per_indicator


# -- helpers --------------------------------------------------------------------------------


def _state(value) -> str:
    return str(getattr(value, "value", value))


def _trigger(api, dag_id: str, conf: dict) -> str:
    from airflow_client.client.api.dag_run_api import DagRunApi
    from airflow_client.client.models.trigger_dag_run_post_body import TriggerDAGRunPostBody

    run = DagRunApi(api).trigger_dag_run(
        dag_id, TriggerDAGRunPostBody(logical_date=None, conf=conf)
    )
    return run.dag_run_id


def _unpause(api, *dag_ids: str) -> None:
    from airflow_client.client.api.dag_api import DAGApi
    from airflow_client.client.models.dag_patch_body import DAGPatchBody

    for dag_id in dag_ids:
        DAGApi(api).patch_dag(dag_id, DAGPatchBody(is_paused=False))


def _task_states(api, dag_id: str, run_id: str) -> dict[str, tuple[str, int]]:
    from airflow_client.client.api.task_instance_api import TaskInstanceApi

    tis = TaskInstanceApi(api).get_task_instances(dag_id, run_id, limit=200).task_instances
    return {ti.task_id: (_state(ti.state), ti.try_number) for ti in tis}


def _wait_run(api, dag_id: str, run_id: str, timeout: float, want=("success",)) -> str:
    from airflow_client.client.api.dag_run_api import DagRunApi

    deadline = time.monotonic() + timeout
    state = "?"
    while time.monotonic() < deadline:
        state = _state(DagRunApi(api).get_dag_run(dag_id, run_id).state)
        if state in ("success", "failed"):
            break
        time.sleep(5)
    assert state in want, f"{dag_id} {run_id} ended {state}: {_task_states(api, dag_id, run_id)}"
    return state


def _runs(api, dag_id: str) -> list:
    from airflow_client.client.api.dag_run_api import DagRunApi

    return DagRunApi(api).get_dag_runs(dag_id, limit=100).dag_runs


def _published(sqwh: Sqwh, period: str) -> tuple[str, int]:
    with sqwh.connect() as conn:
        rows = conn.execute(
            """select indicator_code, geo_level, city_code, breakdown_type, breakdown,
                      numerator, denominator, value
               from reporting.half_year_indicators where period = %s""",
            (period,),
        ).fetchall()
    text = "\n".join(sorted(repr(r) for r in rows))
    return hashlib.sha256(text.encode()).hexdigest(), len(rows)


# -- tests ----------------------------------------------------------------------------------


def test_stack_runs_every_dag_without_import_errors(stack: Stack) -> None:
    from airflow_client.client.api.dag_api import DAGApi
    from airflow_client.client.api.import_error_api import ImportErrorApi
    from airflow_client.client.api.monitor_api import MonitorApi

    with stack.client() as api:
        health = MonitorApi(api).get_health()
        for part in ("metadatabase", "scheduler", "triggerer", "dag_processor"):
            assert getattr(health, part).status == "healthy", health
        deadline = time.monotonic() + 120
        ids: set[str] = set()
        while time.monotonic() < deadline:
            ids = {d.dag_id for d in DAGApi(api).get_dags(limit=100).dags}
            if len(ids) >= 5:
                break
            time.sleep(3)
        assert {"ingest_bss", "ingest_crm", "ingest_cc", "build_marts", PUBLISH} <= ids
        assert ImportErrorApi(api).get_import_errors().total_entries == 0
    assert set(stack.pids) == {"api-server", "scheduler", "dag-processor", "triggerer"}


def test_missing_deliveries_fail_at_once_with_an_alert_and_no_retry(stack: Stack) -> None:
    with stack.client() as api:
        _unpause(api, PUBLISH)
        run_id = _trigger(api, PUBLISH, {"period": "2019H2", "wait_for_sources_minutes": 0})
        _wait_run(api, PUBLISH, run_id, timeout=300, want=("failed",))
        states = _task_states(api, PUBLISH, run_id)
    for system in ("bss", "crm", "cc"):
        assert states[f"ingest.wait_for_{system}"] == ("failed", 1), states  # not retried
    assert states["transform.build_staging"][0] == "upstream_failed"
    with stack.sqwh.connect() as conn:
        alerts = conn.execute(
            "select task_id, kind, message from audit.alert where run_id = %s order by task_id",
            (run_id,),
        ).fetchall()
    assert [a[0] for a in alerts] == [
        "ingest.wait_for_bss",
        "ingest.wait_for_cc",
        "ingest.wait_for_crm",
    ]
    assert all(a[1] == "data_contract" for a in alerts)
    cc = alerts[1][2]
    assert "missing source-days" in cc and "CC_CALL 2019-07-01" in cc, cc
    assert "Not retried" in cc


def test_file_arrival_drives_ingest_and_the_rest_triggered_publication(
    stack: Stack,
) -> None:
    t0 = time.monotonic()
    with stack.client() as api:
        _unpause(api, "ingest_bss", "ingest_crm", "ingest_cc", "build_marts")
        # the publication is triggered first: it waits (deferred) for the sources
        run_id = _trigger(api, PUBLISH, {"period": PERIOD})
        deadline = time.monotonic() + 120
        deferred = False
        while time.monotonic() < deadline and not deferred:
            states = _task_states(api, PUBLISH, run_id)
            deferred = any(s == "deferred" for s, _ in states.values())
            time.sleep(2)
        assert deferred, f"sensors did not defer: {states}"
        time.sleep(8)  # the watchers record the empty folders first
        stack.sqwh(
            "generate", "--period", PERIOD, "--scale", "XS", "--seed", "7",
            "--out", str(stack.landing),
        )  # fmt: skip
        _wait_run(api, PUBLISH, run_id, timeout=1200)
        published_at = time.monotonic() - t0
        ingest = {
            s: [(r.run_type, _state(r.state)) for r in _runs(api, f"ingest_{s}")]
            for s in ("bss", "crm", "cc")
        }
    print(f"\npublished {published_at:.0f} s after the trigger")
    for system, runs in ingest.items():
        assert ("asset_triggered", "success") in [(_state(t), s) for t, s in runs], (system, runs)
    digest, rows = _published(stack.sqwh, PERIOD)
    assert rows > 400
    pub_run, per_indicator = _latest_publication(stack.sqwh, PERIOD)
    assert pub_run == run_id
    assert per_indicator == 1  # 11 cities + province for every indicator
    (stack.sqwh.home / "published.json").write_text(json.dumps({"digest": digest, "rows": rows}))


def test_backfill_rebuilds_the_half_year_idempotently(stack: Stack) -> None:
    first_file = stack.sqwh.home / "published.json"
    if not first_file.exists():
        pytest.skip("needs the publication of the previous test")
    first = json.loads(first_file.read_text())
    with stack.sqwh.connect() as conn:
        raw_before = conn.execute("select count(*) from raw.cc_call").fetchone()[0]
    t0 = time.monotonic()
    proc = stack.stack_cli("backfill", "--period", PERIOD, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "--from-date 2019-06-30 --to-date 2019-07-01" in proc.stdout
    with stack.client() as api:
        deadline = time.monotonic() + 120
        backfills = []
        while time.monotonic() < deadline and not backfills:
            backfills = [r for r in _runs(api, PUBLISH) if _state(r.run_type) == "backfill"]
            time.sleep(3)
        assert len(backfills) == 1, [(r.dag_run_id, r.run_type) for r in _runs(api, PUBLISH)]
        run = backfills[0]
        assert run.logical_date.isoformat().startswith("2019-06-30T19:00")  # 1 Jul 03:00 +08
        _wait_run(api, PUBLISH, run.dag_run_id, timeout=900)
    print(f"\nbackfill published in {time.monotonic() - t0:.0f} s")
    digest, rows = _published(stack.sqwh, PERIOD)
    assert (digest, rows) == (first["digest"], first["rows"])
    with stack.sqwh.connect() as conn:
        assert conn.execute("select count(*) from raw.cc_call").fetchone()[0] == raw_before
        pubs = conn.execute(
            "select run_id from audit.publication where period = %s order by publication_id",
            (PERIOD,),
        ).fetchall()
        other = conn.execute(
            "select count(*) from reporting.half_year_indicators where period <> %s", (PERIOD,)
        ).fetchone()[0]
    assert pubs[-1][0] == run.dag_run_id and len(pubs) == 2
    assert other == 0


def test_new_raw_data_started_build_marts_with_one_task_per_model(stack: Stack) -> None:
    """The asset-triggered per-model run; by default its first dozen model tasks (the
    whole run costs ~2 more minutes here; SQWH_STACK_TEST_FULL_MARTS=1 waits for all)."""
    full = os.environ.get("SQWH_STACK_TEST_FULL_MARTS") == "1"
    with stack.client() as api:
        marts = [r for r in _runs(api, "build_marts") if _state(r.run_type) == "asset_triggered"]
        assert marts, "no asset-triggered build_marts run"
        first = sorted(marts, key=lambda r: r.run_after)[0]
        if full:
            _wait_run(api, "build_marts", first.dag_run_id, timeout=900)
        deadline = time.monotonic() + 600
        while True:
            states = _task_states(api, "build_marts", first.dag_run_id)
            models = {t: s for t, (s, _) in states.items() if t.startswith("dbt.")}
            done = [t for t, s in models.items() if s == "success"]
            bad = {t: s for t, s in models.items() if s in ("failed", "upstream_failed")}
            assert not bad, bad
            if (full and len(done) == len(models)) or (not full and len(done) >= 12):
                break
            assert time.monotonic() < deadline, f"build_marts too slow: {len(done)} done"
            time.sleep(5)
    print(f"\nbuild_marts: {len(done)} of {len(models)} model tasks succeeded")
    assert len(models) >= 30
    assert not any("indicators" in t for t in models)
    assert any(".models.staging." in t for t in done)
