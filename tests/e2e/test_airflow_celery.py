"""Scale-out for real: the Airflow stack with the CeleryExecutor, the machine's Redis as
broker and one `airflow celery worker` process (concurrency 2), driven through the REST API.

The ingest DAGs and the half-year DAG are triggered by hand; the test then proves that the
worker, not the scheduler, ran every task: each task instance carries the queue only this
worker serves, and the worker's log names each task instance it executed. Skipped, with the
reason, when no Redis answers at ``SQWH_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/13,
a database number of its own) or no server PostgreSQL for Airflow's metadata. Everything started here is stopped by process group.
"""

from __future__ import annotations

import os
import re
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
from tests.e2e.test_airflow_stack import (
    PERIOD,
    PUBLISH,
    _free_port,
    _group_members,
    _latest_publication,
    _published,
    _state,
    _trigger,
    _unpause,
    _wait_run,
)

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("SQWH_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
INGEST = ("ingest_bss", "ingest_crm", "ingest_cc")


def _redis_unavailable() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return None
    except redis.RedisError as exc:
        return f"no Redis answers at {REDIS_URL} (set SQWH_TEST_REDIS_URL): {exc}"


@dataclass
class CeleryStack:
    sqwh: Sqwh
    env: dict[str, str]
    url: str
    queue: str
    run_dir: Path
    pids: dict[str, int]

    def client(self):
        import airflow_client.client as client
        import requests

        token = requests.post(
            f"{self.url}/auth/token",
            json={"username": "admin", "password": "celery-test-pw"},
            timeout=30,
        ).json()["access_token"]
        return client.ApiClient(client.Configuration(host=self.url, access_token=token))

    def stack_cli(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sqwh.airflow_stack", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture(scope="module")
def celery_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CeleryStack]:
    reason = _redis_unavailable()
    if reason:
        pytest.skip(reason)
    if not server_available():
        pytest.skip(
            "the CeleryExecutor needs a PostgreSQL metadata DB; none answers at "
            f"{SERVER_ADMIN_URL} (set WAREHOUSE_TEST_SERVER_URL)"
        )
    home = Path(tmp_path_factory.mktemp("af-celery"))
    landing = home / "landing"
    env = _state_env(home, None)
    port = _free_port()
    queue = f"sqwh_test_{uuid.uuid4().hex[:8]}"  # no other worker on this Redis serves it
    env.update(
        {
            "SQWH_LANDING": str(landing),
            "SQWH_SOURCE_POLL_SECONDS": "5",
            "SQWH_AIRFLOW_PORT": str(port),
            "SQWH_AIRFLOW_PASSWORD": "celery-test-pw",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        }
    )
    sqwh = Sqwh(home=home, env=env)
    # the deliveries are in place before the stack starts: the test triggers the ingest DAGs
    sqwh("generate", "--period", PERIOD, "--scale", "XS", "--seed", "7", "--out", str(landing))
    meta_db = f"sqwh_airflow_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'create database "{meta_db}"')
    base = SERVER_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"{base}/{meta_db}"
    run_dir = home / "airflow-stack" / "run"
    ctx = CeleryStack(sqwh, env, f"http://127.0.0.1:{port}", queue, run_dir, {})
    started = time.monotonic()
    up = ctx.stack_cli(
        "up", "--executor", "celery", "--broker", REDIS_URL, "--queue", queue,
        "--worker-concurrency", "2", timeout=420,
    )  # fmt: skip
    ctx.pids = (
        {p.stem: int(p.read_text()) for p in run_dir.glob("*.pid")} if run_dir.exists() else {}
    )
    try:
        assert up.returncode == 0, f"{up.stdout[-3000:]}\n{up.stderr[-5000:]}"
        print(f"\ncelery stack healthy in {time.monotonic() - started:.0f} s: {ctx.pids}")
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
        with psycopg.connect(SERVER_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{meta_db}" with (force)')
        _drop_queue(queue)
        assert not any(leftovers.values()), f"processes left after down: {leftovers}"


def _drop_queue(queue: str) -> None:
    """Remove this run's queue and its bindings from the broker database."""
    import redis

    r = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    r.delete(queue)
    for key in r.scan_iter(match=f"*{queue}*"):
        r.delete(key)


def _task_instances(api, dag_id: str, run_id: str) -> list:
    from airflow_client.client.api.task_instance_api import TaskInstanceApi

    return TaskInstanceApi(api).get_task_instances(dag_id, run_id, limit=200).task_instances


def test_celery_worker_runs_the_half_year_dag(celery_stack: CeleryStack) -> None:
    stack = celery_stack
    assert set(stack.pids) == {
        "api-server", "scheduler", "dag-processor", "triggerer", "celery-worker",
    }  # fmt: skip
    t0 = time.monotonic()
    runs: dict[str, str] = {}
    with stack.client() as api:
        _unpause(api, *INGEST, PUBLISH)
        for dag_id in INGEST:
            runs[dag_id] = _trigger(api, dag_id, {})
        runs[PUBLISH] = _trigger(api, PUBLISH, {"period": PERIOD})  # waits for the sources
        for dag_id, run_id in runs.items():
            _wait_run(api, dag_id, run_id, timeout=1200)
        tis = {(dag_id, ti.task_id): ti for dag_id, rid in runs.items()
               for ti in _task_instances(api, dag_id, rid)}  # fmt: skip
    print(f"\nthe half year published {time.monotonic() - t0:.0f} s after the triggers")

    ran = {key: ti for key, ti in tis.items() if _state(ti.state) in ("success", "skipped")}
    executed = {key: ti for key, ti in ran.items() if ti.start_date is not None}
    assert len(executed) >= 12, sorted(ran)  # ingest tasks, waits, 4 dbt layers, gate, publish
    for key in ("transform.build_staging", "run_gate", "publish", "render_report"):
        assert (PUBLISH, key) in executed, sorted(executed)
    # the queue only this worker consumes, and the worker's host
    assert {ti.queue for ti in executed.values()} == {stack.queue}
    assert all(ti.hostname for ti in executed.values()), {
        k: ti.hostname for k, ti in executed.items()
    }
    # the worker's own log names every task instance it executed
    worker_log = (stack.run_dir / "celery-worker.log").read_text(errors="replace")
    received = re.findall(r"Executing workload in Celery: (.*)", worker_log)
    assert received, worker_log[-3000:]
    missing = [
        key
        for key, ti in executed.items()
        if _state(ti.state) == "success"
        and not any(
            f"task_id='{ti.task_id}'" in line and f"dag_id='{key[0]}'" in line for line in received
        )
    ]
    assert not missing, f"not in the worker log: {missing}\n{received[:5]}"
    scheduler_log = (stack.run_dir / "scheduler.log").read_text(errors="replace")
    assert "CeleryExecutor" in scheduler_log

    digest, rows = _published(stack.sqwh, PERIOD)
    assert rows > 400
    pub_run, per_indicator = _latest_publication(stack.sqwh, PERIOD)
    with stack.sqwh.connect() as conn:
        loaded = conn.execute(
            "select count(*) from audit.load_manifest where status = 'LOADED'"
        ).fetchone()[0]
    assert pub_run == runs[PUBLISH]
    assert per_indicator == 1  # 11 cities + province for every indicator
    landed = len(list((stack.sqwh.home / "landing").rglob("*.chk")))
    assert loaded == landed, (loaded, landed)  # every generated file, loaded by the worker
