"""The extract generator: layout, control files, contracts, field logic, determinism, defects.

Two XS runs of 2019H1 (~2.5 s each) back everything: a clean one, and one with two defects
injected; every file the defects do not touch must be byte-identical between the two, which
is also the determinism check (same inputs -> same bytes, whatever else the run does).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from sqwh.generate import GenerationSummary, generate, resolve_scale
from sqwh.generate.callcentre import Calls
from sqwh.generate.defects import parse_defect
from sqwh.generate.faults import Faults
from sqwh.generate.geography import CITIES, counties, townships
from sqwh.generate.people import id_number_is_valid
from sqwh.generate.table import Table
from sqwh.generate.world import World
from sqwh.generate.writer import FileFormat, render_rows
from sqwh.period import Period
from sqwh.registry import Column, Entity, load_registry

PERIOD = "2019H1"
DEFECTS = ("drop-city:CC_CALL:140300", "drop-day:BSS_ORDER:20190315")
REG = load_registry()
CITY_CODES = {c.code for c in CITIES}
MOBILE = re.compile(r"^1(33|49|53|73|77|80|81|89|91|99)\d{8}$")
TS = {"iso": re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"), "compact": re.compile(r"^\d{14}$")}
DATE = {"iso": re.compile(r"^\d{4}-\d\d-\d\d$"), "compact": re.compile(r"^\d{8}$")}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(tmp_path_factory.mktemp("clean"), PERIOD, "XS", seed=42)


@pytest.fixture(scope="module")
def defected(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(tmp_path_factory.mktemp("defects"), PERIOD, "XS", seed=42, defects=DEFECTS)


def read(path: Path, entity: Entity) -> tuple[list[str], list[dict[str, str]]]:
    text = path.read_bytes().decode(entity.write_encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=entity.delimiter)
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


@pytest.fixture(scope="module")
def rows(clean: GenerationSummary) -> dict[str, list[dict[str, str]]]:
    """All rows per entity, in file order, each with its file's day as ``_day``."""
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for f in sorted(clean.files, key=lambda f: (f.entity, f.day)):
        for row in read(f.path, REG.entity(f.entity))[1]:
            row["_day"] = f"{f.day:%Y%m%d}"
            out[f.entity].append(row)
    return out


def ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S" if "-" in value else "%Y%m%d%H%M%S")


# --- layout and control files -------------------------------------------------------------


def test_writes_every_entity_with_the_contract_file_names(clean: GenerationSummary) -> None:
    per = Period.parse(PERIOD)
    for e in REG.entities:
        days = sorted(f.day for f in clean.files_of(e.name))
        if e.delivery == "daily":
            assert days == per.days, e.name
        elif e.delivery == "monthly":
            assert [f"{d:%Y%m}" for d in days] == per.months
            assert all((d + timedelta(days=1)).day == 1 for d in days)
        else:
            assert days == [per.last_day], e.name
        for f in clean.files_of(e.name):
            assert f.path == clean.out / e.system.lower() / f"{e.name}_{f.day:%Y%m%d}.csv"
    assert clean.total_rows == sum(clean.rows_by_entity().values())


def test_every_file_has_a_matching_control_file(clean: GenerationSummary) -> None:
    for f in clean.files:
        data = f.path.read_bytes()
        name, size, count, md5 = f.chk_path.read_text(encoding="ascii").rstrip("\n").split("|")
        assert f.chk_path.read_bytes().endswith(b"\n") and f.chk_path.read_bytes().count(b"\n") == 1
        assert name == f.path.name
        assert int(size) == len(data) == f.bytes
        assert int(count) == data.count(b"\n") - 1 == f.rows
        assert md5 == hashlib.md5(data).hexdigest()
    stray = [
        p for p in clean.out.rglob("*") if p.is_file() and not p.name.endswith((".csv", ".chk"))
    ]
    assert not stray, "temporary files left behind"


def test_headers_are_the_registry_columns_in_order(clean: GenerationSummary) -> None:
    for f in clean.files:
        e = REG.entity(f.entity)
        first = f.path.read_bytes().split(b"\n", 1)[0].decode(e.write_encoding)
        assert first == e.delimiter.join(e.column_names), f.path.name


