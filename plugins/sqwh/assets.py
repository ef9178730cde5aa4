"""Airflow asset names and URIs (cheap to import at DAG parse time).

- ``raw.<entity>``: a raw table got new rows (emitted by the entity's ingest task);
- ``landing.<system>``: complete files arrived in a source system's landing folder
  (emitted by an asset watcher running :class:`sqwh.airflow_triggers.LandingFileTrigger`).
"""

from __future__ import annotations

import os

from airflow.sdk import Asset, AssetWatcher

# The host is the compose service name, so the URI is the same on every deployment.
WAREHOUSE_URI = "postgres://warehouse:5432/warehouse"


def raw_asset(entity: str) -> Asset:
    table = entity.lower()
    return Asset(name=f"raw.{table}", uri=f"{WAREHOUSE_URI}/raw/{table}")


def landing_asset(system: str, landing: str) -> Asset:
    """The landing folder of one source system, watched for new control files."""
    from sqwh.airflow_triggers import LandingFileTrigger

    poll = float(os.environ.get("SQWH_LANDING_POLL_SECONDS", "60"))
    folder = os.path.join(landing, system)
    return Asset(
        name=f"landing.{system}",
        uri=f"file://sqwh-landing/{system}",
        watchers=[
            AssetWatcher(
                name=f"landing_{system}_files",
                trigger=LandingFileTrigger(folder=folder, poll_seconds=poll),
            )
        ],
    )
