"""Load delivered extract files into ``raw`` with COPY, one transaction per file.

Per file: identify -> skip if this very file was loaded (same path, size and mtime as the
load in force), else skip if the same bytes were loaded (fingerprinted up front only when a
file of the same size was loaded before) -> check the control file's name and size -> guess
the encoding from the first MiB -> COPY, straight into ``raw.<entity>`` while the client
checks every row against the contract on the other core (``rowcheck``), else, when a row is
not clean, through a temporary text table whose rows are checked in SQL (good rows into
``raw.<entity>``, bad rows into ``raw.quarantine``) -> the same read computed sha256 and MD5
and wrote the archive copy: check the MD5 and the record count -> flag repeated keys ->
replace an earlier delivery of the day -> manifest row -> commit. A failure at any step rolls
the whole file back, so a file is either completely loaded or not at all.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from queue import Queue

import psycopg
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.copy import QueuedLibpqWriter

from sqwh.config import settings
from sqwh.ingest import checks
from sqwh.ingest.compact import CompactTimes, NotPlain
from sqwh.ingest.files import (
    CHUNK,
    ControlRecord,
    Delivery,
    Fingerprint,
    NotReady,
    RefusedFile,
    detect_encoding,
    fingerprint,
    first_record,
    guess_encoding,
    identify,
    open_hashed,
    pg_encoding,
    read_control,
    read_header,
    verify_control,
    verify_md5,
)
from sqwh.ingest.recordno import RecordNumberer
from sqwh.ingest.rowcheck import CheckResult, RowChecker
from sqwh.registry import FILE_NAME, Entity, Registry, load_registry
from sqwh.schema import RAW_META_COLUMNS, load_index

log = logging.getLogger(__name__)

MAX_REJECT_RATIO = 0.01  # refuse a whole file above 1 % bad rows: a broken export, not noise
LOCK_TIMEOUT = "10s"  # default; SQWH_LOCK_TIMEOUT overrides (PostgreSQL interval syntax)


def lock_timeout() -> str:
    return os.environ.get("SQWH_LOCK_TIMEOUT") or LOCK_TIMEOUT


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


# files from this size (uncompressed) are checked in a thread while they stream; smaller ones
# (most daily files) at the end, in one go: a thread and its hand-overs cost more than they
# overlap there
THREADED_CHECK_FROM = 4 << 20
PROGRESS_SECONDS = 10.0  # a long COPY says how far it is this often


class _QueuedWriter(QueuedLibpqWriter):
    """psycopg's queued COPY writer with a short queue: at most 32 x 128 KiB in flight, so
    memory stays flat when the server is slower than the file (the default allows 128 MiB)."""

    def __init__(self, cursor: psycopg.Cursor) -> None:
        super().__init__(cursor)
        self._queue: Queue[Buffer] = Queue(maxsize=32)


class WrongEncoding(Exception):
    """PostgreSQL found a byte the guessed encoding cannot hold: detect it properly, retry."""


class NulByte(Exception):
    """The file holds a NUL byte, which COPY refuses for the whole file: take the staging
    path, where it is marked and its row quarantined."""


NUL_MARK = b"\x1a"  # ASCII SUB stands in for NUL (never part of a UTF-8 or GBK/GB18030 character)


class Unvouched(Exception):
    """The client-side row check found a row it cannot vouch for: stop the direct COPY."""


def _stream(
    cur: psycopg.Cursor,
    delivery: Delivery,
    copy_sql: sql.Composed,
    *,
    mark_nul: bool = False,
    checker: RowChecker | None = None,
    numberer: RecordNumberer | None = None,
    rewriter: CompactTimes | None = None,
    archive_part: Path | None = None,
) -> tuple[int, Fingerprint, int]:
    """COPY the file; the same read fingerprints it (sha256, MD5, size) and, with a
    ``checker``, hands every chunk to the client-side row check. Returns (records,
    fingerprint, NUL bytes marked). Without ``mark_nul`` a NUL byte raises :class:`NulByte`;
    with it, each becomes SUB, which the staging checks quarantine with its row. A checker
    that finds a row it cannot vouch for stops the COPY with :class:`Unvouched`. A
    ``numberer`` writes each record's number in front of it on the way to the server, after
    a ``rewriter`` made its compact timestamps readable for the server. With
    ``archive_part``, the same read also writes the file's bytes there (see :func:`_archive`)."""
    progress = _Progress(delivery.name, numberer)
    nuls = 0
    data, hashed = open_hashed(delivery, archive_part)
    try:
        # a queued writer sends from its own thread, so reading and hashing the next chunk
        # (hashlib releases the GIL) overlap with the server working through the last one
        with data, cur.copy(copy_sql, writer=_QueuedWriter(cur)) as copy:
            first = True
            while chunk := data.read(CHUNK):
                if first and chunk.startswith(b"\xef\xbb\xbf"):
                    chunk = chunk[3:]  # a UTF-8 BOM is not data; it sits in the skipped header
                first = False
                if b"\x00" in chunk:
                    if not mark_nul:
                        raise NulByte
                    nuls += chunk.count(b"\x00")
                    chunk = chunk.replace(b"\x00", NUL_MARK)
                _send(copy, chunk, numberer, rewriter)
                if checker is not None:
                    if checker.failed:
                        raise Unvouched(checker.result.problem)
                    checker.feed(chunk)
                progress.streamed(chunk)
            if rewriter is not None:
                _send(copy, rewriter.finish(), numberer)
            fp = hashed.finish()
    except (EOFError, OSError, zlib.error) as exc:
        raise RefusedFile(
            f"{delivery.path}: cannot be read to the end ({exc}); truncated or corrupt"
        ) from None
    except (
        psycopg.errors.CharacterNotInRepertoire,
        psycopg.errors.UntranslatableCharacter,
    ) as exc:
        line = re.search(r"line (\d+)", exc.diag.context or "")
        raise WrongEncoding(
            f"{exc.diag.message_primary} (line {line[1] if line else '?'})"
        ) from None
    return cur.rowcount, fp, nuls