# --- contracts ----------------------------------------------------------------------------


def _check_value(e: Entity, col: Column, value: str) -> str | None:
    if value == "":
        return "required" if col.required else None
    if col.enum and value not in col.enum:
        return f"{value!r} not in enum"
    if col.pattern and not re.match(col.pattern, value):
        return f"{value!r} does not match {col.pattern}"
    checks = {
        "timestamp": lambda v: TS[e.timestamp_format].match(v) and ts(v),
        "date": lambda v: DATE[e.timestamp_format].match(v),
        "month": lambda v: re.match(r"^\d{4}(0[1-9]|1[0-2])$", v),
        "int": lambda v: re.match(r"^-?\d+$", v),
        "bigint": lambda v: re.match(r"^-?\d+$", v),
    }
    if col.type in checks and not checks[col.type](value):
        return f"{value!r} is not a {col.type}"
    return None


def test_every_row_satisfies_the_registry_contract(rows: dict) -> None:
    for e in REG.entities:
        assert rows[e.name], f"{e.name} is empty"
        for row in rows[e.name]:
            for col in e.columns:
                problem = _check_value(e, col, row[col.name])
                assert problem is None, f"{e.name}.{col.name}: {problem}"


def test_business_time_falls_on_the_file_day(rows: dict) -> None:
    """...except yesterday's rows resent at the top of a BSS file (exact duplicates)."""
    for e in REG.entities:
        if e.delivery != "daily":
            continue
        keys_by_day = defaultdict(set)
        for row in rows[e.name]:
            keys_by_day[row["_day"]].add(row[e.key[0]])
        for row in rows[e.name]:
            day = ts(row[e.business_time]).strftime("%Y%m%d")
            if day != row["_day"]:
                assert e.name in ("BSS_ORDER", "BSS_FAULT"), e.name
                prev = date.fromisoformat(row["_day"]) - timedelta(days=1)
                assert day == f"{prev:%Y%m%d}"
                assert row[e.key[0]] in keys_by_day[day] or day == "20181231"


def test_keys_are_unique_except_exact_duplicates(rows: dict) -> None:
    for e in REG.entities:
        seen: dict[tuple, dict] = {}
        dupes = 0
        for row in rows[e.name]:
            key = tuple(row[k] for k in e.key)
            if key in seen:
                dupes += 1
                first = seen[key]
                assert {k: v for k, v in row.items() if k != "_day"} == {
                    k: v for k, v in first.items() if k != "_day"
                }, f"{e.name} {key} differs between copies"
                assert date.fromisoformat(row["_day"]) - date.fromisoformat(
                    first["_day"]
                ) <= timedelta(days=1)
            seen[key] = row
        if e.name in ("BSS_ORDER", "BSS_FAULT"):
            assert dupes < 0.01 * len(rows[e.name]), e.name
        else:
            assert dupes == 0, e.name
    assert sum(1 for _ in rows["BSS_ORDER"]) - len({r["order_id"] for r in rows["BSS_ORDER"]}) > 0


def test_ids_carry_their_business_date(rows: dict) -> None:
    for e in REG.entities:
        if e.delivery == "daily" and e.name != "CC_SURVEY":  # a survey's key is its call's id
            for row in rows[e.name]:
                assert ts(row[e.business_time]).strftime("%Y%m%d") in row[e.key[0]], e.name


# --- realism that indicators rely on -------------------------------------------------------


def test_every_city_has_calls_in_every_skill_group(rows: dict) -> None:
    groups = {(r["city_code"], r["skill_group"]) for r in rows["CC_CALL"] if r["skill_group"]}
    skills = set(REG.entity("CC_CALL").column("skill_group").enum)
    assert groups == {(c, s) for c in CITY_CODES for s in skills}


def test_dense_sources_cover_every_city_every_day(rows: dict) -> None:
    days = {f"{d:%Y%m%d}" for d in Period.parse(PERIOD).days}
    for e in REG.entities:
        if e.city_day_coverage:
            assert {(r["city_code"], r["_day"]) for r in rows[e.name]} == {
                (c, d) for c in CITY_CODES for d in days
            }


