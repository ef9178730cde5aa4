"""The loader against a real PostgreSQL: COPY, contract checks, quarantine, manifest, idempotency."""

from __future__ import annotations

import gzip
import hashlib
import os
import time
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


def test_loads_good_rows_and_quarantines_a_bad_one_with_line_and_reason(
    scratch_db: str, tmp_path: Path
) -> None:
    rows = [good_row(i) for i in range(1, 200)]
    rows.insert(
        41, "T99999|13500009999|FIXED|140100|140105|URBAN|20190230101010||LINE|10000"
    )  # 30 Feb
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv", rows)
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert result.status == "LOADED"
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (200, 199, 1)
        m = manifest(conn, result.load_id)
        assert m["rows_read"] == m["rows_loaded"] + m["rows_rejected"] == 200
        assert conn.execute("select count(*) from raw.bss_fault").fetchone()[0] == 199
        q = conn.execute(
            "select record_no, column_name, reason, raw_record from raw.quarantine"
        ).fetchall()
    assert q == [
        (
            42,
            "report_time",
            "report_time: expected a timestamp YYYY-MM-DD HH:MM:SS or YYYYMMDDHHMMSS, got '20190230101010'",
            "T99999|13500009999|FIXED|140100|140105|URBAN|20190230101010||LINE|10000",
        )
    ]


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


def test_same_bytes_under_another_name_are_recorded_as_duplicate_not_loaded(
    scratch_db: str, tmp_path: Path
) -> None:
    first = deliver(tmp_path, "BSS_FAULT_20190101.csv", [good_row(i) for i in range(10)])
    again = deliver(tmp_path, "BSS_FAULT_20190101_2.csv", [good_row(i) for i in range(10)])
    with connect(scratch_db) as conn:
        assert load_file(conn, first, system="bss").status == "LOADED"
        assert load_file(conn, first, system="bss").status == "SKIPPED"
        dup = load_file(conn, again, system="bss")
        assert dup.status == "DUPLICATE"
        assert "same bytes as load" in dup.reason
        assert conn.execute("select count(*) from raw.bss_fault").fetchone()[0] == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"records": 11}, "10 records read but the control file says 11"),
        ({"md5": "0" * 32}, "but the control file says 00000000000000000000000000000000"),
    ],
)
def test_control_file_mismatch_refuses_the_file(
    scratch_db: str, tmp_path: Path, kwargs: dict, message: str
) -> None:
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv", [good_row(i) for i in range(10)], **kwargs)
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert result.status == "REFUSED"
        assert message in result.reason
        assert manifest(conn, result.load_id)["status"] == "REFUSED"
        assert conn.execute("select count(*) from raw.bss_fault").fetchone()[0] == 0


def test_a_file_without_control_file_is_waited_for_then_refused(
    scratch_db: str, tmp_path: Path
) -> None:
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv", [good_row(1)])
    path.with_name(path.name + ".chk").unlink()
    with connect(scratch_db) as conn:
        fresh = load_file(conn, path, system="bss")
        assert fresh.status == "WAITING"  # may still be being written: not loaded, not refused
        assert conn.execute("select count(*) from audit.load_manifest").fetchone()[0] == 0
        old = time.time() - 3600
        os.utime(path, (old, old))
        result = load_file(conn, path, system="bss")
    assert result.status == "REFUSED"
    assert result.reason == f"{path}: control file BSS_FAULT_20190101.csv.chk is missing"


def test_too_many_bad_rows_refuse_the_whole_file(scratch_db: str, tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(95)] + [
        f"B{i}|x|FAX|140100|140105|URBAN|20190101101010||LINE|10000" for i in range(5)
    ]
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv", rows)
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert result.status == "REFUSED"
        assert (
            "5 of 100 records break the contract (over 1%); whole file refused, nothing loaded"
            in result.reason
        )
        assert (
            "record 96: product: expected one of FIXED, BROADBAND, MOBILE, IPTV, got 'FAX'"
            in result.reason
        )
        assert conn.execute("select count(*) from raw.bss_fault").fetchone()[0] == 0
        assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 0


def test_header_missing_a_required_column_is_refused_before_copy(
    scratch_db: str, tmp_path: Path
) -> None:
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv", [good_row(1)])
    text = path.read_text().replace("report_time", "reported_at")
    path.write_text(text)
    data = path.read_bytes()
    path.with_name(path.name + ".chk").write_text(
        f"{path.name}|{len(data)}|1|{hashlib.md5(data).hexdigest()}\n"
    )
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
    assert result.status == "REFUSED"
    assert "header lacks required column(s) report_time" in result.reason


