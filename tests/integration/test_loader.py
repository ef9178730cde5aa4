"""The loader against a real PostgreSQL: what hand-made files show best (time zones, hostile
names, contract edges). Every delivery defect of issue 3 is in test_loader_defects.py, injected
by the generator."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import psycopg
import pytest

from sqwh.ingest import load_file
from sqwh.warehouse import connect

HEADER = "ticket_id|line_no|product|city_code|county_code|area_type|report_time|restore_time|fault_class|source"


def good_row(i: int) -> str:
    return f"T{i:05d}|1350000{i:04d}|FIXED|140100|140105|URBAN|20190101101010|2019-01-01 12:10:10|LINE|10000"


def deliver(
    folder: Path,
    name: str,
    lines: list[str],
    *,
    records: int | None = None,
    md5: str | None = None,
    header: str = HEADER,
    encoding: str = "utf-8",
    system: str = "bss",
) -> Path:
    path = folder / system / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join([header, *lines]) + "\n").encode(encoding)
    if name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    count = len(lines) if records is None else records
    (path.parent / f"{name}.chk").write_text(
        f"{name}|{len(data)}|{count}|{md5 or hashlib.md5(data).hexdigest()}\n"
    )
    return path


def manifest(conn: psycopg.Connection, load_id: int) -> dict:
    cur = conn.execute("select * from audit.load_manifest where load_id = %s", (load_id,))
    return dict(zip([d.name for d in cur.description], cur.fetchone(), strict=True))


def test_timestamps_are_local_shanghai_time_whatever_the_format(
    scratch_db: str, tmp_path: Path
) -> None:
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv", [good_row(1)])
    with connect(scratch_db) as conn:
        load_file(conn, path, system="bss")
        conn.execute("set timezone = 'UTC'")
        start, end = conn.execute(
            "select report_time::text, restore_time::text from raw.bss_fault"
        ).fetchone()
    assert (start, end) == ("2019-01-01 02:10:10+00", "2019-01-01 04:10:10+00")


def test_header_only_files_of_different_days_are_each_loaded(
    scratch_db: str, tmp_path: Path
) -> None:
    first = deliver(tmp_path, "BSS_FAULT_20190101.csv", [])
    second = deliver(
        tmp_path, "BSS_FAULT_20190102.csv", []
    )  # same bytes, another day: not a duplicate
    with connect(scratch_db) as conn:
        assert load_file(conn, first, system="bss").status == "LOADED"
        assert load_file(conn, second, system="bss").status == "LOADED"
        days = conn.execute(
            "select count(distinct business_date) from audit.load_manifest where status = 'LOADED'"
        ).fetchone()[0]
    assert days == 2


def test_a_value_the_table_contract_rejects_is_quarantined_not_a_failed_load(
    scratch_db: str, tmp_path: Path
) -> None:
    rows = [good_row(i) for i in range(1, 150)]
    rows.append(
        "T09999|13500009999|FIXED|140100|140105|URBAN|18500101101010||LINE|10000"
    )  # year 1850
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv", rows)
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert (result.status, result.rows_loaded, result.rows_rejected) == ("LOADED", 149, 1), (
            result.reason
        )
        reason = conn.execute("select reason from raw.quarantine").fetchone()[0]
    assert reason.startswith("report_time: expected a timestamp")


def test_old_dates_within_the_contract_load(scratch_db: str, tmp_path: Path) -> None:
    header = "customer_id,name,id_no,phone,city_code,segment,value_tier,join_date"
    rows = ["C1,张三,140108195112114679,15300344943,140100,MASS,MID,1998-01-06"]
    path = deliver(tmp_path, "CRM_CUSTOMER_20190630.csv", rows, header=header, system="crm")
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="crm")
        assert result.status == "LOADED", result.reason
        assert (
            str(conn.execute("select join_date from raw.crm_customer").fetchone()[0])
            == "1998-01-06"
        )


@pytest.mark.parametrize(
    "name",
    [
        "BSS_FAULT_20190101'; drop table raw.bss_fault; --.csv",
        "BSS_FAULT_$(touch pwned)_20190101.csv",
        "..%2F..%2Fetc_passwd.csv",
    ],
)
def test_hostile_file_names_are_data_not_code(scratch_db: str, tmp_path: Path, name: str) -> None:
    path = deliver(tmp_path, name, [good_row(1)])
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert result.status == "REFUSED"
        assert "file name does not follow" in result.reason
        stored = conn.execute(
            "select file_name from audit.load_manifest where load_id = %s", (result.load_id,)
        )
        assert stored.fetchone()[0] == name
        assert conn.execute("select to_regclass('raw.bss_fault')").fetchone()[0] is not None
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_hostile_entity_names_are_quoted_identifiers(scratch_db: str) -> None:
    from sqwh.registry import parse_registry
    from sqwh.schema import raw_table_ddl

    hostile = 'X"; drop table raw.bss_fault; --'
    registry = parse_registry(
        {
            "timezone": "Asia/Shanghai",
            "systems": {
                "bss": {
                    "name": "BSS",
                    "entities": {
                        hostile: {
                            "delivery": "daily",
                            "key": ["id"],
                            "delimiter": "|",
                            "encoding": "auto",
                            "timestamp_format": "iso",
                            "columns": [{"name": "id", "type": "text", "required": True}],
                        }
                    },
                }
            },
        }
    )
    with connect(scratch_db) as conn:
        for statement in raw_table_ddl(registry.entities[0]):
            conn.execute(statement)
        conn.commit()
        assert conn.execute("select to_regclass('raw.bss_fault')").fetchone()[0] is not None
        assert (
            conn.execute(
                "select count(*) from pg_tables where schemaname = 'raw' and tablename = %s",
                (hostile.lower(),),
            ).fetchone()[0]
            == 1
        )


def test_entity_file_selection_is_exact(tmp_path: Path) -> None:
    from sqwh.ingest.loader import landing_files

    for name in (
        "BSS_BILL_20190131.csv",
        "BSS_BILL_ADJ_20190101.csv",
        "BSS_BILL_ADJ_20190102_2.csv.gz",
    ):
        (tmp_path / "bss").mkdir(exist_ok=True)
        (tmp_path / "bss" / name).write_text("x")
    bills = [p.name for p in landing_files(tmp_path, "bss", ["BSS_BILL"])]
    adjustments = [p.name for p in landing_files(tmp_path, "bss", ["BSS_BILL_ADJ"])]
    assert bills == ["BSS_BILL_20190131.csv"]
    assert adjustments == ["BSS_BILL_ADJ_20190101.csv", "BSS_BILL_ADJ_20190102_2.csv.gz"]


def test_gbk_after_the_first_mib_is_found_by_postgresql_and_the_file_reloaded(
    scratch_db: str, tmp_path: Path
) -> None:
    # the encoding is guessed from the first MiB; PostgreSQL validates the rest while loading
    rows = [good_row(i) for i in range(1, 15_000)]
    rows.append(good_row(15_000).replace("|LINE|", "|线路故障|"))
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv", rows, encoding="gbk")
    assert path.read_bytes()[: 1 << 20].isascii()
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert (result.status, result.rows_loaded) == ("LOADED", 15_000), result.reason
        assert conn.execute(
            "select fault_class from raw.bss_fault where ticket_id = 'T15000'"
        ).fetchone() == ("线路故障",)
        assert manifest(conn, result.load_id)["encoding"] == "gb18030"


def test_a_nul_byte_quarantines_its_row_not_the_file(scratch_db: str, tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(1, 201)] + [good_row(201).replace("|LINE|", "|LI\0NE|")]
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv", rows)
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert (result.status, result.rows_read, result.rows_loaded, result.rows_rejected) == (
            "LOADED",
            201,
            200,
            1,
        ), result.reason
        quarantined = conn.execute(
            "select record_no, column_name, reason from raw.quarantine where load_id = %s",
            (result.load_id,),
        ).fetchall()
        # the NUL is shown as SUB (0x1a): COPY cannot carry a NUL byte even into text
        assert quarantined == [
            (
                201,
                "fault_class",
                "fault_class: expected text without NUL (0x00) bytes, got 'LI\x1aNE'",
            )
        ]
        assert conn.execute(
            "select count(*) from raw.bss_fault where _load_id = %s", (result.load_id,)
        ).fetchone() == (200,)


# --- the direct path: rows checked in the client while the COPY runs ---------------------------

CALL_HEADER = (
    "call_id,hotline,caller_no,city_code,call_start,ivr_end,queue_start,answer_time,call_end,"
    "skill_group,agent_id,end_reason"
)


def call_row(i: int, call_id: str | None = None, start: str = "2019-03-01 10:00:00") -> str:
    return (
        f"{call_id or f'CA{i:08d}'},10000,1530000{i:04d},140100,{start},2019-03-01 10:00:30,"
        f"2019-03-01 10:00:30,2019-03-01 10:01:00,2019-03-01 10:05:00,MOBILE,G{i:04d},ANSWERED"
    )


def test_a_clean_file_loads_directly_with_record_positions_and_repeated_keys_counted(
    scratch_db: str, tmp_path: Path
) -> None:
    rows = [call_row(i) for i in range(1, 400)]
    # a quoted line break inside a value: record numbers count records, not lines
    rows[9] = rows[9].replace(",G0010,", ',"G00\n10",')
    rows += [call_row(400, call_id="CA00000007"), call_row(401, call_id="CA00000008")]
    rows.append(call_row(402, call_id="CA00000008"))
    path = deliver(tmp_path, "CC_CALL_20190301.csv", rows, header=CALL_HEADER, system="cc")
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="cc")
        assert (result.status, result.rows_loaded, result.rows_rejected) == ("LOADED", 402, 0)
        loaded = conn.execute(
            "select _record_no, call_id, agent_id, _load_id, _business_date,"
            " call_start at time zone 'UTC' from raw.cc_call order by _record_no"
        ).fetchall()
        assert manifest(conn, result.load_id)["duplicate_keys"] == 2  # CA..07 twice, CA..08 thrice
    assert [r[0] for r in loaded] == list(range(1, 403))
    assert [r[1] for r in loaded] == [row.split(",", 1)[0] for row in rows]
    assert loaded[9][2] == "G00\n10"
    assert {(r[3], str(r[4])) for r in loaded} == {(result.load_id, "2019-03-01")}
    assert str(loaded[0][5]) == "2019-03-01 02:00:00"  # 10:00 in Shanghai is 02:00 UTC


def test_each_load_leaves_its_pages_summarised_in_the_load_index(
    scratch_db: str, tmp_path: Path
) -> None:
    # about 40 pages per file: BRIN ranges of 16 pages that nothing summarised would be
    # returned for every load's query (the duplicate-key count, replacement, staging)
    for day in ("01", "02"):
        rows = [call_row(i, call_id=f"C{day}{i:07d}") for i in range(2000)]
        rows.append(call_row(1, call_id=f"C{day}{1:07d}"))
        path = deliver(tmp_path, f"CC_CALL_201903{day}.csv", rows, header=CALL_HEADER, system="cc")
        with connect(scratch_db) as conn:
            result = load_file(conn, path, system="cc")
            assert manifest(conn, result.load_id)["duplicate_keys"] == 1
            unsummarised = conn.execute(
                "select brin_summarize_new_values('raw.cc_call_load_id_brin'::regclass)"
            ).fetchone()[0]
            conn.rollback()
        assert unsummarised == 0, f"load of day {day} left {unsummarised} ranges unsummarised"


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        ("2019-02-30 10:00:00", "call_start: expected a timestamp"),  # no such day
        ("1850-03-01 10:00:00", "call_start: expected a timestamp"),  # outside 1900-2199
    ],
)
def test_a_value_the_client_cannot_vouch_for_goes_through_the_staging_checks(
    scratch_db: str, tmp_path: Path, start: str, reason: str
) -> None:
    rows = [call_row(i) for i in range(1, 300)]
    rows[150] = call_row(151, start=start)
    path = deliver(tmp_path, "CC_CALL_20190301.csv", rows, header=CALL_HEADER, system="cc")
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="cc")
        assert (result.status, result.rows_loaded, result.rows_rejected) == ("LOADED", 298, 1)
        record_no, why = conn.execute("select record_no, reason from raw.quarantine").fetchone()
    assert record_no == 151 and why.startswith(reason), why


def test_a_rerun_skips_a_loaded_file_without_reading_it_unless_it_changed(
    scratch_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from sqwh.ingest import loader

    path = deliver(tmp_path, "CC_CALL_20190301.csv", [call_row(1)], header=CALL_HEADER, system="cc")
    fingerprinted: list[Path] = []
    real = loader.fingerprint
    monkeypatch.setattr(loader, "fingerprint", lambda p: fingerprinted.append(p) or real(p))
    with connect(scratch_db) as conn:
        first = load_file(conn, path, system="cc")
        archived = Path(manifest(conn, first.load_id)["archive_path"])
        again = load_file(conn, path, system="cc")
        assert (again.status, again.reason) == (
            "SKIPPED",
            f"already loaded as load {first.load_id}",
        )
        assert fingerprinted == []  # same path, size and mtime: not read again
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        touched = load_file(conn, path, system="cc")
        assert (touched.status, touched.reason) == (
            "SKIPPED",
            f"already loaded as load {first.load_id}",
        )
        assert fingerprinted == [path]  # mtime differs: fingerprinted, same bytes, skipped
        # ... and the new mtime is noted: the next run skips it without reading it again
        assert load_file(conn, path, system="cc").status == "SKIPPED"
        assert fingerprinted == [path]
    # the archive copy was written by the load's own read: the file's bytes, no part left over
    assert archived.read_bytes() == path.read_bytes()
    assert not list(archived.parent.parent.glob(".incoming-*"))