def test_small_volumes_still_cover_all_kinds(rows: dict) -> None:
    assert {r["area_type"] for r in rows["BSS_FAULT"]} == {"URBAN", "RURAL"}
    assert {r["source"] for r in rows["CRM_COMPLAINT"]} == {
        "HOTLINE",
        "ONLINE",
        "OUTLET",
        "REGULATOR",
    }
    assert {r["reason"] for r in rows["BSS_BILL_ADJ"]} == {"BILLING_ERROR", "GOODWILL", "OTHER"}
    assert {r["touchpoint"] for r in rows["CRM_SURVEY"]} == {"OUTLET", "HOTLINE", "FIELD"}
    for entity in ("CC_SPAM_REPORT", "CRM_COMPLAINT", "BSS_FAULT", "CRM_SURVEY"):
        assert {r["city_code"] for r in rows[entity]} == CITY_CODES, entity


def test_call_fields_follow_the_hotline_logic(rows: dict) -> None:
    abandons = short = queued = within15 = 0
    for r in rows["CC_CALL"]:
        start, ivr, end = ts(r["call_start"]), ts(r["ivr_end"]), ts(r["call_end"])
        assert start <= ivr <= end
        assert MOBILE.match(r["caller_no"])
        if not r["queue_start"]:
            assert (r["answer_time"], r["skill_group"], r["agent_id"]) == ("", "", "")
            assert r["end_reason"] == "IVR_DONE" and end == ivr
            continue
        queued += 1
        assert r["skill_group"] and ts(r["queue_start"]) == ivr
        if r["answer_time"]:
            assert r["end_reason"] in ("ANSWERED", "TRANSFERRED") and r["agent_id"]
            assert ts(r["queue_start"]) <= ts(r["answer_time"]) <= end
            within15 += (ts(r["answer_time"]) - ts(r["queue_start"])).total_seconds() <= 15
        else:
            assert r["end_reason"] == "ABANDONED" and not r["agent_id"]
            abandons += 1
            short += (end - ts(r["queue_start"])).total_seconds() <= 5
    assert 0.15 <= short / abandons <= 0.35
    assert 0.02 <= abandons / queued <= 0.10
    assert 0.84 <= within15 / (queued - short) <= 0.95
    assert 0.25 <= queued / len(rows["CC_CALL"]) <= 0.45


def test_callers_call_back_within_48_hours(rows: dict) -> None:
    by_caller = defaultdict(list)
    for r in rows["CC_CALL"]:
        if r["queue_start"]:
            by_caller[(r["caller_no"], r["skill_group"])].append(ts(r["queue_start"]))
    answered = [r for r in rows["CC_CALL"] if r["answer_time"]]
    repeated = sum(
        any(
            ts(r["call_end"]) < q <= ts(r["call_end"]) + timedelta(hours=48)
            for q in by_caller[(r["caller_no"], r["skill_group"])]
        )
        for r in answered
    )
    assert 0.75 <= 1 - repeated / len(answered) <= 0.92


def test_surveys_are_for_answered_calls_on_the_same_or_next_day(rows: dict) -> None:
    calls = {r["call_id"]: r for r in rows["CC_CALL"]}
    for s in rows["CC_SURVEY"]:
        if s["call_id"].startswith("CA20181231"):  # the day before the period (H2 2018's file)
            continue
        call = calls[s["call_id"]]
        assert call["answer_time"]
        assert ts(s["survey_time"]) >= ts(call["call_end"])
        assert (ts(s["survey_time"]).date() - ts(call["call_start"]).date()).days in (0, 1)


