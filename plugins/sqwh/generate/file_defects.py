"""Defects of delivered files, one entity and business day each: ``<kind>:<ENTITY>:<YYYYMMDD>...``.

Every kind here is what a real extract feed has done at some point; the loader must load,
quarantine, refuse or wait for each as its contract says. Which rows a defect touches is
drawn from a generator seeded by the spec itself, so the same spec gives the same bytes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import numpy as np

from sqwh.generate.defects import Defect, _entity, defect, parse_day
from sqwh.generate.tamper import DeliveredFile
from sqwh.registry import Column, Entity, load_registry

# stages: the order edits of one file run in (see defects.py)
ROWS, ENCODING, GZIP, TRUNCATE, CONTROL, DELIVERIES = range(6)

ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-bom": "utf-8-sig",
    "gbk": "gbk",
    "gb18030": "gb18030",
    "utf-16": "utf-16",  # neither UTF-8 nor GB18030: the loader must refuse it
}


def _rng(spec: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(hashlib.sha256(spec.encode()).digest()[:8]))


def _count(spec: str, text: str) -> Callable[[int], int]:
    """``N`` records, or ``P%`` of the file's records (rounded up)."""
    try:
        if text.endswith("%"):
            share = float(text[:-1]) / 100
            if not 0 < share <= 1:
                raise ValueError
            return lambda n: math.ceil(n * share)
        fixed = int(text)
        if fixed < 1:
            raise ValueError
        return lambda n: fixed
    except ValueError:
        raise ValueError(f"{spec}: {text!r} is neither a count >= 1 nor a share like 2%") from None


def _pick(spec: str, rows: list[list[str]], how_many: int) -> list[int]:
    if how_many > len(rows):
        raise ValueError(f"{spec}: the file has {len(rows)} records, fewer than {how_many}")
    return sorted(_rng(spec).choice(len(rows), size=how_many, replace=False).tolist())


def _target(spec: str, entity: str, day: str) -> tuple[Entity, date]:
    return load_registry().entity(_entity(spec, entity)), parse_day(spec, day)


def _column(spec: str, entity: Entity, name: str | None, default: Column | None, what: str) -> str:
    if name:
        if name not in entity.column_names:
            raise ValueError(
                f"{spec}: {entity.name} has no column {name!r} "
                f"(columns: {', '.join(entity.column_names)})"
            )
        return name
    if default is None:
        raise ValueError(f"{spec}: {entity.name} has no {what}; name a column")
    return default.name


# --- bad rows ----------------------------------------------------------------------------


def _bad_value(kind: str, column: Column, value: str, compact: bool) -> str:
    if kind == "type":
        return "N/A"  # what spreadsheets write for a missing number
    if kind == "enum":
        return value.lower() if value.lower() != value else f"X{value}"
    if kind == "timestamp":  # 30 February, in the file's own timestamp form
        return value[:4] + ("0230" if compact else "-02-30") + value[(8 if compact else 10) :]
    return ""  # required


def _bad_column(kind: str, entity: Entity) -> Column | None:
    cols = entity.columns
    key = set(entity.key)
    if kind == "type":
        return next((c for c in cols if c.type in ("int", "bigint") and not c.enum), None)
    if kind == "enum":
        alpha = [c for c in cols if c.enum and any(not v.isdigit() for v in c.enum)]
        return next((c for c in alpha if c.required), alpha[0] if alpha else None)
    if kind == "timestamp":
        return next((c for c in cols if c.type == "timestamp" and c.required), None)
    return next((c for c in cols if c.required and c.name not in key), None)


@defect("bad-rows")
def bad_rows(spec: str, entity: str, day: str, kind: str, count: str = "1") -> Defect:
    """bad-rows:<ENTITY>:<YYYYMMDD>:<type|enum|timestamp|required>[:<N>|<P%>] - N records (default 1), or P % of them, get a value breaking the contract: 'N/A' in an integer column, a lower-cased code, 30 February in the file's timestamp form (YYYYMMDDHHMMSS for compact sources), an empty required field."""
    kinds = ("type", "enum", "timestamp", "required")
    if kind not in kinds:
        raise ValueError(f"{spec}: kind must be one of {', '.join(kinds)}, got {kind!r}")
    spec_entity, when = _target(spec, entity, day)
    column = _column(spec, spec_entity, None, _bad_column(kind, spec_entity), f"column for {kind}")
    how_many = _count(spec, count)

    def edit(f: DeliveredFile) -> None:
        header, rows = f.records()
        i = header.index(column)
        compact = f.fmt.timestamp_format == "compact"
        col = spec_entity.column(column)
        for r in _pick(spec, rows, how_many(len(rows))):
            rows[r][i] = _bad_value(kind, col, rows[r][i], compact)
        f.write_records(header, rows)

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=ROWS)


