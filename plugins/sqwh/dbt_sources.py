"""Render the dbt source declarations of the raw tables from the source registry.

`dbt/models/staging/_raw__sources.yml` is this function's output, committed so dbt
needs no Python at parse time; a test fails when the two drift apart
(fix with `sqwh dbt-sources --write`).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sqwh.registry import Registry, load_registry

HEADER = "# Generated from plugins/sqwh/sources.yml by `sqwh dbt-sources --write`; do not edit.\n"


def render(registry: Registry | None = None) -> str:
    registry = registry or load_registry()
    tables = []
    for system in registry.systems:
        for entity in system.entities:
            columns = []
            for c in entity.columns:
                desc = f"{c.type}{', personal data (clear text only in raw)' if c.personal else ''}"
                columns.append({"name": c.name, "description": desc})
            columns += [
                {
                    "name": "_load_id",
                    "description": "audit.load_manifest.load_id of the file the row came from",
                },
                {
                    "name": "_record_no",
                    "description": "record number in that file (1 = first after the header)",
                },
                {"name": "_business_date", "description": "business day from the file name"},
            ]
            tables.append(
                {
                    "name": entity.table,
                    "description": f"{entity.name} from {system.name}; {entity.delivery} delivery; "
                    f"key {', '.join(entity.key)}.",
                    "columns": columns,
                }
            )
    doc = {
        "version": 2,
        "sources": [
            {
                "name": "raw",
                "schema": "raw",
                "description": "Extract files as delivered, typed and contract-checked by the loader.",
                "tables": tables,
            }
        ],
    }
    return HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)


def path(dbt_dir: Path) -> Path:
    return dbt_dir / "models" / "staging" / "_raw__sources.yml"
