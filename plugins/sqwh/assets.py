"""Airflow asset names and URIs for warehouse tables (cheap to import at DAG parse time)."""

from __future__ import annotations

from airflow.sdk import Asset

# The host is the compose service name, so the URI is the same on every deployment.
WAREHOUSE_URI = "postgres://warehouse:5432/warehouse"


def raw_asset(entity: str) -> Asset:
    table = entity.lower()
    return Asset(name=f"raw.{table}", uri=f"{WAREHOUSE_URI}/raw/{table}")