@defect("dup-keys")
def dup_keys(spec: str, entity: str, day: str, count: str = "1") -> Defect:
    """dup-keys:<ENTITY>:<YYYYMMDD>[:<N>] - N records (default 1) appear twice in the file, each copy right after its original."""
    spec_entity, when = _target(spec, entity, day)
    how_many = _count(spec, count)

    def edit(f: DeliveredFile) -> None:
        header, rows = f.records()
        twice = set(_pick(spec, rows, how_many(len(rows))))
        out = []
        for i, row in enumerate(rows):
            out.append(row)
            if i in twice:
                out.append(list(row))
        f.write_records(header, out)

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=ROWS)


def _free_text(entity: Entity) -> Column | None:
    free = [
        c
        for c in entity.columns
        if c.type == "text" and not c.enum and not c.pattern and c.name not in entity.key
    ]
    return next((c for c in free if not c.personal), free[0] if free else None)


@defect("quoted")
def quoted(spec: str, entity: str, day: str, count: str = "1", column: str = "") -> Defect:
    """quoted:<ENTITY>:<YYYYMMDD>[:<N>[:<column>]] - N records (default 1) get a free-text value holding both delimiters, a double quote and a line break, so the field is quoted and spans two lines."""
    spec_entity, when = _target(spec, entity, day)
    name = _column(spec, spec_entity, column, _free_text(spec_entity), "free-text column")
    how_many = _count(spec, count)

    def edit(f: DeliveredFile) -> None:
        header, rows = f.records()
        i = header.index(name)
        for r in _pick(spec, rows, how_many(len(rows))):
            rows[r][i] = f'{rows[r][i]}|a,b "quoted"\nsecond line'
        f.write_records(header, rows)

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=ROWS)


# --- header drift, empty files -------------------------------------------------------------


@defect("header")
def header_drift(spec: str, entity: str, day: str, kind: str, column: str = "") -> Defect:
    """header:<ENTITY>:<YYYYMMDD>:<rename|reorder|extra|missing>[:<column>] - rename a column to <column>_v2, reverse the column order, add a column vendor_batch in front, or drop a column with its values; rename and missing default to the last required non-key column (so the file must be refused)."""
    kinds = ("rename", "reorder", "extra", "missing")
    if kind not in kinds:
        raise ValueError(f"{spec}: kind must be one of {', '.join(kinds)}, got {kind!r}")
    spec_entity, when = _target(spec, entity, day)
    required = [c for c in spec_entity.columns if c.required and c.name not in spec_entity.key]
    name = _column(
        spec, spec_entity, column, required[-1] if required else None, "required non-key column"
    )

    def edit(f: DeliveredFile) -> None:
        header, rows = f.records()
        if kind == "rename":
            header[header.index(name)] = f"{name}_v2"
        elif kind == "reorder":
            header.reverse()
            rows = [r[::-1] for r in rows]
        elif kind == "extra":
            header.insert(0, "vendor_batch")
            rows = [[f"{f.day:%Y%m%d}-{i // 100:03d}", *r] for i, r in enumerate(rows)]
        else:
            i = header.index(name)
            header.pop(i)
            rows = [r[:i] + r[i + 1 :] for r in rows]
        f.write_records(header, rows)

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=ROWS)


@defect("empty")
def empty(spec: str, entity: str, day: str) -> Defect:
    """empty:<ENTITY>:<YYYYMMDD> - a zero-byte file (not even the header), with a matching .chk."""
    spec_entity, when = _target(spec, entity, day)

    def edit(f: DeliveredFile) -> None:
        f.rows = 0
        f.write_data(b"")

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=ROWS)


@defect("header-only")
def header_only(spec: str, entity: str, day: str) -> Defect:
    """header-only:<ENTITY>:<YYYYMMDD> - the header line and no records (a day without events)."""
    spec_entity, when = _target(spec, entity, day)

    def edit(f: DeliveredFile) -> None:
        header, _ = f.records()
        f.write_records(header, [])

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=ROWS)


# --- bytes: encoding, compression, truncation ----------------------------------------------


