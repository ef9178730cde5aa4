"""Load delivered extract files into ``raw`` with COPY, one transaction per file.

Per file: identify -> fingerprint -> skip if the same bytes were loaded -> verify the
control file -> COPY into a temporary text table -> contract checks in SQL -> good rows into
``raw.<entity>``, bad rows into ``raw.quarantine`` -> manifest row -> commit. A failure at
any step rolls the whole file back, so a file is either completely loaded or not at all.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from sqwh.config import settings
from sqwh.ingest import checks
from sqwh.ingest.files import (
    CHUNK,
    Delivery,
    Fingerprint,
    NotReady,
    RefusedFile,
    detect_encoding,
    fingerprint,
    identify,
    open_data,
    pg_encoding,
    read_control,
    read_header,
    verify_control,
)
from sqwh.registry import FILE_NAME, Entity, Registry, load_registry
from sqwh.schema import RAW_META_COLUMNS, record_sequence

log = logging.getLogger(__name__)

MAX_REJECT_RATIO = 0.01  # refuse a whole file above 1 % bad rows: a broken export, not noise
LOCK_TIMEOUT = "10s"  # default; SQWH_LOCK_TIMEOUT overrides (PostgreSQL interval syntax)


def lock_timeout() -> str:
    return os.environ.get("SQWH_LOCK_TIMEOUT") or LOCK_TIMEOUT


def _malformed_reason(delivery_path: Path, exc: psycopg.DataError) -> str:
    """A row COPY cannot split into the header's columns: name the line and what is wrong."""
    context = exc.diag.context or ""
    line = re.search(r"line (\d+)", context)
    where = f"line {line[1]}: " if line else ""
    return (
        f"{delivery_path}: {where}{exc.diag.message_primary or str(exc).strip()}; the file is "
        "not well-formed CSV (a cut or broken row?); whole file refused, nothing loaded"
    )


def _lock_reason(delivery_path: Path, exc: psycopg.Error) -> str:
    """What a user should read when another session blocked the load."""
    return (
        f"{delivery_path}: waited {lock_timeout()} for a lock on the warehouse tables this load "
        "writes, but another session holds a conflicting lock (a long query, a manual "
        f"LOCK TABLE or a migration); nothing was loaded; retry once it is released "
        f"(server: {str(exc).strip().splitlines()[0]})"
    )


@dataclass
class LoadResult:
    file: str
    entity: str | None
    status: str  # LOADED | DUPLICATE | REFUSED | FAILED | SKIPPED (already loaded) | WAITING (no .chk yet)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    reason: str | None = None
    load_id: int | None = None
    seconds: float = 0.0


def _staging_columns(header: list[str], entity: Entity) -> list[str]:
    """Temp-table column per header field; unknown fields keep a neutral name and are ignored."""
    known = set(entity.column_names)
    return [h if h in known else f"_extra_{i}" for i, h in enumerate(header)]


def _check_header(delivery: Delivery, header: list[str]) -> str | None:
    """Refuse a header without a required column; return a note on ignored extra columns."""
    entity = delivery.entity
    missing = [c.name for c in entity.columns if c.required and c.name not in header]
    if missing:
        raise RefusedFile(
            f"{delivery.path}: header lacks required column(s) {', '.join(missing)} "
            f"(header: {'|'.join(header)[:200]}); re-export the file or map the column in sources.yml"
        )
    if len(set(header)) != len(header):
        raise RefusedFile(
            f"{delivery.path}: header repeats a column name: {'|'.join(header)[:200]}"
        )
    notes = []
    extra = [h for h in header if h not in entity.column_names]
    if extra:
        notes.append(f"extra column(s) ignored: {', '.join(extra)}")
    absent = [c.name for c in entity.columns if not c.required and c.name not in header]
    if absent:
        notes.append(f"optional column(s) absent, loaded as NULL: {', '.join(absent)}")
    known = [h for h in header if h in entity.column_names]
    if known != [c for c in entity.column_names if c in header]:
        notes.append("columns in a different order than the contract; mapped by name")
    for note in notes:
        log.warning("%s: %s", delivery.path.name, note)
    return "; ".join(notes) or None


def _copy_sql(
    target: sql.Composable, columns: list[str], delimiter: str, encoding: str
) -> sql.Composed:
    return sql.SQL(
        "copy {} ({}) from stdin with (format csv, header true, delimiter {}, encoding {})"
    ).format(
        target,
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.Literal(delimiter),
        sql.Literal(pg_encoding(encoding)),
    )


