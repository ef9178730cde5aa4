"""Run the generator: every registry entity of one period into a landing folder.

Entities are produced one after another, daily ones day by day, so memory stays flat in
the period length and the scale; each file is written as soon as its day is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path

from sqwh.generate.billing import BillAdjustments, bill_files
from sqwh.generate.callcentre import Calls, SpamReports
from sqwh.generate.crm_events import Care, Complaints, Surveys
from sqwh.generate.daily import DailyProducer
from sqwh.generate.defects import DefectPlan
from sqwh.generate.faults import Faults
from sqwh.generate.orders import Orders
from sqwh.generate.scales import resolve_scale
from sqwh.generate.snapshots import area_table, customer_tables, outlet_table
from sqwh.generate.summary import FileRecord, GenerationSummary
from sqwh.generate.table import Table
from sqwh.generate.tamper import DeliveredFile
from sqwh.generate.world import World
from sqwh.generate.writer import ExtractWriter, file_path
from sqwh.period import Period
from sqwh.registry import load_registry


class Sink:
    """Writes files into the landing folder, applying the run's defects, and records them."""

    def __init__(
        self, out: Path, plan: DefectPlan, summary: GenerationSummary, until: date
    ) -> None:
        self.out = out
        self.plan = plan
        self.summary = summary
        self.until = until  # files of this day and later are not written
        self.registry = load_registry()

    def wants(self, day: date) -> bool:
        return day < self.until

    def write(self, entity: str, day: date, tables: Table | Iterable[Table]) -> FileRecord | None:
        if self.plan.skip(entity, day) or not self.wants(day):
            return None
        spec = self.registry.entity(entity)
        writer = ExtractWriter(file_path(self.out, spec, day), spec, day)
        for table in [tables] if isinstance(tables, Table) else tables:
            writer.write(self.plan.rows(entity, day, table))
        record = writer.close()
        if self.plan.edits(entity, day):
            delivered = DeliveredFile(record.path, spec, day, writer.fmt, record.rows)
            self.plan.edit(delivered)
            record = delivered.record()
            self.summary.files.extend([record, *delivered.extra])
        else:
            self.summary.files.append(record)
        return record


Job = Callable[[World, Period, Sink], None]


def _daily(cls: type[DailyProducer]) -> Job:
    def run(world: World, period: Period, sink: Sink) -> None:
        producer = cls(world, period)
        d = period.first_day - timedelta(days=producer.lookback)
        while d < min(period.end_day, sink.until):
            tables = producer.day(d)
            if d >= period.first_day:
                for entity in producer.entities:
                    sink.write(entity, d, tables[entity])
            d += timedelta(days=1)

    return run


# Snapshots are dated the period's last day: skipped (not even computed) when the run
# stops earlier.
def _areas(world: World, period: Period, sink: Sink) -> None:
    if sink.wants(period.last_day):
        sink.write("CRM_AREA", period.last_day, area_table())


def _outlets(world: World, period: Period, sink: Sink) -> None:
    if sink.wants(period.last_day):
        sink.write("CRM_OUTLET", period.last_day, outlet_table(world, period))


def _customers(world: World, period: Period, sink: Sink) -> None:
    if sink.wants(period.last_day):
        sink.write("CRM_CUSTOMER", period.last_day, customer_tables(world, period))


def _bills(world: World, period: Period, sink: Sink) -> None:
    for day, table in bill_files(world, period):
        sink.write("BSS_BILL", day, table)


# (entities, job) in registry order; CC_SURVEY is made with the calls it surveys.
JOBS: tuple[tuple[tuple[str, ...], Job], ...] = (
    (Orders.entities, _daily(Orders)),
    (Faults.entities, _daily(Faults)),
    (("BSS_BILL",), _bills),
    (BillAdjustments.entities, _daily(BillAdjustments)),
    (("CRM_OUTLET",), _outlets),
    (("CRM_AREA",), _areas),
    (("CRM_CUSTOMER",), _customers),
    (Care.entities, _daily(Care)),
    (Complaints.entities, _daily(Complaints)),
    (Surveys.entities, _daily(Surveys)),
    (Calls.entities, _daily(Calls)),
    (SpamReports.entities, _daily(SpamReports)),
)


def generate(
    out: Path,
    period: str,
    scale: str | float = "S",
    seed: int = 42,
    defects: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
    days: int | None = None,
) -> GenerationSummary:
    """Write one period's extract files (and their .chk files) under ``out``.

    Same (period, scale, seed, defects) -> byte-identical files. Keys carry their business
    date, so several periods can be generated into the same landing folder. ``days`` stops
    after the period's first N days (one more day of deliveries): those files are the same
    bytes as in the whole period's run; monthly and snapshot files dated later are left out.
    """
    per = Period.parse(period)
    if days is not None and days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    until = per.end_day if days is None else min(per.end_day, per.first_day + timedelta(days))
    fraction = resolve_scale(scale)
    plan = DefectPlan.parse(defects)
    world = World(seed, fraction)
    summary = GenerationSummary(Path(out), per.code, fraction, seed, tuple(defects))
    sink = Sink(Path(out), plan, summary, until)
    started = time.perf_counter()
    for entities, job in JOBS:
        t0, before = time.perf_counter(), len(summary.files)
        job(world, per, sink)
        if progress is not None:
            elapsed = time.perf_counter() - t0
            for entity in entities:
                files = [f for f in summary.files[before:] if f.entity == entity]
                rows = sum(f.rows for f in files)
                progress(f"{entity}: {len(files)} files, {rows:,} rows, {elapsed:.1f} s")
    plan.check_applied()
    summary.seconds = time.perf_counter() - started
    return summary