class _Progress:
    """A long COPY says how far it is every ``PROGRESS_SECONDS``: the records numbered so far,
    or without a numberer the line breaks (give or take quoted ones)."""

    def __init__(self, name: str, numberer: RecordNumberer | None) -> None:
        self._name, self._numberer = name, numberer
        self._started = self._last = time.monotonic()
        self._lines = 0

    def streamed(self, chunk: bytes) -> None:
        if self._numberer is None:
            self._lines += chunk.count(b"\n")
        now = time.monotonic()
        if now - self._last >= PROGRESS_SECONDS:
            self._last = now
            rows = self._numberer.records if self._numberer is not None else self._lines
            log.info(
                "%s: ~%s rows streamed, %.0f rows/s",
                self._name,
                f"{rows:,}",
                rows / (now - self._started),
            )


def _send(
    copy: psycopg.Copy,
    chunk: bytes,
    numberer: RecordNumberer | None,
    rewriter: CompactTimes | None = None,
) -> None:
    if rewriter is not None:
        chunk = rewriter(chunk)  # whole records only: the cut-off end waits for the next chunk
    if chunk:
        copy.write(numberer(chunk) if numberer is not None else chunk)


@dataclass
class Direct:
    """What the direct COPY of a clean file found."""

    rows: int
    fp: Fingerprint
    repeated_keys_possible: bool  # False: the client's key hashes prove every key unique


