"""Which deliveries a half year still lacks, per source system, from the load ledger.

"Covered" means what the half-year publication needs before it builds anything:
- daily entities: a loaded file for every business day of the period (a header-only file
  counts: "no events that day" is a delivery, a missing file is not);
- monthly entities: a loaded file for every month of the period;
- snapshot entities: a snapshot taken on or after the period's last day (an unchanged one,
  byte-identical to an earlier delivery and so recorded as DUPLICATE, counts).

The publication DAG waits on this (in the triggerer, deferrable) and fails with the list when
its timeout passes; the quality gate checks the content (city-days) after the build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from sqwh.period import Period
from sqwh.registry import Entity, load_registry


@dataclass(frozen=True, order=True)
class Missing:
    entity: str
    what: str  # '2019-03-05', 'month 201903' or 'snapshot on/after 2019-06-30'

    def __str__(self) -> str:
        return f"{self.entity} {self.what}"


def _entities(systems: list[str] | None) -> list[Entity]:
    registry = load_registry()
    wanted = set(systems) if systems else None
    return [e for e in registry.entities if wanted is None or e.system in wanted]


def _loaded_dates(conn: psycopg.Connection, entities: list[Entity], period: Period) -> dict:
    """entity -> business dates with a loaded file (snapshots: up to a year after the period;
    an unchanged snapshot is byte-identical to the previous one, recorded as DUPLICATE)."""
    snapshots = [e.name for e in entities if e.delivery == "snapshot"]
    rows = conn.execute(
        """select entity, business_date from audit.load_manifest
           where entity = any(%s)
             and (status = 'LOADED' or (status = 'DUPLICATE' and entity = any(%s)))
             and business_date >= %s and business_date < %s::date + 366""",
        ([e.name for e in entities], snapshots, period.first_day, period.end_day),
    ).fetchall()
    out: dict[str, set[date]] = {e.name: set() for e in entities}
    for entity, day in rows:
        out.setdefault(entity, set()).add(day)
    return out


def missing_deliveries(
    conn: psycopg.Connection, period: str, systems: list[str] | None = None
) -> list[Missing]:
    """Every delivery the period still lacks for the given source systems (all if None)."""
    p = Period.parse(period)
    entities = _entities(systems)
    if conn.execute("select to_regclass('audit.load_manifest')").fetchone()[0] is None:  # type: ignore[index]
        loaded: dict[str, set[date]] = {e.name: set() for e in entities}
    else:
        loaded = _loaded_dates(conn, entities, p)
    missing: list[Missing] = []
    for e in entities:
        days = loaded.get(e.name, set())
        if e.delivery == "daily":
            missing += [Missing(e.name, d.isoformat()) for d in p.days if d not in days]
        elif e.delivery == "monthly":
            months = {d.strftime("%Y%m") for d in days if d < p.end_day}
            missing += [Missing(e.name, f"month {m}") for m in p.months if m not in months]
        elif not any(d >= p.last_day for d in days):  # snapshot
            missing.append(Missing(e.name, f"snapshot on/after {p.last_day.isoformat()}"))
    return sorted(missing)


def summarise(missing: list, limit: int = 30) -> str:
    """Operator-readable list: counts per entity, then the first missing source-days."""
    if not missing:
        return "every source covers the period"
    items = [str(m) for m in missing]
    per_entity: dict[str, int] = {}
    for m in items:
        entity = m.split(" ", 1)[0]
        per_entity[entity] = per_entity.get(entity, 0) + 1
    head = ", ".join(f"{e}: {n}" for e, n in sorted(per_entity.items()))
    lines = [f"{len(items)} missing source-days ({head}):", *(f"  {m}" for m in items[:limit])]
    if len(items) > limit:
        lines.append(f"  ... and {len(items) - limit} more")
    return "\n".join(lines)
