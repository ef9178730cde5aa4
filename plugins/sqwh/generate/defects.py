"""Injectable delivery defects, by name: ``<name>:<arg>:<arg>...``.

Each defect is one function in ``DEFECTS`` that parses its arguments and returns a
``Defect``: a bundle of optional hooks the writer calls for the files of one entity. To add
a defect, write one function and, if no hook fits yet, add the hook here and the one line in
``pipeline.Sink`` that calls it:

- ``skip(day)``: do not deliver this file;
- ``rows(table, day)``: change the rows of this file before it is written;
- ``edit(delivered)``: change the finished file of ``day`` (and its .chk) in the landing
  folder, or deliver more files beside it. Edits run in ``stage`` order, whatever the order
  on the command line: rows and header, then encoding, gzip, truncation, control file, and
  last the extra deliveries (so a re-delivery of a GBK file is GBK too).

File-level defects live in ``file_defects.py``; ``describe()`` lists them all for the CLI.

The normal deliveries already contain the defects every real feed has (exact duplicates,
test records, open items); these are the ones a test injects on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from sqwh.generate.geography import city_codes
from sqwh.generate.table import Table
from sqwh.generate.tamper import DeliveredFile
from sqwh.registry import load_registry


@dataclass(frozen=True)
class Defect:
    spec: str  # as given, e.g. drop-city:CC_CALL:140300
    entity: str
    skip: Callable[[date], bool] | None = None
    rows: Callable[[Table, date], Table] | None = None
    day: date | None = None  # the one file an edit applies to
    edit: Callable[[DeliveredFile], None] | None = None
    stage: int = 0


DefectFactory = Callable[..., Defect]
DEFECTS: dict[str, DefectFactory] = {}


def defect(name: str) -> Callable[[DefectFactory], DefectFactory]:
    def register(fn: DefectFactory) -> DefectFactory:
        DEFECTS[name] = fn
        return fn

    return register


def _entity(spec: str, name: str) -> str:
    try:
        load_registry().entity(name)
    except KeyError as e:
        raise ValueError(f"{spec}: {e.args[0]}") from None
    return name


# Entities without a city_code column whose rows still know their city.
CITY_VIA = {
    "CC_SURVEY": "the call's city",
    "CRM_CARE": "the customer's city",
    "CRM_AREA": "area code",
}


def _city_column(table: Table) -> np.ndarray:
    if "city_code" in table:
        return table["city_code"]
    if "_city_code" in table:  # rows whose city is their call's or customer's
        return table["_city_code"]
    if "area_code" in table:  # CRM_AREA: the city and everything below it
        return np.strings.add(np.strings.slice(table["area_code"], 0, 4), b"00")
    raise KeyError("rows carry no city")


@defect("drop-city")
def drop_city(spec: str, entity: str, city_code: str) -> Defect:
    """drop-city:<ENTITY>:<city_code> - omit every row of one city from one entity's files."""
    if city_code not in city_codes():
        raise ValueError(
            f"{spec}: {city_code} is not one of the 11 city codes {', '.join(city_codes())}"
        )
    _entity(spec, entity)
    if "city_code" not in load_registry().entity(entity).column_names and entity not in CITY_VIA:
        raise ValueError(f"{spec}: {entity} rows carry no city; drop-city cannot apply")
    code = city_code.encode()

    def rows(table: Table, day: date) -> Table:
        if not len(table):
            return table
        keep = _city_column(table) != code
        if "level" in table:  # never drop the province row of CRM_AREA
            keep |= table["level"] == b"PROVINCE"
        return table.take(np.flatnonzero(keep))

    return Defect(spec, entity, rows=rows)


@defect("drop-day")
def drop_day(spec: str, entity: str, day: str) -> Defect:
    """drop-day:<ENTITY>:<YYYYMMDD> - do not deliver that entity's file of that day."""
    missing = parse_day(spec, day)
    return Defect(spec, _entity(spec, entity), skip=lambda d: d == missing)


def parse_day(spec: str, day: str) -> date:
    try:
        return datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"{spec}: day must be YYYYMMDD, got {day!r}") from None


def parse_defect(spec: str) -> Defect:
    name, *args = spec.strip().split(":")
    factory = DEFECTS.get(name)
    if factory is None:
        raise ValueError(
            f"unknown defect {name!r} in {spec!r}; known: {', '.join(sorted(DEFECTS))}"
        )
    try:
        return factory(spec, *args)
    except TypeError:
        usage = (factory.__doc__ or name).split(" - ")[0]
        raise ValueError(f"defect {spec!r} has the wrong arguments; write it as {usage}") from None


class DefectPlan:
    """The defects of one run, looked up per entity when a file is written."""

    def __init__(self, defects: Sequence[Defect]) -> None:
        self.defects = tuple(defects)
        self.applied: set[str] = set()

    @classmethod
    def parse(cls, specs: Sequence[str]) -> DefectPlan:
        if isinstance(specs, str):
            specs = [specs]
        return cls([parse_defect(s) for s in specs])

    def _of(self, entity: str) -> list[Defect]:
        return [d for d in self.defects if d.entity == entity]

    def skip(self, entity: str, day: date) -> bool:
        return any(d.skip(day) for d in self._of(entity) if d.skip)

    def rows(self, entity: str, day: date, table: Table) -> Table:
        for d in self._of(entity):
            if d.rows:
                table = d.rows(table, day)
        return table

    def edits(self, entity: str, day: date) -> list[Defect]:
        return [d for d in self._of(entity) if d.edit is not None and d.day == day]

    def edit(self, delivered: DeliveredFile) -> None:
        edits = self.edits(delivered.entity.name, delivered.day)
        for d in sorted(edits, key=lambda d: d.stage):
            d.edit(delivered)  # type: ignore[misc]
            self.applied.add(d.spec)

    def check_applied(self) -> None:
        """A file defect whose file was never delivered is a mistake in the spec, not a no-op."""
        unused = [d.spec for d in self.defects if d.edit is not None and d.spec not in self.applied]
        if unused:
            raise ValueError(
                f"defect(s) {', '.join(unused)} matched no delivered file: is the day in the "
                "period, and is the entity delivered that day (snapshots on the last day of the "
                "period, BSS_BILL on the last day of each month)?"
            )


def describe() -> str:
    """One line per defect kind (its usage line), for ``sqwh generate --help``."""
    return "\n".join(
        (fn.__doc__ or name).strip().splitlines()[0] for name, fn in sorted(DEFECTS.items())
    )


# registers the file-level defects (imported last: it uses the decorator above)
from sqwh.generate import file_defects  # noqa: E402, F401