def test_orders_follow_the_order_logic(rows: dict) -> None:
    outlets = {r["outlet_id"] for r in rows["CRM_OUTLET"]}
    orders = rows["BSS_ORDER"]
    for r in orders:
        wired_install = r["order_type"] == "NEW_INSTALL" and r["product"] != "MOBILE"
        assert bool(r["promise_time"]) == (wired_install or r["order_type"] == "MOVE")
        assert (r["status"] == "DONE") == bool(r["complete_time"])
        if r["payment_time"]:
            assert r["order_type"] == "RESUME" and ts(r["payment_time"]) <= ts(r["accept_time"])
        if r["channel_type"] == "OUTLET":
            assert r["outlet_id"] in outlets
        else:
            assert (r["outlet_id"], r["queue_wait_sec"], r["handle_sec"]) == ("", "", "")
        if r["complete_time"]:
            assert ts(r["complete_time"]) >= ts(r["payment_time"] or r["accept_time"])
    share = Counter(r["status"] for r in orders)
    assert 0.005 < share["CANCELLED"] / len(orders) < 0.04 and share["OPEN"] > 0
    assert 0 < sum(r["test_flag"] == "1" for r in orders) < 0.02 * len(orders)
    resumes = [
        r
        for r in orders
        if r["order_type"] == "RESUME" and r["payment_time"] and r["complete_time"]
    ]
    quick = sum(
        ts(r["complete_time"]) - ts(r["payment_time"]) <= timedelta(minutes=30) for r in resumes
    )
    assert quick / len(resumes) > 0.95


def test_faults_repeat_and_get_repaired(rows: dict) -> None:
    faults = rows["BSS_FAULT"]
    restored = [r for r in faults if r["restore_time"]]
    assert all(ts(r["restore_time"]) >= ts(r["report_time"]) for r in restored)
    lines = Counter(r["line_no"] for r in {r["ticket_id"]: r for r in faults}.values())
    assert 0.02 < sum(n - 1 for n in lines.values()) / len(faults) < 0.2


def test_personal_data_looks_real(rows: dict) -> None:
    customers = rows["CRM_CUSTOMER"]
    assert len({r["phone"] for r in customers}) == len(customers)
    for r in customers:
        assert MOBILE.match(r["phone"])
        if r["segment"] != "GOV_ENT":
            assert id_number_is_valid(r["id_no"]), r["id_no"]
            assert 2 <= len(r["name"]) <= 3
    assert 0.05 <= sum(r["value_tier"] == "HIGH" for r in customers) / len(customers) <= 0.10
    area_codes = {c.area_code for c in CITIES}
    fixed = [
        r["subscriber_no"]
        for r in rows["BSS_ORDER"]
        if r["product"] == "FIXED" and r["test_flag"] == "0"
    ]
    assert fixed and all(n[:4] in area_codes and len(n) == 12 for n in fixed)


def test_geography_is_shanxi(rows: dict) -> None:
    areas = rows["CRM_AREA"]
    by_level = Counter(r["level"] for r in areas)
    assert (by_level["PROVINCE"], by_level["CITY"]) == (1, 11)
    assert by_level["DISTRICT"] + by_level["COUNTY"] == 117 == len(counties())
    codes = {r["area_code"]: r for r in areas}
    for r in areas:
        if r["level"] == "PROVINCE":
            assert r["parent_code"] == ""
        else:
            assert r["parent_code"] in codes
            assert r["area_code"].startswith(r["parent_code"][: 2 if r["level"] == "CITY" else 4])
    per_county = Counter(t.county_code for t in townships())
    assert min(per_county.values()) >= 3 and max(per_county.values()) <= 15
    assert codes["140105"]["area_name"] == "小店区" and codes["140105"]["level"] == "DISTRICT"
    assert codes["140181"]["area_name"] == "古交市" and codes["140181"]["level"] == "COUNTY"


def test_outlets_leave_realistic_coverage_gaps(rows: dict) -> None:
    last = "2019-06-30"
    open_ = [
        r
        for r in rows["CRM_OUTLET"]
        if r["open_date"] <= last and (not r["close_date"] or r["close_date"] > last)
    ]
    assert any(r["close_date"] for r in rows["CRM_OUTLET"])
    towns = {r["area_code"] for r in rows["CRM_AREA"] if r["level"] == "TOWNSHIP"}
    covered = towns & {r["township_code"] for r in open_}
    assert 0.85 <= len(covered) / len(towns) < 1.0
    county_level = {
        r["area_code"] for r in rows["CRM_AREA"] if r["level"] in ("DISTRICT", "COUNTY")
    }
    assert 1 <= len(county_level - {r["county_code"] for r in open_}) <= 2


