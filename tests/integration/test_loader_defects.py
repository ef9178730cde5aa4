"""Every delivery defect of issue 3, injected by the generator, against the real loader.

One generator run (scale S, 2019H1, ~3 s) injects all defects, each into its own entity and
day, so the tests share it. Each test loads the affected file(s) into a fresh database and
checks, independently of the loader, from the file itself:

- reconciliation: records in the file = rows loaded + rows quarantined, per audit.load_manifest
  and per the tables;
- no key loaded twice beyond what the file itself repeats (and that repetition is flagged);
- the exact reason an operator reads.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import math
import os
import re
import shutil
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql

from sqwh.generate import generate
from sqwh.ingest import LoadResult, load_file
from sqwh.registry import Column, Entity, load_registry
from sqwh.warehouse import connect

REG = load_registry()
SHANGHAI = ZoneInfo("Asia/Shanghai")  # extract times are local times
ORDER = REG.entity("BSS_ORDER")  # compact timestamps, '|' delimited
CALL = REG.entity("CC_CALL")  # ISO timestamps, ',' delimited
CARE = REG.entity("CRM_CARE")  # Chinese text, GBK by default

DEFECTS = [
    "bad-rows:BSS_ORDER:20190103:timestamp",
    "bad-rows:BSS_ORDER:20190104:type",
    "bad-rows:BSS_ORDER:20190105:enum:2%",
    "bad-rows:CC_CALL:20190103:timestamp",
    "bad-rows:CC_CALL:20190104:required",
    "bad-rows:CC_CALL:20190105:enum",
    "dup-keys:BSS_ORDER:20190106:2",
    "header:BSS_ORDER:20190107:missing",
    "header:BSS_ORDER:20190108:rename",
    "header:BSS_ORDER:20190109:reorder",
    "header:BSS_ORDER:20190110:extra",
    "truncate:BSS_ORDER:20190111",
    "gzip:BSS_ORDER:20190112",
    "truncate:BSS_ORDER:20190112",
    "quoted:BSS_ORDER:20190113:2",
    "quoted:CC_CALL:20190113",
    "gzip:CC_CALL:20190113",
    "chk:BSS_ORDER:20190114:size",
    "chk:BSS_ORDER:20190115:md5",
    "chk:BSS_ORDER:20190116:count",
    "chk:BSS_ORDER:20190117:missing",
    "duplicate-file:BSS_ORDER:20190118",
    "redeliver:BSS_ORDER:20190119:3",
    "empty:BSS_ORDER:20190120",
    "header-only:BSS_ORDER:20190121",
    "encoding:CRM_CARE:20190103:utf-8-bom",
    "encoding:CRM_CARE:20190104:gbk",
    "encoding:CRM_CARE:20190105:gb18030",
    "encoding:CRM_CARE:20190106:utf-16",
    "encoding:CRM_CARE:20190107:utf-8",
]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    generate(out, "2019H1", "S", seed=7, defects=DEFECTS)
    return out


def delivered(landing: Path, entity: Entity, name: str) -> Path:
    return landing / entity.system / name


# --- independent readings of a file -------------------------------------------------------


def read_file(path: Path, entity: Entity, encoding: str | None = None) -> tuple[list, list]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    text = data.decode(encoding or entity.write_encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=entity.delimiter))
    return rows[0], rows[1:]


def violation(column: Column, value: str) -> str | None:
    """What the contract expects of ``value``, if it breaks it (written without the loader)."""
    if value == "":
        return "a value (required)" if column.required else None
    if column.type in ("int", "bigint") and not re.fullmatch(r"-?[0-9]+", value):
        return "an integer"
    if column.type == "timestamp":
        for form in ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"):
            try:
                datetime.strptime(value, form)
                break
            except ValueError:
                pass
        else:
            return "a timestamp YYYY-MM-DD HH:MM:SS or YYYYMMDDHHMMSS"
    if column.enum and value not in column.enum:
        return "one of " + ", ".join(column.enum)
    if column.pattern and not re.search(column.pattern, value):
        return f"a code matching {column.pattern}"
    return None


def bad_records(entity: Entity, header: list, rows: list) -> list[tuple[int, str, str]]:
    """(record number, column, reason) of every record that breaks the contract."""
    bad = []
    for n, row in enumerate(rows, 1):
        for name, value in zip(header, row, strict=True):
            if name not in entity.column_names:
                continue  # an extra column: ignored
            expected = violation(entity.column(name), value)
            if expected:
                got = f"'{value}'" if value else "empty"
                bad.append((n, name, f"{name}: expected {expected}, got {got}"))
                break
    return bad


def repeated_keys(entity: Entity, header: list, rows: list) -> int:
    idx = [header.index(k) for k in entity.key]
    counts = Counter(tuple(r[i] for i in idx) for r in rows)
    return sum(1 for c in counts.values() if c > 1)


# --- what the warehouse holds ---------------------------------------------------------------


def manifest(conn: psycopg.Connection, load_id: int) -> dict:
    cur = conn.execute("select * from audit.load_manifest where load_id = %s", (load_id,))
    return dict(zip([d.name for d in cur.description], cur.fetchone(), strict=True))


def count(conn: psycopg.Connection, query: sql.Composable, *params: object) -> int:
    return conn.execute(query, params).fetchone()[0]


def raw_rows(conn: psycopg.Connection, entity: Entity, load_id: int) -> int:
    table = sql.Identifier("raw", entity.table)
    return count(
        conn, sql.SQL("select count(*) from {} where _load_id = %s").format(table), load_id
    )


def raw_repeated_keys(conn: psycopg.Connection, entity: Entity, load_id: int) -> int:
    keys = sql.SQL(", ").join(map(sql.Identifier, entity.key))
    return count(
        conn,
        sql.SQL(
            "select count(*) from (select 1 from {} where _load_id = %s group by {} having count(*) > 1) d"
        ).format(sql.Identifier("raw", entity.table), keys),
        load_id,
    )


def quarantined(conn: psycopg.Connection, load_id: int) -> list[tuple]:
    return conn.execute(
        "select record_no, column_name, reason from raw.quarantine where load_id = %s order by record_no",
        (load_id,),
    ).fetchall()


def reconcile_loaded(
    conn: psycopg.Connection, result: LoadResult, path: Path, entity: Entity, encoding=None
) -> tuple[list, list]:
    """A loaded file: every record is either loaded or quarantined, with the reason the
    contract gives, and keys repeat in the table only as often as in the file."""
    assert result.status == "LOADED", result.reason
    header, rows = read_file(path, entity, encoding)
    m = manifest(conn, result.load_id)
    bad = bad_records(entity, header, rows)
    assert m["status"] == "LOADED"
    assert m["rows_read"] == len(rows) == m["rows_loaded"] + m["rows_rejected"]
    assert m["rows_rejected"] == len(bad)
    assert raw_rows(conn, entity, result.load_id) == m["rows_loaded"]
    assert quarantined(conn, result.load_id) == bad
    numbers = conn.execute(
        sql.SQL("select _record_no from {} where _load_id = %s").format(
            sql.Identifier("raw", entity.table)
        ),
        (result.load_id,),
    ).fetchall()
    # every record keeps its place in the file: loaded and quarantined ones together are 1..n
    assert sorted([n for (n,) in numbers] + [b[0] for b in bad]) == list(range(1, len(rows) + 1))
    good = [r for n, r in enumerate(rows, 1) if n not in {b[0] for b in bad}]
    assert raw_repeated_keys(conn, entity, result.load_id) == m["duplicate_keys"]
    assert m["duplicate_keys"] == repeated_keys(entity, header, good)
    return header, rows


def assert_refused(conn: psycopg.Connection, result: LoadResult, entity: Entity, reason: str):
    """A refused file: nothing of it in raw or quarantine, the reason in the manifest."""
    assert (result.status, result.reason) == ("REFUSED", reason)
    m = manifest(conn, result.load_id)
    assert (m["status"], m["reason"]) == ("REFUSED", reason)
    assert raw_rows(conn, entity, result.load_id) == 0
    assert quarantined(conn, result.load_id) == []


# --- bad rows -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "day", "column", "expected"),
    [
        (ORDER, "20190103", "accept_time", "a timestamp YYYY-MM-DD HH:MM:SS or YYYYMMDDHHMMSS"),
        (ORDER, "20190104", "queue_wait_sec", "an integer"),
        (CALL, "20190103", "call_start", "a timestamp YYYY-MM-DD HH:MM:SS or YYYYMMDDHHMMSS"),
        (CALL, "20190104", "hotline", "a value (required)"),
        (CALL, "20190105", "end_reason", "one of IVR_DONE, ANSWERED, ABANDONED, TRANSFERRED"),
    ],
    ids=["compact-timestamp", "type", "iso-timestamp", "required", "enum"],
)
def test_a_bad_row_is_quarantined_with_record_column_reason_and_raw_line(
    scratch_db: str, landing: Path, entity: Entity, day: str, column: str, expected: str
) -> None:
    path = delivered(landing, entity, f"{entity.name}_{day}.csv")
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system=entity.system)
        header, rows = reconcile_loaded(conn, result, path, entity)
        (record_no, col, reason), *more = quarantined(conn, result.load_id)
        raw_record = conn.execute(
            "select raw_record from raw.quarantine where load_id = %s", (result.load_id,)
        ).fetchone()[0]
    assert more == []
    bad = rows[record_no - 1][header.index(column)]
    assert col == column
    assert reason == f"{column}: expected {expected}, got " + (f"'{bad}'" if bad else "empty")
    assert raw_record == "|".join(rows[record_no - 1])
    if entity is ORDER and column == "accept_time":
        assert re.fullmatch(r"2019\d{10}", bad)  # the compact form, 30 February
    assert result.rows_rejected == 1


def test_a_share_of_bad_rows_over_the_threshold_refuses_the_whole_file(
    scratch_db: str, landing: Path
) -> None:
    path = delivered(landing, ORDER, "BSS_ORDER_20190105.csv")
    header, rows = read_file(path, ORDER)
    bad = bad_records(ORDER, header, rows)
    assert len(bad) == math.ceil(len(rows) * 0.02)  # the defect's 2 %
    first = "; ".join(f"record {n}: {r}" for n, _, r in bad[:3])
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert_refused(
            conn,
            result,
            ORDER,
            f"{path}: {len(bad)} of {len(rows)} records break the contract (over 1%); "
            f"whole file refused, nothing loaded. First: {first}",
        )
    assert "order_type: expected one of NEW_INSTALL," in first


# --- encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "codec", "detected"),
    [
        ("20190103", "utf-8-sig", "utf-8"),
        ("20190104", "gbk", "gb18030"),
        ("20190105", "gb18030", "gb18030"),
        ("20190107", "utf-8", "utf-8"),
    ],
    ids=["utf-8-bom", "gbk", "gb18030", "utf-8"],
)
def test_chinese_text_lands_correct_in_every_accepted_encoding(
    scratch_db: str, landing: Path, day: str, codec: str, detected: str
) -> None:
    path = delivered(landing, CARE, f"CRM_CARE_{day}.csv")
    header, rows = read_file(path, CARE, codec)
    campaigns = sorted(r[header.index("campaign")] for r in rows)
    assert any(re.search(r"[\u4e00-\u9fff]", c) for c in campaigns)  # Chinese is there to break
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="crm")
        reconcile_loaded(conn, result, path, CARE, codec)
        assert manifest(conn, result.load_id)["encoding"] == detected
        stored = conn.execute(
            "select coalesce(campaign, '') from raw.crm_care order by 1"
        ).fetchall()
    assert [c for (c,) in stored] == campaigns


def test_an_undeclared_encoding_is_refused_naming_the_file_and_first_bad_byte(
    scratch_db: str, landing: Path
) -> None:
    path = delivered(landing, CARE, "CRM_CARE_20190106.csv")
    offset = next(i for i, b in enumerate(path.read_bytes()) if b >= 0x80)  # UTF-16 BOM
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="crm")
        assert_refused(
            conn,
            result,
            CARE,
            f"{path}: encoding is neither UTF-8 nor GBK/GB18030 (first byte that is not UTF-8 at "
            f"offset {offset}); re-export it in UTF-8 or GBK, or declare the encoding in sources.yml",
        )


# --- control files --------------------------------------------------------------------------


def _chk(path: Path) -> list[str]:
    return path.with_name(path.name + ".chk").read_text().strip().split("|")


@pytest.mark.parametrize("kind", ["size", "md5", "count"])
def test_a_control_file_mismatch_refuses_the_file(
    scratch_db: str, landing: Path, kind: str
) -> None:
    day = {"size": "20190114", "md5": "20190115", "count": "20190116"}[kind]
    path = delivered(landing, ORDER, f"BSS_ORDER_{day}.csv")
    _, size, records, md5 = _chk(path)
    data = path.read_bytes()
    _, rows = read_file(path, ORDER)
    expected = {
        "size": f"{path}: size is {len(data)} bytes but the control file says {size} "
        "(truncated or still being written?)",
        "md5": f"{path}: MD5 is {__import__('hashlib').md5(data).hexdigest()} but the control "
        f"file says {md5}",
        "count": f"{path}: {len(rows)} records read but the control file says {records}",
    }[kind]
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert_refused(conn, result, ORDER, expected)


def test_a_file_without_control_file_is_waited_for_then_refused(
    scratch_db: str, landing: Path
) -> None:
    path = delivered(landing, ORDER, "BSS_ORDER_20190117.csv")
    assert not path.with_name(path.name + ".chk").exists()
    os.utime(path)  # just written: the control file may still come
    with connect(scratch_db) as conn:
        waiting = load_file(conn, path, system="bss")
        assert waiting.status == "WAITING"
        assert waiting.reason.startswith(f"{path}: no control file BSS_ORDER_20190117.csv.chk yet")
        assert count(conn, sql.SQL("select count(*) from audit.load_manifest")) == 0
        old = time.time() - 3600
        os.utime(path, (old, old))
        result = load_file(conn, path, system="bss")
        assert_refused(
            conn, result, ORDER, f"{path}: control file BSS_ORDER_20190117.csv.chk is missing"
        )


# --- header drift ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "rename"])
def test_a_header_without_a_required_column_is_refused(
    scratch_db: str, landing: Path, kind: str
) -> None:
    day = {"missing": "20190107", "rename": "20190108"}[kind]
    path = delivered(landing, ORDER, f"BSS_ORDER_{day}.csv")
    header, _ = read_file(path, ORDER)
    assert ("test_flag_v2" in header) == (kind == "rename")
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert_refused(
            conn,
            result,
            ORDER,
            f"{path}: header lacks required column(s) test_flag (header: {'|'.join(header)[:200]}); "
            "re-export the file or map the column in sources.yml",
        )


@pytest.mark.parametrize(
    ("day", "note"),
    [
        ("20190109", "columns in a different order than the contract; mapped by name"),
        ("20190110", "extra column(s) ignored: vendor_batch"),
    ],
    ids=["reorder", "extra"],
)
def test_reordered_and_extra_columns_load_by_name_with_a_note(
    scratch_db: str, landing: Path, day: str, note: str
) -> None:
    path = delivered(landing, ORDER, f"BSS_ORDER_{day}.csv")
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        header, rows = reconcile_loaded(conn, result, path, ORDER)
        assert manifest(conn, result.load_id)["notes"] == note
        loaded = conn.execute(
            "select order_id, order_type, status from raw.bss_order order by order_id"
        ).fetchall()
    i = [header.index(c) for c in ("order_id", "order_type", "status")]
    assert loaded == sorted(tuple(r[j] for j in i) for r in rows)


# --- truncation, gzip, quoting, empty files ------------------------------------------------


def test_a_truncated_csv_is_refused_at_its_broken_last_line(scratch_db: str, landing: Path) -> None:
    path = delivered(landing, ORDER, "BSS_ORDER_20190111.csv")
    data = path.read_bytes()
    lines = data.count(b"\n") + 1  # the cut line has no line break
    last = data.rsplit(b"\n", 1)[1].decode().split("|")
    missing = ORDER.column_names[len(last)]
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert_refused(
            conn,
            result,
            ORDER,
            f"{path}: line {lines} does not split into the header's {len(ORDER.columns)} fields "
            f'(missing data for column "{missing}"); the file is truncated, or a field holding '
            "a delimiter or line break is not quoted",
        )


def test_a_truncated_gzip_is_refused(scratch_db: str, landing: Path) -> None:
    path = delivered(landing, ORDER, "BSS_ORDER_20190112.csv.gz")
    with pytest.raises(EOFError) as broken:
        gzip.decompress(path.read_bytes())
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert_refused(
            conn,
            result,
            ORDER,
            f"{path}: cannot be read to the end ({broken.value}); truncated or corrupt",
        )


@pytest.mark.parametrize(
    ("entity", "name", "column"),
    [
        (ORDER, "BSS_ORDER_20190113.csv", "outlet_id"),
        (CALL, "CC_CALL_20190113.csv.gz", "agent_id"),
    ],
    ids=["pipe", "comma-gzip"],
)
def test_quoted_fields_with_delimiters_and_line_breaks_load_intact(
    scratch_db: str, landing: Path, entity: Entity, name: str, column: str
) -> None:
    path = delivered(landing, entity, name)
    header, rows = read_file(path, entity)
    i, key = header.index(column), header.index(entity.key[0])
    quoted = {r[key]: r[i] for r in rows if "\n" in r[i]}
    assert quoted and all('|a,b "quoted"\nsecond line' in v for v in quoted.values())
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system=entity.system)
        reconcile_loaded(conn, result, path, entity)
        stored = conn.execute(
            sql.SQL("select {}, {} from {} where {} like '%%quoted%%'").format(
                sql.Identifier(entity.key[0]),
                sql.Identifier(column),
                sql.Identifier("raw", entity.table),
                sql.Identifier(column),
            )
        ).fetchall()
    assert dict(stored) == quoted


def test_a_header_only_file_loads_zero_rows_and_an_empty_file_is_refused(
    scratch_db: str, landing: Path
) -> None:
    header_only = delivered(landing, ORDER, "BSS_ORDER_20190121.csv")
    empty = delivered(landing, ORDER, "BSS_ORDER_20190120.csv")
    assert empty.stat().st_size == 0
    with connect(scratch_db) as conn:
        zero = load_file(conn, header_only, system="bss")
        reconcile_loaded(conn, zero, header_only, ORDER)
        assert zero.rows_read == 0
        refused = load_file(conn, empty, system="bss")
        assert_refused(
            conn,
            refused,
            ORDER,
            f"{empty}: empty file, not even a header line (a day without events is delivered "
            "as a header-only file)",
        )


# --- idempotency ----------------------------------------------------------------------------


def test_the_same_bytes_are_never_loaded_twice_under_any_name(
    scratch_db: str, landing: Path
) -> None:
    first = delivered(landing, ORDER, "BSS_ORDER_20190118.csv")
    copy = delivered(landing, ORDER, "BSS_ORDER_20190118_2.csv")
    assert first.read_bytes() == copy.read_bytes()
    with connect(scratch_db) as conn:
        loaded = load_file(conn, first, system="bss")
        reconcile_loaded(conn, loaded, first, ORDER)
        again = load_file(conn, first, system="bss")
        assert (again.status, again.reason) == (
            "SKIPPED",
            f"already loaded as load {loaded.load_id}",
        )
        dup = load_file(conn, copy, system="bss")
        reason = f"same bytes as load {loaded.load_id} (BSS_ORDER_20190118.csv); not loaded again"
        assert (dup.status, dup.reason) == ("DUPLICATE", reason)
        assert (manifest(conn, dup.load_id)["status"], manifest(conn, dup.load_id)["reason"]) == (
            "DUPLICATE",
            reason,
        )
        assert count(conn, sql.SQL("select count(*) from raw.bss_order")) == loaded.rows_loaded
        assert raw_repeated_keys(conn, ORDER, loaded.load_id) == 0


def test_a_corrected_redelivery_replaces_the_day_atomically(scratch_db: str, landing: Path) -> None:
    first = delivered(landing, ORDER, "BSS_ORDER_20190119.csv")
    corrected = delivered(landing, ORDER, "BSS_ORDER_20190119_2.csv")
    _, old_rows = read_file(first, ORDER)
    _, new_rows = read_file(corrected, ORDER)
    assert len(new_rows) == len(old_rows) - 3
    with connect(scratch_db) as conn:
        v1 = load_file(conn, first, system="bss")
        reconcile_loaded(conn, v1, first, ORDER)
        v2 = load_file(conn, corrected, system="bss")
        reconcile_loaded(conn, v2, corrected, ORDER)
        old = manifest(conn, v1.load_id)
        day_ids = conn.execute(
            "select order_id from raw.bss_order where _business_date = '2019-01-19' order by 1"
        ).fetchall()
    assert (old["status"], old["reason"]) == (
        "REPLACED",
        f"replaced by load {v2.load_id} (BSS_ORDER_20190119_2.csv), a re-delivery of "
        f"2019-01-19; {len(old_rows)} rows removed",
    )
    assert [i for (i,) in day_ids] == sorted(r[0] for r in new_rows)


def test_keys_repeated_inside_a_file_are_flagged_in_the_manifest(
    scratch_db: str, landing: Path
) -> None:
    path = delivered(landing, ORDER, "BSS_ORDER_20190106.csv")
    header, rows = read_file(path, ORDER)
    assert repeated_keys(ORDER, header, rows) >= 2  # the two injected, and any the feed had
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        reconcile_loaded(conn, result, path, ORDER)
        assert manifest(conn, result.load_id)["duplicate_keys"] == repeated_keys(
            ORDER, header, rows
        )


# --- routine loads: quiet logs, progress, asset events ---------------------------------------


def test_compact_timestamps_load_by_the_direct_copy_and_log_rows_per_second(
    scratch_db: str, landing: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = delivered(landing, ORDER, "BSS_ORDER_20190102.csv")
    caplog.set_level(logging.DEBUG, logger="sqwh.ingest")
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        header, rows = reconcile_loaded(conn, result, path, ORDER)
        times = [c.name for c in ORDER.columns if c.type == "timestamp"]
        loaded = conn.execute(
            sql.SQL("select _record_no, {} from raw.bss_order where _load_id = %s").format(
                sql.SQL(", ").join(map(sql.Identifier, times))
            ),
            (result.load_id,),
        ).fetchall()
    # the direct COPY took them (the client rewrote them for the server): no staging table
    assert not [r for r in caplog.records if "staging table" in r.getMessage()]
    # each value is the file's YYYYMMDDHHMMSS, a Shanghai local time, read without the loader
    assert {n: list(values) for n, *values in loaded} == {
        n: [
            datetime.strptime(v, "%Y%m%d%H%M%S").replace(tzinfo=SHANGHAI) if v else None
            for v in (row[header.index(t)] for t in times)
        ]
        for n, row in enumerate(rows, 1)
    }
    assert sum(v is not None for _, *values in loaded for v in values) > len(rows)
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(messages) == 1, messages  # only the summary: nothing that reads like a problem
    assert re.fullmatch(
        rf"BSS_ORDER_20190102\.csv: {result.rows_loaded:,} rows loaded, 0 quarantined, "
        r"\d+\.\d s \(\d+ rows/s\)",
        messages[0],
    )


@pytest.mark.parametrize("copies", [1, 160], ids=["small", "over-4-MiB-threaded-check"])
def test_a_multibyte_value_in_a_compact_timestamp_column_is_quarantined_not_split(
    scratch_db: str, landing: Path, tmp_path: Path, copies: int
) -> None:
    """'12月1日10点' is 14 bytes in UTF-8, the width of YYYYMMDDHHMMSS: the compact-time
    rewrite must leave it whole (a 'T' in it would split a character, and the server would
    refuse the whole file as not UTF-8); the row is quarantined, the others load."""
    header, rows = read_file(delivered(landing, ORDER, "BSS_ORDER_20190102.csv"), ORDER)
    key, when = header.index("order_id"), header.index("accept_time")
    rows = [[f"{r[key]}-{i}", *r[key + 1 :]] for i in range(copies) for r in rows]
    rows[-3][when] = "12月1日10点"
    data = ("\n".join("|".join(r) for r in [header, *rows]) + "\n").encode()
    assert copies == 1 or len(data) > 4 << 20  # past THREADED_CHECK_FROM: the checker's thread
    path = tmp_path / "bss" / "BSS_ORDER_20190102.csv"
    path.parent.mkdir()
    path.write_bytes(data)
    md5 = __import__("hashlib").md5(data).hexdigest()
    path.with_name(path.name + ".chk").write_text(f"{path.name}|{len(data)}|{len(rows)}|{md5}\n")
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        reconcile_loaded(conn, result, path, ORDER)
        assert quarantined(conn, result.load_id) == [
            (
                len(rows) - 2,
                "accept_time",
                "accept_time: expected a timestamp YYYY-MM-DD HH:MM:SS or YYYYMMDDHHMMSS, "
                "got '12月1日10点'",
            )
        ]


def test_the_ingest_task_announces_each_loaded_entity_and_skips_when_nothing_is_new(
    scratch_db: str, landing: Path, tmp_path: Path
) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    from sqwh.airflow_tasks import load_entity

    days = ("20190102", "20190106")
    for day in days:
        for suffix in ("", ".chk"):
            src = delivered(landing, ORDER, f"BSS_ORDER_{day}.csv{suffix}")
            (tmp_path / "bss").mkdir(exist_ok=True)
            shutil.copyfile(src, tmp_path / "bss" / src.name)
    rows = sum(len(read_file(tmp_path / "bss" / f"BSS_ORDER_{d}.csv", ORDER)[1]) for d in days)
    event = SimpleNamespace(extra={})
    summary = load_entity("bss", "BSS_ORDER", str(tmp_path), "run-1", event)
    assert event.extra == {
        "files": 2,
        "rows_loaded": rows,
        "rows_rejected": 0,
        "first_day": "2019-01-02",
        "last_day": "2019-01-06",
    }
    assert summary["BSS_ORDER"] == event.extra
    again = SimpleNamespace(extra={})
    with pytest.raises(AirflowSkipException, match="no new BSS_ORDER file"):
        load_entity("bss", "BSS_ORDER", str(tmp_path), "run-2", again)
    assert again.extra == {}