NUL_MARK = b"\x1a"  # ASCII SUB: stands in for a NUL byte, which COPY refuses for the whole file


def _stream(
    cur: psycopg.Cursor, delivery: Delivery, copy_sql: sql.Composed, *, mark_nul: bool = False
) -> tuple[int, int]:
    """COPY the file; returns (records, NUL bytes replaced). With ``mark_nul`` a NUL byte (never
    part of a UTF-8 or GBK/GB18030 character) becomes SUB, so the row checks can quarantine
    that row instead of the whole file failing."""
    nuls = 0
    with open_data(delivery) as f, cur.copy(copy_sql) as copy:
        first = True
        while chunk := f.read(CHUNK):
            if first and chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]  # a UTF-8 BOM is not data; it sits in the skipped header line
            first = False
            if mark_nul and b"\x00" in chunk:
                nuls += chunk.count(b"\x00")
                chunk = chunk.replace(b"\x00", NUL_MARK)
            copy.write(chunk)
    return cur.rowcount, nuls


def _copy_direct(
    cur: psycopg.Cursor,
    delivery: Delivery,
    load_id: int,
    header: list[str],
    delimiter: str,
    encoding: str,
) -> int | None:
    """Clean files with ISO times COPY straight into their raw table: the table's contract
    CHECK and column defaults (load id, record number, business day) do the rest. Returns
    None when any row is not clean; the transaction is then as before."""
    entity = delivery.entity
    if set(header) - set(entity.column_names):
        return None  # extra columns: COPY cannot skip them
    base = cur.execute(
        sql.SQL("select nextval({})").format(sql.Literal(record_sequence(entity)))
    ).fetchone()
    cur.execute(
        "select set_config('sqwh.load_id', %s, true), set_config('sqwh.business_date', %s, true),"
        " set_config('sqwh.record_base', %s, true)",
        (str(load_id), delivery.business_date.isoformat(), str(base[0])),  # type: ignore[index]
    )
    cur.execute("savepoint direct_copy")
    try:
        rows, _ = _stream(
            cur,
            delivery,
            _copy_sql(sql.Identifier("raw", entity.table), header, delimiter, encoding),
        )
    except (psycopg.DataError, psycopg.IntegrityError) as exc:
        log.info("%s: %s; checking rows individually", delivery.name, str(exc).splitlines()[0])
        cur.execute("rollback to savepoint direct_copy")
        return None
    cur.execute("release savepoint direct_copy")
    return rows


def _copy_into_temp(
    cur: psycopg.Cursor, delivery: Delivery, columns: list[str], delimiter: str, encoding: str
) -> tuple[int, int]:
    cur.execute(
        sql.SQL(
            "create temp table _staged (_record_no bigint generated always as identity, {}) on commit drop"
        ).format(sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns))
    )
    return _stream(
        cur,
        delivery,
        _copy_sql(sql.Identifier("_staged"), columns, delimiter, encoding),
        mark_nul=True,
    )


def _meta_values(delivery: Delivery, load_id: int) -> list[sql.Composable]:
    return [sql.Literal(load_id), sql.Identifier("_record_no"), sql.Literal(delivery.business_date)]


def _raw_record(entity: Entity, present: set[str]) -> sql.Composable:
    present_cols = [c for c in entity.column_names if c in present]
    return sql.SQL("array_to_string(array[{}], {}, '')").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in present_cols), sql.Literal("|")
    )


def _insert_fast(
    cur: psycopg.Cursor, delivery: Delivery, load_id: int, present: set[str], rows_read: int
) -> tuple[int, int] | None:
    """Clean files: C-level casts and cheap predicates; None when a value needs the slow path."""
    entity = delivery.entity
    target = [c.name for c in entity.columns] + [n for n, _ in RAW_META_COLUMNS]
    values = [checks.fast_value(c, present) for c in entity.columns] + _meta_values(
        delivery, load_id
    )
    predicate = checks.fast_predicate(entity, present)
    cur.execute("savepoint fast_path")
    try:
        loaded = cur.execute(
            sql.SQL(
                "insert into {table} ({target}) select {values} from _staged where {predicate}"
            ).format(
                table=sql.Identifier("raw", entity.table),
                target=sql.SQL(", ").join(map(sql.Identifier, target)),
                values=sql.SQL(", ").join(values),
                predicate=predicate,
            )
        ).rowcount
    except (psycopg.DataError, psycopg.IntegrityError) as exc:
        log.info("%s: %s; checking every row individually", delivery.name, str(exc).splitlines()[0])
        cur.execute("rollback to savepoint fast_path")
        return None
    cur.execute("release savepoint fast_path")
    if loaded == rows_read:
        return loaded, 0
    rejected = cur.execute(
        sql.SQL(
            """insert into raw.quarantine (load_id, entity, file_name, record_no, column_name, reason, raw_record)
               select {load_id}, {entity}, {file}, _record_no, split_part(r, ':', 1), r, {raw_record}
               from (select s.*, {reason} as r from _staged as s where not ({predicate})) as bad"""
        ).format(
            load_id=sql.Literal(load_id),
            entity=sql.Literal(entity.name),
            file=sql.Literal(delivery.name),
            raw_record=_raw_record(entity, present),
            reason=checks.reject_reason(entity, present),
            predicate=predicate,
        )
    ).rowcount
    return int(loaded), int(rejected)


