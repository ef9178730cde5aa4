"""A local Airflow 3 stack for this project: api-server (UI + REST), scheduler,
dag-processor and triggerer with the LocalExecutor (or the CeleryExecutor and one
`airflow celery worker`), against the project's warehouse.

    python -m sqwh.airflow_stack up [--port 8080] [--foreground]   # `make airflow`
    python -m sqwh.airflow_stack up --executor celery [--broker redis://127.0.0.1:6379/0]
                                    [--worker-concurrency 2] [--queue default]
    python -m sqwh.airflow_stack status
    python -m sqwh.airflow_stack down                              # `make airflow-down`
    python -m sqwh.airflow_stack backfill --period 2019H1          # `make airflow-backfill`
    eval "$(python -m sqwh.airflow_stack env)"                     # `airflow ...` CLI on it

Each component runs in its own session (``setsid``), its PID in ``<home>/run/<name>.pid``;
``down`` stops exactly those process groups (SIGTERM, then SIGKILL after a grace period).
The stack has its own Airflow home (``<SQWH_HOME>/airflow-stack``, SQLite metadata unless
``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` is set) so that ``sqwh run`` (``dag.test`` on
``<SQWH_HOME>/airflow``) never shares a metadata DB with a live scheduler (stack-notes 5).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sqwh.config import settings
from sqwh.process_groups import group_alive

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
WORKER = "celery-worker"
EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}
USER = "admin"


def _airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _secret(path: Path, nbytes: int = 64) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass
class Celery:
    """The CeleryExecutor's settings: broker, the queue the worker serves, its concurrency."""

    broker: str = "redis://127.0.0.1:6379/0"
    queue: str = "default"
    concurrency: int = 2

    def env(self, metadata_conn: str) -> dict[str, str]:
        # task results live in the metadata DB (as in docker-compose.yml), not in the broker
        backend = "db+" + metadata_conn
        return {
            "AIRFLOW__CELERY__BROKER_URL": self.broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": os.environ.get(
                "AIRFLOW__CELERY__RESULT_BACKEND", backend
            ),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
            # every task without an explicit queue goes to the one this worker serves
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
        }