def _copy_direct(
    cur: psycopg.Cursor,
    delivery: Delivery,
    load_id: int,
    header: list[str],
    delimiter: str,
    encoding: str,
    archive_part: Path,
) -> Direct | None:
    """Clean files COPY straight into their raw table while the client checks every row
    against the contract (``rowcheck``) on the other core: the column defaults stamp load id
    and business day, the client writes each record's number in front of it (``recordno``)
    and makes compact timestamps readable for the server (``compact``). Returns None when any
    row is not clean; the transaction is then as before."""
    entity = delivery.entity
    if set(header) - set(entity.column_names):
        return None  # extra columns: COPY cannot skip them
    if encoding.startswith("gb") and ord(delimiter) >= 0x40:
        return None  # a GBK trail byte can equal this delimiter: only the server splits it right
    first = first_record(delivery, encoding, delimiter)
    compact = _compact_types(entity, header, first) if first is not None else set()
    if "date" in compact:
        # PostgreSQL reads YYYYMMDD as a date, but the client does not vouch for that form;
        # the staging path converts it
        log.debug("%s: compact dates; loading through the staging table", delivery.name)
        return None
    # YYYYMMDDHHMMSS: the client checks it and makes it readable for the server on the way
    rewriter = (
        CompactTimes(header, delimiter, _columns_of_type(entity, header, "timestamp"))
        if "timestamp" in compact
        else None
    )
    cur.execute(
        "select set_config('sqwh.load_id', %s, true), set_config('sqwh.business_date', %s, true)",
        (str(load_id), delivery.business_date.isoformat()),
    )
    cur.execute("savepoint direct_copy")
    checker = RowChecker(
        entity,
        header,
        delimiter,
        thread_from=THREADED_CHECK_FROM,
        compact_times=rewriter is not None,
    )
    numberer = RecordNumberer(delimiter)
    columns = ["_record_no", *header]
    checked: CheckResult | None = None
    try:
        try:
            streamed = _stream(
                cur,
                delivery,
                _copy_sql(sql.Identifier("raw", entity.table), columns, delimiter, encoding),
                checker=checker,
                numberer=numberer,
                rewriter=rewriter,
                archive_part=archive_part,
            )
        finally:
            checked = checker.finish()
    except NulByte:
        log.info(
            "%s: NUL bytes; loading through the staging table, which quarantines their rows",
            delivery.name,
        )
        cur.execute("rollback to savepoint direct_copy")
        return None
    except (Unvouched, NotPlain, psycopg.DataError, psycopg.IntegrityError) as exc:
        reason = checked.problem if checked and checked.problem else str(exc).splitlines()[0]
        log.info(
            "%s: not every value reads straight into the typed table (%s); loading through the "
            "staging table, which checks and converts each row",
            delivery.name,
            reason,
        )
        cur.execute("rollback to savepoint direct_copy")
        return None
    if checked.problem is not None or not checked.rows == numberer.records == streamed[0]:
        log.info(
            "%s: not every value reads straight into the typed table (%s); loading through the "
            "staging table, which checks and converts each row",
            delivery.name,
            checked.problem
            or f"the client read {checked.rows} records (numbered {numberer.records}), "
            f"the server {streamed[0]}",
        )
        cur.execute("rollback to savepoint direct_copy")
        return None
    cur.execute("release savepoint direct_copy")
    return Direct(streamed[0], streamed[1], checked.repeated_hash or not checker.hash_keys)


def _columns_of_type(entity: Entity, header: list[str], *types: str) -> list[str]:
    known = set(entity.column_names)
    return [h for h in header if h in known and entity.column(h).type in types]


def _compact_types(entity: Entity, header: list[str], record: list[str]) -> set[str]:
    """The types ("timestamp", "date") of which this record has a value in a compact form
    (no '-')."""
    times = set(_columns_of_type(entity, header, "timestamp", "date"))
    return {
        entity.column(name).type
        for name, value in zip(header, record, strict=False)
        if name in times and value and "-" not in value
    }