AREA_HEADER = "area_code,area_name,level,parent_code"
AREA_ROWS = [
    "140000,山西省,PROVINCE,",
    "140100,太原市,CITY,140000",
    "140105,小店区,DISTRICT,140100",
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_chinese_text_round_trips_in_every_accepted_encoding(
    scratch_db: str, tmp_path: Path, encoding: str
) -> None:
    path = deliver(
        tmp_path,
        "CRM_AREA_20190630.csv",
        AREA_ROWS,
        header=AREA_HEADER,
        encoding=encoding,
        system="crm",
    )
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="crm")
        assert result.status == "LOADED", result.reason
        names = conn.execute("select area_name from raw.crm_area order by area_code").fetchall()
        detected = conn.execute(
            "select encoding from audit.load_manifest where load_id = %s", (result.load_id,)
        )
        assert detected.fetchone()[0] == ("gb18030" if encoding.startswith("gb") else "utf-8")
    assert [n for (n,) in names] == ["山西省", "太原市", "小店区"]


def test_an_undeclared_encoding_is_refused_with_the_first_bad_byte(
    scratch_db: str, tmp_path: Path
) -> None:
    path = deliver(
        tmp_path,
        "CRM_AREA_20190630.csv",
        AREA_ROWS,
        header=AREA_HEADER,
        encoding="utf-16",
        system="crm",
    )
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="crm")
    assert result.status == "REFUSED"
    assert (
        "encoding is neither UTF-8 nor GBK/GB18030 (first byte that is not UTF-8 at offset 0)"
        in result.reason
    )


def test_gzip_pipe_and_quoted_fields_with_embedded_delimiters_and_newlines(
    scratch_db: str, tmp_path: Path
) -> None:
    rows = [
        good_row(1),
        'T00002|"135|00"|FIXED|140100|140105|URBAN|20190101101010||"LINE\nCUT"|10000',
    ]
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv.gz", rows)
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert (result.status, result.rows_loaded) == ("LOADED", 2), result.reason
        assert conn.execute(
            "select line_no, fault_class from raw.bss_fault where ticket_id = 'T00002'"
        ).fetchone() == (
            "135|00",
            "LINE\nCUT",
        )


def test_reordered_and_extra_columns_are_mapped_by_name_and_noted(
    scratch_db: str, tmp_path: Path
) -> None:
    cols = HEADER.split("|")
    header = "|".join(["vendor_batch", *reversed(cols)])
    rows = ["B1|" + "|".join(reversed(good_row(1).split("|")))]
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv", rows, header=header)
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        assert result.status == "LOADED", result.reason
        notes = conn.execute(
            "select notes from audit.load_manifest where load_id = %s", (result.load_id,)
        ).fetchone()[0]
        assert "extra column(s) ignored: vendor_batch" in notes
        assert "mapped by name" in notes
        assert conn.execute("select ticket_id, product, source from raw.bss_fault").fetchone() == (
            "T00001",
            "FIXED",
            "10000",
        )


def test_header_only_file_records_zero_events_and_an_empty_file_is_refused(
    scratch_db: str, tmp_path: Path
) -> None:
    header_only = deliver(tmp_path, "BSS_FAULT_20190101.csv", [])
    empty = tmp_path / "bss" / "BSS_FAULT_20190102.csv"
    empty.write_bytes(b"")
    (tmp_path / "bss" / "BSS_FAULT_20190102.csv.chk").write_text(
        f"BSS_FAULT_20190102.csv|0|0|{hashlib.md5(b'').hexdigest()}\n"
    )
    with connect(scratch_db) as conn:
        zero = load_file(conn, header_only, system="bss")
        assert (zero.status, zero.rows_read) == ("LOADED", 0)
        refused = load_file(conn, empty, system="bss")
    assert refused.status == "REFUSED"
    assert "empty file, not even a header line" in refused.reason


def test_corrected_redelivery_of_a_day_replaces_its_rows_atomically(
    scratch_db: str, tmp_path: Path
) -> None:
    v1 = deliver(tmp_path, "BSS_FAULT_20190101.csv", [good_row(i) for i in range(1, 6)])
    with connect(scratch_db) as conn:
        first = load_file(conn, v1, system="bss")
        v2 = deliver(tmp_path, "BSS_FAULT_20190101_2.csv", [good_row(i) for i in range(1, 4)])
        second = load_file(conn, v2, system="bss")
        assert second.status == "LOADED"
        assert conn.execute("select count(*) from raw.bss_fault").fetchone()[0] == 3
        status, reason = conn.execute(
            "select status, reason from audit.load_manifest where load_id = %s", (first.load_id,)
        ).fetchone()
    assert status == "REPLACED"
    assert (
        reason
        == f"replaced by load {second.load_id} (BSS_FAULT_20190101_2.csv), a re-delivery of 2019-01-01; 5 rows removed"
    )


def test_keys_duplicated_inside_a_file_are_counted_in_the_manifest(
    scratch_db: str, tmp_path: Path
) -> None:
    path = deliver(tmp_path, "BSS_FAULT_20190101.csv", [good_row(1), good_row(2), good_row(2)])
    with connect(scratch_db) as conn:
        result = load_file(conn, path, system="bss")
        dups = conn.execute(
            "select duplicate_keys from audit.load_manifest where load_id = %s", (result.load_id,)
        )
        assert dups.fetchone()[0] == 1


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