@dataclass
class Stack:
    home: Path
    port: int = 8080
    extra_env: dict[str, str] = field(default_factory=dict)
    celery: Celery | None = None  # None: LocalExecutor

    @classmethod
    def default(cls, port: int | None = None, celery: Celery | None = None) -> Stack:
        home = Path(
            os.environ.get("SQWH_AIRFLOW_STACK_HOME", settings().state_dir / "airflow-stack")
        )
        return cls(
            home=home.resolve(),
            port=port or int(os.environ.get("SQWH_AIRFLOW_PORT", 8080)),
            celery=celery,
        )

    @property
    def components(self) -> dict[str, list[str]]:
        """Component name -> `airflow` arguments; the worker only with the CeleryExecutor."""
        out = {name: name.split() for name in COMPONENTS}
        if self.celery is not None:
            out[WORKER] = ["celery", "worker", "--queues", self.celery.queue,
                           "--concurrency", str(self.celery.concurrency)]  # fmt: skip
        return out

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def password_file(self) -> Path:
        return self.home / "passwords.json"

    def password(self) -> str:
        if not self.password_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            pw = os.environ.get("SQWH_AIRFLOW_PASSWORD") or secrets.token_urlsafe(12)
            self.password_file.write_text(json.dumps({USER: pw}))
            self.password_file.chmod(0o600)
        return json.loads(self.password_file.read_text())[USER]

    def env(self) -> dict[str, str]:
        """Environment of every component (and of `airflow` CLI calls against this stack)."""
        from sqwh.orchestrate import airflow_env
        from sqwh.warehouse import warehouse_url

        s = settings()
        env = {**os.environ, **airflow_env()}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": os.environ.get(
                    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{self.home / 'airflow.db'}"
                ),
                "AIRFLOW__CORE__EXECUTOR": EXECUTORS["celery" if self.celery else "local"],
                "AIRFLOW__CORE__PARALLELISM": os.environ.get("AIRFLOW__CORE__PARALLELISM", "4"),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": os.environ.get(
                    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "True"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.password_file),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API_AUTH__JWT_SECRET": _secret(self.home / "jwt-secret"),
                "AIRFLOW__API__SECRET_KEY": _secret(self.home / "api-secret"),
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
                "SQWH_HOME": str(s.state_dir),
                # every task, trigger and dbt call uses this one warehouse
                "WAREHOUSE_URL": os.environ.get("WAREHOUSE_URL") or warehouse_url(),
            }
        )
        if self.celery is not None:
            env.update(self.celery.env(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]))
        env.update(self.extra_env)
        return env

    # -- lifecycle ------------------------------------------------------------------------

    def prepare(self, env: dict[str, str]) -> None:
        """Manifest, metadata DB, pool, admin password: idempotent and quick when done."""
        from importlib.metadata import version

        from sqwh.dbt_tasks import POOL, POOL_SLOTS, ensure_manifest
        from sqwh.pipeline import prepare_warehouse

        ensure_manifest()
        os.environ.setdefault("WAREHOUSE_URL", env["WAREHOUSE_URL"])
        prepare_warehouse()
        self.home.mkdir(parents=True, exist_ok=True)
        self.password()
        marker = self.home / ".migrated"
        want = f"{version('apache-airflow-core')} {env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']}"
        if not marker.exists() or marker.read_text() != want:
            subprocess.run([_airflow_bin(), "db", "migrate"], env=env, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            marker.write_text(want)
        subprocess.run(
            [_airflow_bin(), "pools", "set", POOL, str(POOL_SLOTS),
             "dbt: a layer build takes both slots, a model build one"],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def pids(self) -> dict[str, int]:
        out = {}
        for name in (*COMPONENTS, WORKER):  # whatever was started, whichever executor
            f = self.run_dir / f"{name}.pid"
            if f.exists():
                try:
                    out[name] = int(f.read_text().strip())
                except ValueError:
                    continue
        return out

    def running(self) -> dict[str, int]:
        alive = {}
        for name, pid in self.pids().items():
            try:
                os.kill(pid, 0)
                alive[name] = pid
            except ProcessLookupError:
                pass
        return alive

    def start(self, timeout: float = 180) -> dict[str, int]:
        if self.running():
            raise RuntimeError(f"the stack already runs ({self.running()}); stop it first")
        env = self.env()
        if self.celery is not None and env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(
            "sqlite"
        ):
            # scheduler, worker processes and the result backend would all write one file
            raise RuntimeError(
                "the CeleryExecutor needs a PostgreSQL metadata database: set "
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgresql+psycopg://user:pw@host/db"
            )
        self.prepare(env)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        worker_log = self.run_dir / f"{WORKER}.log"
        self._worker_log_from = worker_log.stat().st_size if worker_log.exists() else 0
        for name, args in self.components.items():
            log = (self.run_dir / f"{name}.log").open("ab")
            proc = subprocess.Popen(
                [_airflow_bin(), *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # own process group: stopped as a whole by down()
            )
            (self.run_dir / f"{name}.pid").write_text(str(proc.pid))
        self.wait_healthy(timeout)
        return self.pids()

    def health(self) -> dict:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=5) as r:
                return json.loads(r.read())
        except (urllib.error.URLError, OSError, ValueError):
            return {}

    def wait_healthy(self, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            h = self.health()
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            if h and all((h.get(p) or {}).get("status") == "healthy" for p in parts):
                if self.celery is None or self.worker_ready():
                    return h
            dead = [n for n in self.pids() if n not in self.running()]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited; see {self.run_dir}/<name>.log")
            time.sleep(2)
        raise TimeoutError(f"stack not healthy after {timeout:.0f} s: {self.health()}")

    def worker_ready(self) -> bool:
        """The Celery worker has connected to the broker and consumes its queue."""
        log = self.run_dir / f"{WORKER}.log"
        if not log.exists():
            return False
        with log.open("rb") as f:
            f.seek(getattr(self, "_worker_log_from", 0))  # this start's lines, not older ones
            return b" ready." in f.read()

    def stop(self, grace: float = 30) -> list[str]:
        """SIGTERM each component's process group, SIGKILL what is left after `grace`."""
        stopped = []
        pids = self.pids()
        for name, pid in pids.items():
            try:
                os.killpg(pid, signal.SIGTERM)  # pid == pgid: started with start_new_session
                stopped.append(name)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        for _name, pid in pids.items():
            while time.monotonic() < deadline and group_alive(pid):
                time.sleep(0.5)
            if group_alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        # SIGKILL is asynchronous: return only once the kernel has ended every member
        settle = time.monotonic() + 10
        while time.monotonic() < settle and any(group_alive(pid) for pid in pids.values()):
            time.sleep(0.2)
        for name in pids:
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
        return stopped


def backfill_window(period: str) -> tuple[str, str]:
    """Dates for `airflow backfill create` that select exactly the scheduled run publishing
    `period`: 03:00 Asia/Shanghai on the day after it ends (still the day before in UTC)."""
    from datetime import timedelta

    from sqwh.period import Period

    run_day = Period.parse(period).end_day
    return (run_day - timedelta(days=1)).isoformat(), run_day.isoformat()


def backfill_command(period: str) -> list[str]:
    start, end = backfill_window(period)
    return [_airflow_bin(), "backfill", "create", "--dag-id", "publish_halfyear_indicators",
            "--from-date", start, "--to-date", end, "--reprocess-behavior", "completed"]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sqwh.airflow_stack")
    parser.add_argument("action", choices=["up", "down", "status", "env", "backfill"])
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--foreground", action="store_true", help="stay attached; Ctrl-C stops")
    parser.add_argument("--period", help="backfill: the half year to rebuild, e.g. 2019H1")
    parser.add_argument(
        "--executor",
        choices=sorted(EXECUTORS),
        default=os.environ.get("SQWH_AIRFLOW_EXECUTOR", "local"),
        help="local (default) or celery: CeleryExecutor plus one `airflow celery worker`",
    )
    parser.add_argument(
        "--broker",
        default=os.environ.get("AIRFLOW__CELERY__BROKER_URL", Celery.broker),
        help="celery: the Redis broker URL (default %(default)s)",
    )
    parser.add_argument(
        "--queue",
        default=os.environ.get("SQWH_CELERY_QUEUE", Celery.queue),
        help="celery: the queue tasks go to and the worker serves",
    )
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=int(os.environ.get("AIRFLOW__CELERY__WORKER_CONCURRENCY", Celery.concurrency)),
        help="celery: task slots of the worker",
    )
    args = parser.parse_args(argv)
    celery = (
        Celery(args.broker, args.queue, args.worker_concurrency)
        if args.executor == "celery"
        else None
    )
    stack = Stack.default(args.port, celery)
    if args.action == "env":
        import shlex

        for key, value in sorted(stack.env().items()):
            if key.startswith(("AIRFLOW", "SQWH_", "WAREHOUSE_URL")):
                print(f"export {key}={shlex.quote(value)}")
        return 0
    if args.action == "backfill":
        if not args.period:
            parser.error("backfill needs --period, e.g. --period 2019H1")
        cmd = backfill_command(args.period)
        print(" ".join(cmd[1:]))
        return subprocess.run(cmd, env=stack.env()).returncode
    if args.action == "down":
        stopped = stack.stop()
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
        return 0
    if args.action == "status":
        print(json.dumps({"running": stack.running(), "health": stack.health()}, indent=2))
        return 0
    t = time.monotonic()
    pids = stack.start()
    print(f"Airflow is up in {time.monotonic() - t:.0f} s: {stack.url}  (user {USER}, "
          f"password {stack.password()}, also in {stack.password_file})")  # fmt: skip
    print(f"components (PIDs): {pids}; logs in {stack.run_dir}")
    if not args.foreground:
        print("stop it with `make airflow-down` (python -m sqwh.airflow_stack down)")
        return 0
    try:
        while stack.running():
            time.sleep(2)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
