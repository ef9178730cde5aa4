"""The source registry: extract contracts read from ``sources.yml``.

Every other part of the product (raw DDL, loader checks, generator, ingest DAGs)
reads the contracts from here, so a changed interface is a one-file diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

REGISTRY_PATH = Path(__file__).with_name("sources.yml")

# Postgres types for the typed raw tables; timestamps are local Asia/Shanghai in the
# files and stored as timestamptz so period boundaries hold whatever the server TimeZone.
PG_TYPES = {
    "text": "text",
    "int": "integer",
    "bigint": "bigint",
    "timestamp": "timestamptz",
    "date": "date",
    "month": "text",
}

FILE_NAME = re.compile(
    r"^(?P<entity>[A-Z]+_[A-Z_]+?)_(?P<day>\d{8})(?:_(?P<seq>\d+))?\.csv(?P<gz>\.gz)?$"
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    personal: bool = False
    enum: tuple[str, ...] | None = None
    pattern: str | None = None

    @property
    def pg_type(self) -> str:
        return PG_TYPES[self.type]


@dataclass(frozen=True)
class Entity:
    name: str  # e.g. BSS_ORDER
    system: str  # e.g. bss
    delivery: str  # daily | monthly | snapshot
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    delimiter: str
    encoding: str
    timestamp_format: str
    business_time: str | None = None
    city_day_coverage: bool = False
    write_encoding: str = "utf-8"

    @property
    def table(self) -> str:
        """Name of the raw table (schema ``raw``)."""
        return self.name.lower()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def personal_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.personal]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


@dataclass(frozen=True)
class System:
    code: str
    name: str
    entities: tuple[Entity, ...]


@dataclass(frozen=True)
class Registry:
    timezone: str
    systems: tuple[System, ...]

    @property
    def entities(self) -> list[Entity]:
        return [e for s in self.systems for e in s.entities]

    def entity(self, name: str) -> Entity:
        for e in self.entities:
            if e.name == name:
                return e
        raise KeyError(f"unknown entity {name!r}; known: {', '.join(self.entity_names)}")

    @property
    def entity_names(self) -> list[str]:
        return [e.name for e in self.entities]

    def system(self, code: str) -> System:
        for s in self.systems:
            if s.code == code:
                return s
        raise KeyError(f"unknown source system {code!r}")


def _column(raw: dict) -> Column:
    enum = raw.get("enum")
    return Column(
        name=raw["name"],
        type=raw["type"],
        required=bool(raw.get("required", False)),
        personal=bool(raw.get("personal", False)),
        enum=tuple(str(v) for v in enum) if enum else None,
        pattern=raw.get("pattern"),
    )


def parse_registry(data: dict) -> Registry:
    systems = []
    for code, sysdef in data["systems"].items():
        entities = tuple(
            Entity(
                name=name,
                system=code,
                delivery=e["delivery"],
                key=tuple(e["key"]),
                columns=tuple(_column(c) for c in e["columns"]),
                delimiter=e["delimiter"],
                encoding=e["encoding"],
                timestamp_format=e["timestamp_format"],
                business_time=e.get("business_time"),
                city_day_coverage=bool(e.get("city_day_coverage", False)),
                write_encoding=e.get("write_encoding", "utf-8"),
            )
            for name, e in sysdef["entities"].items()
        )
        systems.append(System(code=code, name=sysdef["name"], entities=entities))
    return Registry(timezone=data["timezone"], systems=tuple(systems))


@cache
def load_registry(path: Path = REGISTRY_PATH) -> Registry:
    return parse_registry(yaml.safe_load(path.read_text(encoding="utf-8")))