def _copy_into_temp(
    cur: psycopg.Cursor,
    delivery: Delivery,
    columns: list[str],
    delimiter: str,
    encoding: str,
    archive_part: Path,
) -> tuple[int, Fingerprint, int]:
    cur.execute(
        sql.SQL(
            "create temp table _staged (_record_no bigint generated always as identity, {}) on commit drop"
        ).format(sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns))
    )
    try:
        return _stream(
            cur,
            delivery,
            _copy_sql(sql.Identifier("_staged"), columns, delimiter, encoding),
            mark_nul=True,
            archive_part=archive_part,
        )
    except psycopg.errors.BadCopyFileFormat as exc:
        # every field is text here, so only the record structure itself can fail
        line = re.search(r"line (\d+)", exc.diag.context or "")
        raise RefusedFile(
            f"{delivery.path}: line {line[1] if line else '?'} does not split into the header's "
            f"{len(columns)} fields ({exc.diag.message_primary}); the file is truncated, or a field "
            "holding a delimiter or line break is not quoted"
        ) from None


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
    except NulByte:
        log.info(
            "%s: NUL bytes; loading through the staging table, which quarantines their rows",
            delivery.name,
        )
        cur.execute("rollback to savepoint direct_copy")
        return None
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


@contextmanager
def _archive_part() -> Iterator[Path]:
    """Where a load writes its copy of the file while it streams it (same file system as the
    archive, so placing it is a rename); a load that failed leaves no partial copy."""
    folder = settings().archive_dir
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".incoming-{os.getpid()}-{uuid.uuid4().hex}.part"
    try:
        yield part
    finally:
        part.unlink(missing_ok=True)  # already renamed into the archive when the load succeeded


