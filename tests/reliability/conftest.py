"""Fixtures of the reliability suite: a scratch PostgreSQL server that tests may crash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.faults import ScratchServer


@pytest.fixture(scope="session")
def scratch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchServer]:
    server = ScratchServer(Path(tmp_path_factory.mktemp("rel-server")))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def crashable(scratch_server: ScratchServer, tmp_path: Path, monkeypatch) -> Iterator[dict]:
    """A fresh database on the scratch server (started if a previous test left it down)."""
    admin = scratch_server.start()
    url = scratch_server.new_database(admin)
    monkeypatch.setenv("SQWH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WAREHOUSE_URL", url)
    monkeypatch.setenv("SQWH_PSEUDONYM_KEY", "test-key-not-secret")
    yield {"server": scratch_server, "admin": admin, "url": url, "home": tmp_path / "home"}
