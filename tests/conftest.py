"""Shared fixtures: an isolated project state (embedded warehouse, Airflow home) per session,
and the server PostgreSQL when one answers."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

PROJECT = Path(__file__).resolve().parents[1]
SQWH = Path(sys.executable).with_name("sqwh")
SERVER_ADMIN_URL = os.environ.get(
    "WAREHOUSE_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Sqwh:
    """Runs the real `sqwh` command line with an isolated state folder and warehouse."""

    home: Path
    env: dict[str, str]

    def __call__(
        self, *args: str, check: bool = True, timeout: int = 900
    ) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [str(SQWH), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"sqwh {' '.join(args)} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
            )
        return proc

    @property
    def url(self) -> str:
        return self("warehouse", "url").stdout.strip().splitlines()[-1]

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)


def _state_env(home: Path, warehouse_url: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "SQWH_", "WAREHOUSE_URL", "DBT_"))
    }
    env["SQWH_HOME"] = str(home)
    env["SQWH_PSEUDONYM_KEY"] = "test-key-not-secret"
    if warehouse_url:
        env["WAREHOUSE_URL"] = warehouse_url
    return env


@pytest.fixture(scope="session")
def embedded_sqwh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sqwh]:
    """The default path a new user gets: no configuration, embedded PostgreSQL."""
    home = Path(tmp_path_factory.mktemp("sqwh-embedded"))
    runner = Sqwh(home=home, env=_state_env(home, None))
    yield runner
    runner("warehouse", "stop", check=False)


def server_available() -> bool:
    try:
        psycopg.connect(SERVER_ADMIN_URL, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def server_sqwh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sqwh]:
    """The server path: the machine's PostgreSQL via WAREHOUSE_URL, in a fresh database."""
    if not server_available():
        pytest.skip(
            f"no server PostgreSQL answers at {SERVER_ADMIN_URL} (set WAREHOUSE_TEST_SERVER_URL)"
        )
    db = f"sqwh_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'create database "{db}"')
    home = Path(tmp_path_factory.mktemp("sqwh-server"))
    url = SERVER_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"
    yield Sqwh(home=home, env=_state_env(home, url))
    with psycopg.connect(SERVER_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{db}" with (force)')


@pytest.fixture
def scratch_db(embedded_sqwh: Sqwh, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, bootstrapped database on the session's embedded server, for in-process tests."""
    from sqwh.schema import bootstrap

    base = embedded_sqwh.url
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    admin = base.replace("/warehouse?", "/postgres?")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = base.replace("/warehouse?", f"/{name}?")
    monkeypatch.setenv("SQWH_HOME", str(embedded_sqwh.home))
    monkeypatch.setenv("SQWH_PSEUDONYM_KEY", "test-key-not-secret")
    monkeypatch.setenv("WAREHOUSE_URL", url)
    bootstrap(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