def _insert_checked(
    cur: psycopg.Cursor, delivery: Delivery, load_id: int, present: set[str]
) -> tuple[int, int]:
    """Rows with values the fast casts cannot read: classify each row without raising."""
    entity = delivery.entity
    target_cols = [c.name for c in entity.columns] + [n for n, _ in RAW_META_COLUMNS]
    values = [checks.typed_value(c, present) for c in entity.columns] + _meta_values(
        delivery, load_id
    )
    raw_record = _raw_record(entity, present)
    statement = sql.SQL(
        """with checked as materialized (
               select s.*, {reason} as _reject from _staged s
           ), quarantined as (
               insert into raw.quarantine (load_id, entity, file_name, record_no, column_name, reason, raw_record)
               select {load_id}, {entity}, {file}, _record_no, split_part(_reject, ':', 1), _reject, {raw_record}
               from checked where _reject is not null
               returning 1
           ), loaded as (
               insert into {table} ({target})
               select {values} from checked where _reject is null
               returning 1
           )
           select (select count(*) from loaded), (select count(*) from quarantined)"""
    ).format(
        reason=checks.reject_reason(entity, present),
        load_id=sql.Literal(load_id),
        entity=sql.Literal(entity.name),
        file=sql.Literal(delivery.name),
        raw_record=raw_record,
        table=sql.Identifier("raw", entity.table),
        target=sql.SQL(", ").join(sql.Identifier(c) for c in target_cols),
        values=sql.SQL(", ").join(values),
    )
    loaded, rejected = cur.execute(statement).fetchone()  # type: ignore[misc]
    return int(loaded), int(rejected)


def _archive(path: Path, fp: Fingerprint) -> Path:
    """Keep the delivered bytes, content-addressed, so a publication can be reproduced later.
    A copy, not a hard link: a sender rewriting the landing file in place must not alter it."""
    suffix = ".csv.gz" if path.name.endswith(".gz") else ".csv"
    target = settings().archive_dir / fp.sha256[:2] / f"{fp.sha256}{suffix}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.part")
        shutil.copyfile(path, tmp)
        tmp.replace(target)
    return target


def _record(
    conn: psycopg.Connection, delivery_path: Path, system: str, entity: str | None, **fields
) -> int:
    cols = ["system", "entity", "file_name", "file_path", *fields]
    vals = [system, entity, delivery_path.name, str(delivery_path), *fields.values()]
    row = conn.execute(
        sql.SQL("insert into audit.load_manifest ({}) values ({}) returning load_id").format(
            sql.SQL(", ").join(map(sql.Identifier, cols)),
            sql.SQL(", ").join(sql.Placeholder() * len(vals)),
        ),
        vals,
    ).fetchone()
    return int(row[0])  # type: ignore[index]