def test_high_value_customers_are_cared_for(rows: dict) -> None:
    high = {r["customer_id"] for r in rows["CRM_CUSTOMER"] if r["value_tier"] == "HIGH"}
    cared = {r["customer_id"] for r in rows["CRM_CARE"]}
    assert 0.85 <= len(high & cared) / len(high) <= 0.98


def test_bills_are_one_row_per_city_and_product(rows: dict) -> None:
    bills = rows["BSS_BILL"]
    assert len(bills) == 11 * 4 * 6
    for r in bills:
        assert int(r["lines_in_service"]) >= int(r["subscribers_in_service"]) > 0
        assert int(r["billed_amount_fen"]) > 0
        assert r["bill_month"] == r["_day"][:6]


# --- determinism, periods, defects ---------------------------------------------------------


def test_same_inputs_give_the_same_bytes_and_defects_touch_only_their_target(
    clean: GenerationSummary, defected: GenerationSummary
) -> None:
    other = {f.path.relative_to(defected.out): f for f in defected.files}
    compared = 0
    for f in clean.files:
        rel = f.path.relative_to(clean.out)
        if f.entity == "CC_CALL" or (f.entity == "BSS_ORDER" and f.day == date(2019, 3, 15)):
            continue
        assert f.path.read_bytes() == (defected.out / rel).read_bytes(), rel
        assert f.chk_path.read_bytes() == other[rel].chk_path.read_bytes()
        compared += 1
    assert compared == len(clean.files) - 182


def test_drop_city_omits_that_city_and_nothing_else(
    clean: GenerationSummary, defected: GenerationSummary
) -> None:
    e = REG.entity("CC_CALL")
    for f in clean.files_of("CC_CALL"):
        full = read(f.path, e)[1]
        dropped = read(defected.out / f.path.relative_to(clean.out), e)[1]
        assert dropped == [r for r in full if r["city_code"] != "140300"]
        assert len(dropped) < len(full)


def test_drop_day_delivers_no_file_for_that_day(defected: GenerationSummary) -> None:
    missing = defected.out / "bss" / "BSS_ORDER_20190315.csv"
    assert not missing.exists() and not Path(f"{missing}.chk").exists()
    assert len(defected.files_of("BSS_ORDER")) == 180


def test_defects_are_validated_before_anything_is_written(tmp_path: Path) -> None:
    for spec in (
        "no-such-defect:CC_CALL",
        "drop-city:CC_CALL",
        "drop-city:CC_CALL:999999",
        "drop-city:NOPE:140100",
        "drop-day:BSS_ORDER:2019-03-15",
        "bad-rows:BSS_ORDER:20190102:colour",
        "bad-rows:BSS_FAULT:20190102:type",  # BSS_FAULT has no integer column
        "bad-rows:BSS_ORDER:20190102:type:0",
        "header:BSS_ORDER:20190102:missing:no_such_column",
        "encoding:CRM_CARE:20190102:latin-1",
        "chk:BSS_ORDER:20190102:sha1",
    ):
        with pytest.raises(ValueError):
            generate(tmp_path, PERIOD, "XS", defects=[spec])
    assert not any(tmp_path.iterdir())
    assert parse_defect("drop-city:CRM_CARE:140100").entity == "CRM_CARE"


def test_file_defects_are_deterministic_and_must_hit_a_delivered_file(tmp_path: Path) -> None:
    specs = ["bad-rows:CC_CALL:20190102:timestamp:2", "duplicate-file:CC_CALL:20190102"]
    one = generate(tmp_path / "one", PERIOD, "XS", seed=42, defects=specs)
    two = generate(tmp_path / "two", PERIOD, "XS", seed=42, defects=specs)
    files = sorted(p.relative_to(one.out) for p in one.out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two.out) for p in two.out.rglob("*") if p.is_file())
    assert all((one.out / f).read_bytes() == (two.out / f).read_bytes() for f in files)
    copy = one.out / "cc" / "CC_CALL_20190102_2.csv"
    assert copy.read_bytes() == (one.out / "cc" / "CC_CALL_20190102.csv").read_bytes()
    assert copy in [f.path for f in one.files]
    rows = read(copy, REG.entity("CC_CALL"))[1]
    assert sum(r["call_start"][4:10] == "-02-30" for r in rows) == 2
    with pytest.raises(ValueError, match="matched no delivered file"):
        generate(tmp_path / "three", PERIOD, "XS", defects=["empty:CRM_AREA:20190101"])