def _archive(path: Path, part: Path, fp: Fingerprint) -> Path:
    """Keep the delivered bytes, content-addressed, so a publication can be reproduced later.
    A copy, not a hard link: a sender rewriting the landing file in place must not alter it.
    The copy was written by the same read that was hashed and loaded (``_stream``), so it is
    exactly the bytes of ``fp`` and costs no read of its own; here it only gets its name."""
    suffix = ".csv.gz" if path.name.endswith(".gz") else ".csv"
    target = settings().archive_dir / fp.sha256[:2] / f"{fp.sha256}{suffix}"
    if target.exists():
        part.unlink(missing_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        part.replace(target)
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
        _begin(conn)
        unchanged, same_size_loaded = _earlier_loads(conn, delivery)
        if unchanged is not None:
            conn.rollback()
            return LoadResult(
                path.name, entity_name, "SKIPPED", reason=f"already loaded as load {unchanged}"
            )
        mtime_ns = path.stat().st_mtime_ns  # before the fingerprint reads the file
        # fingerprinted up front only if a file of this size was loaded before (maybe these
        # very bytes); otherwise the load computes it while streaming, with no pass of its own
        fp = fingerprint(path) if same_size_loaded else None
        done = (
            fp
            and conn.execute(
                """select load_id, file_path from audit.load_manifest
               where sha256 = %s and status = 'LOADED'
                 and (declared_records > 0 or (entity = %s and business_date = %s))""",
                (fp.sha256, entity_name, delivery.business_date),
            ).fetchone()
        )
        if done:
            assert fp is not None
            if done[1] == str(path):
                # the same bytes at the same path: note its mtime, so that the next run skips
                # it without reading it (loads from before the mtime column have none)
                conn.execute(
                    "update audit.load_manifest set file_mtime_ns = %s where load_id = %s",
                    (mtime_ns, done[0]),
                )
                conn.commit()
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
        verify_control(delivery, control, path.stat().st_size)
        encoding = guess_encoding(delivery)
        try:
            result = _load(conn, delivery, control, encoding, run_id)
        except WrongEncoding as exc:
            conn.rollback()
            detected = detect_encoding(delivery)  # refuses, naming the first bad byte
            if detected == encoding:  # valid for Python, not for PostgreSQL (e.g. a NUL byte)
                raise RefusedFile(f"{path}: not loadable as {encoding}: {exc}") from None
            log.info(
                "%s: %s is not %s after all; loading it as %s", path.name, exc, encoding, detected
            )
            _begin(conn)
            result = _load(conn, delivery, control, detected, run_id)
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
        _rollback(conn, path, exc)
        log.info("%s", exc)
        return LoadResult(path.name, entity_name, "WAITING", reason=str(exc))
    except (RefusedFile, psycopg.Error) as exc:
        _rollback(conn, path, exc)
        # data the server cannot take is the file's fault (refused, not retried); the rest
        # (locks, connections, disk) is the warehouse's, left to retries
        refused = isinstance(exc, (RefusedFile, psycopg.DataError))
        status = "REFUSED" if refused else "FAILED"
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            reason = _lock_reason(path, exc)
        else:
            reason = str(exc).strip()
        if fp is None and entity_name is not None and path.is_file():
            fp = fingerprint(path)  # the ledger names the refused bytes too
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


class ConnectionLost(psycopg.OperationalError):
    """The connection to the warehouse broke during a load (a server crash or restart, a
    network cut). Nothing of the file is committed: it is one transaction."""


def _rollback(conn: psycopg.Connection, path: Path, exc: BaseException) -> None:
    """End the failed load's transaction; if the connection itself is gone, say so plainly
    (whichever of psycopg's threads noticed first, its own message varies)."""
    try:
        conn.rollback()
    except psycopg.Error:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConnectionLost(
            f"{path.name}: the connection to the warehouse was lost during the load ({cause}); "
            "nothing of this file is committed. Once the warehouse answers again, rerun the "
            "ingest: the file is loaded again from the start"
        ) from exc


def _begin(conn: psycopg.Connection) -> None:
    """The whole file is one transaction: every lock it waits for gives up after the timeout."""
    conn.execute("select set_config('lock_timeout', %s, true)", (lock_timeout(),))


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _load(
    conn: psycopg.Connection,
    delivery: Delivery,
    control: ControlRecord,
    encoding: str,
    run_id: str | None,
) -> LoadResult:
    header, delimiter = read_header(delivery, encoding)
    notes = _check_header(delivery, header)
    return _load_verified(conn, delivery, control, header, delimiter, encoding, notes, run_id)


def _earlier_loads(conn: psycopg.Connection, delivery: Delivery) -> tuple[int | None, bool]:
    """(The load that brought this very file, if it is still in force and the file has the
    same size and modification time as then; whether a file of this size was loaded for the
    entity and day, or as a delivery with records), in one round trip.

    The first lets an ingest over a folder of files already loaded read none of them again;
    anything different (size, mtime, a replaced load) and the file is fingerprinted as
    before, so the same bytes are still never loaded twice."""
    stat = delivery.path.stat()
    row = conn.execute(
        """select (select load_id from audit.load_manifest
                   where file_path = %(path)s and status = 'LOADED' and byte_size = %(size)s
                     and file_mtime_ns = %(mtime)s
                   order by load_id desc limit 1),
                  exists (select from audit.load_manifest
                   where byte_size = %(size)s and status = 'LOADED'
                     and (declared_records > 0
                          or (entity = %(entity)s and business_date = %(day)s)))""",
        {
            "path": str(delivery.path),
            "size": stat.st_size,
            "mtime": stat.st_mtime_ns,
            "entity": delivery.entity.name,
            "day": delivery.business_date,
        },
    ).fetchone()
    assert row is not None
    return (int(row[0]) if row[0] is not None else None), bool(row[1])


def _load_verified(
    conn: psycopg.Connection,
    delivery: Delivery,
    control: ControlRecord,
    header: list[str],
    delimiter: str,
    encoding: str,
    notes: str | None,
    run_id: str | None,
) -> LoadResult:
    # taken before the first byte is read: a file changed after this has another mtime
    mtime_ns = delivery.path.stat().st_mtime_ns
    declared = control.record_count
    with _archive_part() as part, conn.cursor() as cur:
        load_id = _record(
            conn,
            delivery.path,
            delivery.entity.system,
            delivery.entity.name,
            business_date=delivery.business_date,
            declared_records=declared,
            status="LOADED",
            run_id=run_id,
        )
        # one round trip (this runs for every file): one load per entity at a time, so record
        # numbers and day replacement stay consistent; extract times are local times; the
        # duplicate-key hash aggregation stays in memory
        cur.execute(
            """select pg_advisory_xact_lock(hashtext('sqwh.load'), hashtext(%s)),
                      set_config('timezone', 'Asia/Shanghai', true),
                      set_config('work_mem', '256MB', true)""",
            (delivery.entity.name,),
        )
        direct = _copy_direct(cur, delivery, load_id, header, delimiter, encoding, part)
        if direct is not None:
            rows_read, fp = direct.rows, direct.fp
            loaded, rejected = rows_read, 0
        else:
            staging_cols = _staging_columns(header, delivery.entity)
            rows_read, fp, nuls = _copy_into_temp(
                cur, delivery, staging_cols, delimiter, encoding, part
            )
            present = {c for c in staging_cols if not c.startswith("_extra_")}
            # rows with a NUL byte need the row-by-row checks, which quarantine them
            counts = None if nuls else _insert_fast(cur, delivery, load_id, present, rows_read)
            loaded, rejected = (
                counts if counts is not None else _insert_checked(cur, delivery, load_id, present)
            )
        verify_md5(delivery, control, fp)
        _summarise_load_index(cur, delivery.entity)
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
        # the client's key hashes prove a clean file's keys unique without a server pass
        maybe_repeated = direct is None or direct.repeated_keys_possible
        duplicates = _duplicate_keys(cur, delivery.entity, load_id) if maybe_repeated else 0
        if duplicates:
            log.warning(
                "%s: %s business key(s) occur more than once in the file; they count once",
                delivery.name,
                duplicates,
            )
        _replace_earlier_deliveries(cur, delivery, load_id)
        archived = _archive(delivery.path, part, fp)
        cur.execute(
            """update audit.load_manifest set rows_read = %s, rows_loaded = %s, rows_rejected = %s,
                   duplicate_keys = %s, encoding = %s, notes = %s, archive_path = %s,
                   sha256 = %s, md5 = %s, byte_size = %s, file_mtime_ns = %s, finished_at = now()
               where load_id = %s""",
            (
                rows_read,
                loaded,
                rejected,
                duplicates,
                encoding,
                notes,
                str(archived),
                fp.sha256,
                fp.md5,
                fp.byte_size,
                mtime_ns,
                load_id,
            ),
        )
    conn.commit()
    return LoadResult(
        delivery.name, delivery.entity.name, "LOADED", rows_read, loaded, rejected, load_id=load_id
    )


def _summarise_load_index(cur: psycopg.Cursor, entity: Entity) -> None:
    """Summarise the pages this load added to the BRIN index on _load_id. A BRIN index
    returns every page range it has no summary for, and nothing else summarises them before
    autovacuum comes (a day's rows of a large table are far below its threshold), so every
    query for one load (the duplicate-key count, replacement, staging's new loads) would
    read all pages written since. The load's pages were just written and are cached."""
    cur.execute("select brin_summarize_new_values(%s::regclass)", (load_index(entity),))


@contextmanager
def _by_load_index(cur: psycopg.Cursor) -> Iterator[None]:
    """Statements that find one load's rows read them through the BRIN index on _load_id.
    During a bulk ingest the table has no statistics yet (autovacuum's ANALYZE comes later),
    and without them the planner scans the whole table for each file: a half year of BSS
    orders spent two thirds of its ingest counting duplicate keys, growing with the square
    of its files (0.18 s per file at scale 0.3)."""
    cur.execute("select set_config('enable_seqscan', 'off', true)")
    yield
    # not on an error: the transaction is then aborted, and its rollback drops the setting
    cur.execute("select set_config('enable_seqscan', 'on', true)")


def _duplicate_keys(cur: psycopg.Cursor, entity: Entity, load_id: int) -> int:
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in entity.key)
    with _by_load_index(cur):
        row = cur.execute(
            sql.SQL(
                "select count(*) from (select 1 from {table} where _load_id = {load_id}"
                " group by {keys} having count(*) > 1) as d"
            ).format(
                keys=keys, table=sql.Identifier("raw", entity.table), load_id=sql.Literal(load_id)
            )
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
        with _by_load_index(cur):
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
