"""Triggers that run in Airflow's triggerer (asyncio): waiting costs no worker slot.

- :class:`LandingFileTrigger` watches a landing folder for new control files (``*.chk``:
  a sender writes it last, so a file with its ``.chk`` is complete). Used by an
  ``AssetWatcher``: each new batch of deliveries becomes an asset event that starts the
  source system's ingest DAG.
- :class:`SourceCoverageTrigger` polls the load ledger until the source systems cover a
  half year, or reports the missing source-days at its deadline.

Cheap to import (DAG files reference the classes at parse time).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent

STATE_KEY = "control_files_fingerprint"


def control_files(folder: str) -> tuple[str, list[str]]:
    """Fingerprint of the complete deliveries (``*.chk``: name, size, mtime) and their names."""
    entries = []
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name.endswith(".chk") and e.is_file():
                    st = e.stat()
                    entries.append((e.name, st.st_size, st.st_mtime_ns))
    except FileNotFoundError:
        pass
    entries.sort()
    digest = hashlib.sha256(repr(entries).encode()).hexdigest()
    return digest, [name for name, _, _ in entries]


class LandingFileTrigger(BaseEventTrigger):
    """Fires when the set of control files in ``folder`` changed and then stayed unchanged for
    one poll (a batch of deliveries has landed). The last announced state is kept in the
    asset's state store, so a restarted triggerer announces only what arrived meanwhile."""

    def __init__(self, folder: str, poll_seconds: float = 60.0) -> None:
        super().__init__()
        self.folder = folder
        self.poll_seconds = float(poll_seconds)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"folder": self.folder, "poll_seconds": self.poll_seconds},
        )

    async def _stored(self) -> str | None:
        store = getattr(self, "asset_state_store", None)
        if store is None:
            return None
        try:
            value = await store.aget(STATE_KEY)
        except Exception:
            self.log.warning("asset state store unavailable; remembering in memory only")
            return None
        return str(value) if value else None

    async def _store(self, fingerprint: str) -> None:
        store = getattr(self, "asset_state_store", None)
        if store is None:
            return
        try:
            await store.aset(STATE_KEY, fingerprint)
        except Exception:
            self.log.warning("could not persist the landing state; continuing in memory")

    async def run(self) -> AsyncIterator[TriggerEvent]:
        announced = await self._stored()
        empty, _ = await asyncio.to_thread(control_files, "/nonexistent-sqwh-folder")
        if announced is None:
            announced = empty  # first start: announce whatever is already waiting
        previous: str | None = None
        while True:
            fingerprint, names = await asyncio.to_thread(control_files, self.folder)
            if fingerprint != announced and fingerprint == previous:
                self.log.info("%s: %d complete deliveries; announcing", self.folder, len(names))
                yield TriggerEvent(
                    {
                        "folder": self.folder,
                        "control_files": len(names),
                        "latest": names[-5:],
                        "fingerprint": fingerprint,
                    }
                )
                announced = fingerprint
                await self._store(fingerprint)
            previous = fingerprint
            await asyncio.sleep(self.poll_seconds)


class SourceCoverageTrigger(BaseTrigger):
    """Yields ``{"status": "covered"}`` once the systems cover the period, or
    ``{"status": "timeout", "missing": [...]}`` at the deadline (ISO timestamp, UTC)."""

    def __init__(
        self, period: str, systems: list[str], deadline: str, poll_seconds: float = 300.0
    ) -> None:
        super().__init__()
        self.period = period
        self.systems = list(systems)
        self.deadline = deadline
        self.poll_seconds = float(poll_seconds)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "period": self.period,
                "systems": self.systems,
                "deadline": self.deadline,
                "poll_seconds": self.poll_seconds,
            },
        )

    async def _url(self) -> str:
        from sqwh.airflow_tasks import connection_url, warehouse_conn_id
        from sqwh.warehouse import warehouse_url

        if os.environ.get("WAREHOUSE_URL"):
            return os.environ["WAREHOUSE_URL"]
        try:
            from airflow.sdk import Connection

            return connection_url(await Connection.async_get(warehouse_conn_id()))
        except Exception:
            return await asyncio.to_thread(warehouse_url)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from sqwh.airflow_tasks import missing_now

        url = await self._url()
        deadline = datetime.fromisoformat(self.deadline)
        while True:
            try:
                missing = await asyncio.to_thread(missing_now, self.period, self.systems, url)
            except Exception as exc:  # a dropped connection: try again at the next poll
                self.log.warning("coverage check failed (%s); retrying", exc)
                missing = None
            if missing == []:
                yield TriggerEvent({"status": "covered", "period": self.period})
                return
            remaining = (deadline - datetime.now(UTC)).total_seconds()
            if remaining <= 0:
                yield TriggerEvent(
                    {
                        "status": "timeout",
                        "period": self.period,
                        "missing": (missing or [])[:2000],
                    }
                )
                return
            await asyncio.sleep(min(self.poll_seconds, max(remaining, 1.0)))