@defect("encoding")
def encoding(spec: str, entity: str, day: str, codec: str) -> Defect:
    """encoding:<ENTITY>:<YYYYMMDD>:<utf-8|utf-8-bom|gbk|gb18030|utf-16> - re-encode the file; utf-16 stands for an encoding the source did not declare and the loader cannot accept."""
    if codec not in ENCODINGS:
        raise ValueError(f"{spec}: encoding must be one of {', '.join(ENCODINGS)}, got {codec!r}")
    spec_entity, when = _target(spec, entity, day)

    def edit(f: DeliveredFile) -> None:
        text = f.data().decode(f.fmt.encoding)
        f.fmt = replace(f.fmt, encoding=ENCODINGS[codec])
        f.write_data(text.encode(ENCODINGS[codec]))

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=ENCODING)


@defect("gzip")
def gzip_file(spec: str, entity: str, day: str) -> Defect:
    """gzip:<ENTITY>:<YYYYMMDD> - deliver the file gzip-compressed as <name>.csv.gz."""
    spec_entity, when = _target(spec, entity, day)

    def edit(f: DeliveredFile) -> None:
        data = f.data()
        f.rename(f.path.with_name(f.path.name + ".gz"))
        f.write_data(data)

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=GZIP)


@defect("truncate")
def truncate(spec: str, entity: str, day: str) -> Defect:
    """truncate:<ENTITY>:<YYYYMMDD> - cut the file at 60 % of its bytes (mid-line for CSV, mid-stream for .gz); the .chk has the size and MD5 of what is left but the record count of the whole file, as when an export dies and its wrapper still writes the control file."""
    spec_entity, when = _target(spec, entity, day)

    def edit(f: DeliveredFile) -> None:
        raw = f.raw()
        cut = int(len(raw) * 0.6)
        if not f.compressed:
            start = raw.rfind(b"\n", 0, cut) + 1
            end = raw.find(b"\n", cut)
            end = len(raw) if end < 0 else end
            cut = (start + end) // 2  # inside a line, never on a line break
        f.path.write_bytes(raw[:cut])
        f.write_control()  # f.rows: the count of the whole file

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=TRUNCATE)


# --- control files, further deliveries ------------------------------------------------------


@defect("chk")
def control_file(spec: str, entity: str, day: str, kind: str) -> Defect:
    """chk:<ENTITY>:<YYYYMMDD>:<size|md5|count|missing> - the control file declares 512 bytes more, another MD5, one record more, or is not delivered at all."""
    kinds = ("size", "md5", "count", "missing")
    if kind not in kinds:
        raise ValueError(f"{spec}: kind must be one of {', '.join(kinds)}, got {kind!r}")
    spec_entity, when = _target(spec, entity, day)

    def edit(f: DeliveredFile) -> None:
        raw = f.raw()
        if kind == "size":
            f.write_control(size=len(raw) + 512)
        elif kind == "md5":
            f.write_control(md5=hashlib.md5(raw + b"\n").hexdigest())
        elif kind == "count":
            f.write_control(rows=f.rows + 1)
        else:
            f.chk_path.unlink()

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=CONTROL)


@defect("duplicate-file")
def duplicate_file(spec: str, entity: str, day: str) -> Defect:
    """duplicate-file:<ENTITY>:<YYYYMMDD> - deliver the same bytes again as <ENTITY>_<YYYYMMDD>_<n>.csv (n = 2, 3, ...)."""
    spec_entity, when = _target(spec, entity, day)

    def edit(f: DeliveredFile) -> None:
        f.deliver_copy(f.raw(), f.rows)

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=DELIVERIES)


@defect("redeliver")
def redeliver(spec: str, entity: str, day: str, count: str = "1") -> Defect:
    """redeliver:<ENTITY>:<YYYYMMDD>[:<N>] - a corrected re-delivery of the day as <ENTITY>_<YYYYMMDD>_<n>.csv: the same records less N (default 1) withdrawn ones."""
    spec_entity, when = _target(spec, entity, day)
    how_many = _count(spec, count)

    def edit(f: DeliveredFile) -> None:
        original = (f.path, f.rows, f.raw())
        header, rows = f.records()
        withdrawn = set(_pick(spec, rows, how_many(len(rows))))
        f.write_records(header, [r for i, r in enumerate(rows) if i not in withdrawn])
        corrected, rows_left = f.raw(), f.rows
        # the first delivery stays as it was; the corrected one arrives beside it
        f.path, f.rows = original[0], original[1]
        f.write_raw(original[2])
        f.deliver_copy(corrected, rows_left)

    return Defect(spec, spec_entity.name, day=when, edit=edit, stage=DELIVERIES)