def _last_day_bytes(producer_cls: type, period: str, day: date, entity: str) -> bytes:
    """Run a producer (through its lookback) far enough to render one day's rows."""
    per = Period.parse(period)
    producer = producer_cls(World(42, resolve_scale("XS")), per)
    d = min(day, per.first_day - timedelta(days=producer.lookback))
    while d <= day:
        tables = producer.day(d)
        d += timedelta(days=1)
    e = REG.entity(entity)
    return render_rows(e.columns, tables[entity], FileFormat.of(e))


@pytest.mark.parametrize(("producer", "entity"), [(Calls, "CC_CALL"), (Faults, "BSS_FAULT")])
def test_next_period_lookback_reproduces_the_last_day(
    clean: GenerationSummary, producer: type, entity: str
) -> None:
    """H2's run simulates 30 Jun exactly as H1 wrote it, so the periods join without gaps."""
    h1_file = clean.out / REG.entity(entity).system / f"{entity}_20190630.csv"
    body = h1_file.read_bytes().split(b"\n", 1)[1]
    assert _last_day_bytes(producer, "2019H2", date(2019, 6, 30), entity) == body


def test_scales() -> None:
    assert (
        resolve_scale("xs") == 0.0005 and resolve_scale("S") == 0.002 and resolve_scale(0.1) == 0.1
    )
    assert resolve_scale("0.01") == 0.01
    for bad in ("XXL", 0, -1):
        with pytest.raises(ValueError):
            resolve_scale(bad)


def test_writer_quotes_exactly_like_the_csv_module() -> None:
    e = REG.entity("CRM_SURVEY")
    table = Table(
        {
            "survey_id": np.array([b"S1", b"S2"]),
            "customer_id": np.array(['a,"b"', "张三"]),
            "touchpoint": np.array([b"OUTLET", b"FIELD"]),
            "city_code": np.array([b"140100", b"140200"]),
            "survey_time": np.array([1546300800, 1546387199]),
            "score": np.array([10, 0]),
        }
    )
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows(
        [
            ["S1", 'a,"b"', "OUTLET", "140100", "2019-01-01 00:00:00", "10"],
            ["S2", "张三", "FIELD", "140200", "2019-01-01 23:59:59", "0"],
        ]
    )
    assert render_rows(
        e.columns, table, FileFormat("gbk", ",", "iso")
    ) == expected.getvalue().encode("gbk")


def test_id_numbers_have_a_valid_check_character() -> None:
    assert id_number_is_valid("11010519491231002X")
    assert not id_number_is_valid("110105194912310021")


def test_first_days_only_are_the_same_bytes_as_in_the_whole_period(
    clean: GenerationSummary, tmp_path: Path
) -> None:
    """`days` writes one more day's deliveries (the benchmark's incremental day): exactly
    the whole run's files of those days, and no snapshot or monthly file dated later."""
    part = generate(tmp_path, PERIOD, "XS", seed=42, days=2)
    first = Period.parse(PERIOD).first_day
    want = {
        f.path.relative_to(clean.out): f.path.read_bytes()
        for f in clean.files
        if f.day < first + timedelta(days=2)
    }
    got = {f.path.relative_to(part.out): f.path.read_bytes() for f in part.files}
    assert set(got) == set(want)
    assert got == want
    daily = {e.name for e in REG.entities if e.delivery == "daily"}
    assert {f.entity for f in part.files} == daily
    assert {f.day for f in part.files} == {first, first + timedelta(days=1)}
    for f in part.files:
        chk = f.path.with_name(f.path.name + ".chk").read_text()
        assert (
            chk
            == (clean.out / f.path.relative_to(part.out))
            .with_name(f.path.name + ".chk")
            .read_text()
        )
    with pytest.raises(ValueError, match="days must be at least 1"):
        generate(tmp_path / "none", PERIOD, "XS", seed=42, days=0)