def load_file(
    conn: psycopg.Connection,
    path: Path,
    *,
    system: str,
    run_id: str | None = None,
    registry: Registry | None = None,
) -> LoadResult:
    """Load one delivered file (idempotent: the same bytes are never loaded twice)."""
    registry = registry or load_registry()
    started = time.monotonic()
    entity_name: str | None = None
    fp: Fingerprint | None = None
    try:
        delivery = identify(path, registry)
        entity_name = delivery.entity.name
        fp = fingerprint(path)
        # the whole file is one transaction: every lock it waits for gives up after the timeout
        conn.execute("select set_config('lock_timeout', %s, true)", (lock_timeout(),))
        done = conn.execute(
            """select load_id, file_path from audit.load_manifest
               where sha256 = %s and status = 'LOADED'
                 and (declared_records > 0 or (entity = %s and business_date = %s))""",
            (fp.sha256, entity_name, delivery.business_date),
        ).fetchone()
        if done:
            if done[1] == str(path):
                conn.rollback()
                return LoadResult(
                    path.name, entity_name, "SKIPPED", reason=f"already loaded as load {done[0]}"
                )
            reason = f"same bytes as load {done[0]} ({Path(done[1]).name}); not loaded again"
            load_id = _record(
                conn,
                path,
                system,
                entity_name,
                sha256=fp.sha256,
                md5=fp.md5,
                byte_size=fp.byte_size,
                business_date=delivery.business_date,
                status="DUPLICATE",
                reason=reason,
                run_id=run_id,
                finished_at=_now(),
            )
            conn.commit()
            return LoadResult(path.name, entity_name, "DUPLICATE", reason=reason, load_id=load_id)
        control = read_control(delivery)
        verify_control(delivery, control, fp)
        encoding = detect_encoding(delivery)
        header, delimiter = read_header(delivery, encoding)
        notes = _check_header(delivery, header)
        result = _load_verified(
            conn, delivery, fp, control.record_count, header, delimiter, encoding, notes, run_id
        )
        result.seconds = time.monotonic() - started
        rate = result.rows_read / result.seconds if result.seconds else 0
        log.info(
            "%s: %s rows loaded, %s quarantined, %.1f s (%.0f rows/s)",
            path.name,
            f"{result.rows_loaded:,}",
            f"{result.rows_rejected:,}",
            result.seconds,
            rate,
        )
        return result
    except NotReady as exc:
        conn.rollback()
        log.info("%s", exc)
        return LoadResult(path.name, entity_name, "WAITING", reason=str(exc))
    except (RefusedFile, psycopg.Error) as exc:
        conn.rollback()
        # a file COPY cannot parse is the file's fault (refused); the rest is the warehouse's
        malformed = isinstance(exc, psycopg.DataError)
        status = "REFUSED" if isinstance(exc, RefusedFile) or malformed else "FAILED"
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            reason = _lock_reason(path, exc)
        elif malformed:
            reason = _malformed_reason(path, exc)  # type: ignore[arg-type]
        else:
            reason = str(exc).strip()
        load_id = _record(
            conn,
            path,
            system,
            entity_name,
            status=status,
            reason=reason,
            run_id=run_id,
            sha256=fp.sha256 if fp else None,
            md5=fp.md5 if fp else None,
            byte_size=fp.byte_size if fp else None,
            finished_at=_now(),
        )
        conn.commit()
        log.error("%s %s: %s", status, path.name, reason)
        return LoadResult(
            path.name,
            entity_name,
            status,
            reason=reason,
            load_id=load_id,
            seconds=time.monotonic() - started,
        )


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _load_verified(
    conn: psycopg.Connection,
    delivery: Delivery,
    fp: Fingerprint,
    declared: int,
    header: list[str],
    delimiter: str,
    encoding: str,
    notes: str | None,
    run_id: str | None,
) -> LoadResult:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(lock_timeout())))
        load_id = _record(
            conn,
            delivery.path,
            delivery.entity.system,
            delivery.entity.name,
            sha256=fp.sha256,
            md5=fp.md5,
            byte_size=fp.byte_size,
            business_date=delivery.business_date,
            declared_records=declared,
            status="LOADED",
            run_id=run_id,
        )
        # one load per entity at a time: record numbers and day replacement stay consistent
        cur.execute(
            "select pg_advisory_xact_lock(hashtext('sqwh.load'), hashtext(%s))",
            (delivery.entity.name,),
        )
        cur.execute("set local timezone = 'Asia/Shanghai'")  # extract times are local times
        cur.execute(
            "set local work_mem = '256MB'"
        )  # duplicate-key hash aggregation stays in memory
        direct = _copy_direct(cur, delivery, load_id, header, delimiter, encoding)
        if direct is not None:
            rows_read = loaded = direct
            rejected = 0
        else:
            staging_cols = _staging_columns(header, delivery.entity)
            rows_read, nuls = _copy_into_temp(cur, delivery, staging_cols, delimiter, encoding)
            present = {c for c in staging_cols if not c.startswith("_extra_")}
            # rows with a NUL byte need the row-by-row checks, which quarantine them
            counts = None if nuls else _insert_fast(cur, delivery, load_id, present, rows_read)
            loaded, rejected = (
                counts if counts is not None else _insert_checked(cur, delivery, load_id, present)
            )
        if rows_read != declared:
            raise RefusedFile(
                f"{delivery.path}: {rows_read} records read but the control file says {declared}"
            )
        if rows_read and rejected / rows_read > MAX_REJECT_RATIO:
            first = cur.execute(
                "select record_no, reason from raw.quarantine where load_id = %s order by record_no limit 3",
                (load_id,),
            ).fetchall()
            examples = "; ".join(f"record {n}: {r}" for n, r in first)
            raise RefusedFile(
                f"{delivery.path}: {rejected} of {rows_read} records break the contract "
                f"(over {MAX_REJECT_RATIO:.0%}); whole file refused, nothing loaded. First: {examples}"
            )
        duplicates = _duplicate_keys(cur, delivery.entity, load_id)
        if duplicates:
            log.warning(
                "%s: %s business key(s) occur more than once in the file; they count once",
                delivery.name,
                duplicates,
            )
        _replace_earlier_deliveries(cur, delivery, load_id)
        archived = _archive(delivery.path, fp)
        cur.execute(
            """update audit.load_manifest set rows_read = %s, rows_loaded = %s, rows_rejected = %s,
                   duplicate_keys = %s, encoding = %s, notes = %s, archive_path = %s, finished_at = now()
               where load_id = %s""",
            (rows_read, loaded, rejected, duplicates, encoding, notes, str(archived), load_id),
        )
    conn.commit()
    return LoadResult(
        delivery.name, delivery.entity.name, "LOADED", rows_read, loaded, rejected, load_id=load_id
    )


def _duplicate_keys(cur: psycopg.Cursor, entity: Entity, load_id: int) -> int:
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in entity.key)
    row = cur.execute(
        sql.SQL(
            "select count(*) from (select 1 from {table} where _load_id = {load_id}"
            " group by {keys} having count(*) > 1) as d"
        ).format(keys=keys, table=sql.Identifier("raw", entity.table), load_id=sql.Literal(load_id))
    ).fetchone()
    return int(row[0])  # type: ignore[index]


def _replace_earlier_deliveries(cur: psycopg.Cursor, delivery: Delivery, load_id: int) -> None:
    """A new file for the same entity and business day is a corrected re-delivery: the earlier
    loads' rows go, in this same transaction, so readers see the old day or the new one."""
    earlier = cur.execute(
        """select load_id, file_name from audit.load_manifest
           where entity = %s and business_date = %s and status = 'LOADED' and load_id <> %s""",
        (delivery.entity.name, delivery.business_date, load_id),
    ).fetchall()
    for old_id, old_name in earlier:
        deleted = cur.execute(
            sql.SQL("delete from {} where _load_id = %s").format(
                sql.Identifier("raw", delivery.entity.table)
            ),
            (old_id,),
        ).rowcount
        cur.execute(
            """update audit.load_manifest set status = 'REPLACED',
                   reason = %s, finished_at = coalesce(finished_at, now()) where load_id = %s""",
            (
                f"replaced by load {load_id} ({delivery.name}), a re-delivery of {delivery.business_date}; "
                f"{deleted} rows removed",
                old_id,
            ),
        )
        log.warning(
            "%s replaces %s (%s rows of %s)",
            delivery.name,
            old_name,
            deleted,
            delivery.business_date,
        )


def landing_files(landing: Path, system: str, entities: Iterable[str] | None = None) -> list[Path]:
    folder = landing / system
    if not folder.is_dir():
        return []
    wanted = set(entities) if entities else None
    found = []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.name.endswith(".chk") or p.name.startswith("."):
            continue
        if wanted is not None:
            # exact entity from the name pattern: BSS_BILL must not pick up BSS_BILL_ADJ files
            m = FILE_NAME.match(p.name)
            if m is None or m["entity"] not in wanted:
                continue
        found.append(p)
    return found


def load_landing(
    conn: psycopg.Connection,
    landing: Path,
    system: str,
    entities: Iterable[str] | None = None,
    run_id: str | None = None,
) -> list[LoadResult]:
    """Load every delivered file of one source system (optionally only some entities)."""
    registry = load_registry()
    files = landing_files(landing, system, entities)
    results = []
    for i, path in enumerate(files, 1):
        result = load_file(conn, path, system=system, run_id=run_id, registry=registry)
        results.append(result)
        if i % 50 == 0 or i == len(files):
            log.info("%s: %d/%d files processed", system, i, len(files))
    return results
