"""Edge rules of the independent indicator oracle (tests/oracle), on hand-made landing folders."""

from __future__ import annotations

import gzip
import os
import time
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from tests.oracle import (
    CITY_CODES,
    INDICATOR_CODES,
    compute_indicator,
    compute_indicators,
    round_half_up,
)
from tests.oracle.load import ENTITIES

TY, DT = "140100", "140200"  # 太原, 大同


def write(
    landing: Path,
    entity: str,
    rows: list[dict],
    *,
    date: str = "20190101",
    seq: int | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    gz: bool = False,
    columns: list[str] | None = None,
) -> Path:
    """Write one extract file (and its .chk, which the oracle must ignore)."""
    columns = columns or list(ENTITIES[entity].columns)
    folder = landing / entity.split("_", 1)[0].lower()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{entity}_{date}{'' if seq is None else f'_{seq}'}.csv{'.gz' if gz else ''}"
    lines = [delimiter.join(columns)]
    lines += [delimiter.join(str(r.get(c, "")) for c in columns) for r in rows]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    if gz:
        data = gzip.compress(data)
    path = folder / name
    path.write_bytes(data)
    (folder / f"{name}.chk").write_text(f"{name}|0|0|bogus\n")
    return path


def pick(df: pd.DataFrame, code: str, city: str | None = None, breakdown: str | None = None):
    sel = df["indicator_code"] == code
    sel &= df["city_code"].isna() if city is None else df["city_code"] == city
    sel &= df["breakdown"].isna() if breakdown is None else df["breakdown"] == breakdown
    rows = df[sel]
    assert len(rows) == 1, f"{code} {city} {breakdown}: {len(rows)} rows"
    return rows.iloc[0]


def nd(df: pd.DataFrame, code: str, city: str | None = None, breakdown: str | None = None):
    r = pick(df, code, city, breakdown)
    return r["numerator"], r["denominator"], r["value"]


# --- shape and rounding -------------------------------------------------------------------------


def test_every_city_gets_a_row_for_every_indicator_even_without_data(tmp_path: Path) -> None:
    df = compute_indicators(tmp_path, "2019H1")
    base = df[df["breakdown"].isna()]
    assert len(INDICATOR_CODES) == 24
    assert len(base) == 24 * 12
    assert set(base["city_code"].dropna()) == set(CITY_CODES)
    ratio = base[base["indicator_code"] != "CH_OUTLETS"]
    assert ratio["value"].isna().all()
    assert (ratio["reason"] == "zero denominator").all()
    outlets = base[base["indicator_code"] == "CH_OUTLETS"]
    assert (outlets["value"] == 0).all() and outlets["denominator"].isna().all()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (Fraction(5, 8), "0.63"),  # 0.625: half away from zero (banker's rounding gives 0.62)
        (Fraction(-5, 8), "-0.63"),
        (Fraction(200, 3), "66.67"),
        (Fraction(1, 3), "0.33"),
        (Fraction(1049, 1000), "1.05"),
        (Fraction(1, 200), "0.01"),  # 0.005
        (Fraction(1, 201), "0.00"),
    ],
)
def test_round_half_up_on_exact_rationals(q: Fraction, expected: str) -> None:
    assert str(round_half_up(q)) == expected


def test_average_in_minutes_is_rounded_half_up_from_the_exact_sum(tmp_path: Path) -> None:
    # 37 s and 38 s: mean 37.5 s = 0.625 min exactly -> 0.63 (a float round() would give 0.62)
    base = {"order_type": "RECHARGE", "product": "MOBILE", "city_code": TY, "status": "DONE"}
    base |= {"channel_type": "OUTLET", "test_flag": "0", "accept_time": "2019-03-01 10:00:00"}
    write(
        tmp_path,
        "BSS_ORDER",
        [base | {"order_id": "o1", "queue_wait_sec": "37", "handle_sec": "60"}]
        + [base | {"order_id": "o2", "queue_wait_sec": "38"}],
    )
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "CH_WAIT_AVG", TY) == (1.25, 2, 0.63)
    # CH_HANDLE_AVG: same population with handle_sec not NULL (o2 has none)
    assert nd(df, "CH_HANDLE_AVG", TY) == (1, 1, 1.0)


# --- call centre --------------------------------------------------------------------------------


def _call(call_id: str, queue: str, answer: str, end: str, **extra: str) -> dict:
    row = {"call_id": call_id, "hotline": "10000", "caller_no": f"1330000{call_id:>04}"}
    row |= {"city_code": TY, "call_start": queue, "queue_start": queue, "answer_time": answer}
    row |= {"call_end": end, "skill_group": "MOBILE", "end_reason": "ANSWERED"}
    return row | extra


def test_short_abandon_limit_5s_and_answer_limit_15s_are_inclusive(tmp_path: Path) -> None:
    t0 = "2019-03-01 10:00:00"
    write(
        tmp_path,
        "CC_CALL",
        [
            _call("c1", t0, "", "2019-03-01 10:00:05", skill_group="VIP"),  # short abandon
            _call("c2", t0, "", "2019-03-01 10:00:06", skill_group="FIXED"),  # abandon, counted
            _call("c3", t0, "2019-03-01 10:00:15", "2019-03-01 10:05:00"),  # 15 s: in time
            _call("c4", t0, "2019-03-01 10:00:16", "2019-03-01 10:05:00"),  # 16 s: late
        ],
    )
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "CC_ANSWER_15S", TY) == (1, 3, 33.33)
    assert nd(df, "CC_ANSWER_15S", TY, "MOBILE") == (1, 2, 50.0)
    assert nd(df, "CC_ANSWER_15S", TY, "FIXED") == (0, 1, 0.0)
    assert pick(df, "CC_ANSWER_15S", TY, "MOBILE")["breakdown_type"] == "skill_group"
    # VIP had only a short abandon: no items, no breakdown row
    assert not (df["breakdown"] == "VIP").any()
    assert nd(df, "CC_ABANDON", TY) == (1, 3, 33.33)
    assert nd(df, "CC_ABANDON") == (1, 3, 33.33)


def test_ivr_self_service_and_survey_satisfaction(tmp_path: Path) -> None:
    ivr = {"queue_start": "", "answer_time": "", "end_reason": "IVR_DONE", "skill_group": ""}
    write(
        tmp_path,
        "CC_CALL",
        [
            _call("c1", "2019-03-01 10:00:00", "2019-03-01 10:00:05", "2019-03-01 10:03:00"),
            _call("c2", "2019-03-01 10:00:00", "", "2019-03-01 10:01:00", **ivr),
            _call("c3", "2019-07-01 10:00:00", "2019-07-01 10:00:05", "2019-07-01 10:03:00"),
            _call("c4", "2019-03-02 10:00:00", "2019-03-02 10:00:05", "2019-03-02 10:03:00"),
        ],
    )
    write(
        tmp_path,
        "CC_SURVEY",
        [
            {"call_id": "c1", "survey_time": "2019-03-01 10:04:00", "score": "4"},
            {"call_id": "c4", "survey_time": "2019-03-02 10:04:00", "score": "3"},
            {"call_id": "c3", "survey_time": "2019-07-01 10:04:00", "score": "5"},  # H2 call
            {"call_id": "zz", "survey_time": "2019-03-01 10:04:00", "score": "5"},  # no call
        ],
    )
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "CC_IVR_SELF", TY) == (1, 3, 33.33)
    assert nd(df, "CC_SAT", TY) == (1, 2, 50.0)
    assert nd(compute_indicators(tmp_path, "2019H2"), "CC_SAT", TY) == (1, 1, 100.0)


def test_first_call_resolution_window_is_open_after_call_end_and_closed_at_48h(
    tmp_path: Path,
) -> None:
    end = "2019-03-01 10:05:00"

    def answered(call_id: str, caller: str, call_end: str = end, **extra: str) -> dict:
        q = call_end[:11] + "10:00:00"
        return _call(call_id, q, q[:17] + "05", call_end, caller_no=caller, **extra)

    def repeat(call_id: str, caller: str, queue: str, **extra: str) -> dict:
        # an abandoned call: a repeat contact, but not itself in the population
        return _call(call_id, queue, "", queue[:17] + "30", caller_no=caller, **extra)

    write(
        tmp_path,
        "CC_CALL",
        [
            answered("a", "X"),
            repeat("b", "X", "2019-03-03 10:05:00"),  # exactly call_end + 48 h: a repeat
            answered("c", "Y"),
            repeat("d", "Y", "2019-03-03 10:05:01"),  # 1 s past the window: resolved
            answered("e", "Z"),
            repeat("f", "Z", "2019-03-01 11:00:00", skill_group="FIXED"),  # other skill group
            answered("g", "W"),
            repeat("h", "W", end),  # queue_start = call_end: outside (call_end, ...]
            answered("i", "V", "2019-06-30 10:05:00"),
        ],
    )
    # the repeat of i is in the next period's file: it still counts
    write(tmp_path, "CC_CALL", [repeat("j", "V", "2019-07-01 09:00:00")], date="20190701")
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "CC_FCR", TY) == (3, 5, 60.0)


# --- timeliness ---------------------------------------------------------------------------------


def _fault(ticket: str, report: str, restore: str, area: str = "URBAN", **extra: str) -> dict:
    row = {"ticket_id": ticket, "line_no": f"L{ticket}", "product": "BROADBAND", "city_code": TY}
    row |= {"area_type": area, "report_time": report, "restore_time": restore}
    return row | extra


def test_repair_at_exactly_the_limit_is_on_time_and_one_second_later_is_late(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "BSS_FAULT",
        [
            _fault("u1", "2019-03-01 08:00:00", "2019-03-03 08:00:00"),  # 48 h
            _fault("u2", "2019-03-01 08:00:00", "2019-03-03 08:00:01"),  # 48 h + 1 s
            _fault("r1", "2019-03-01 08:00:00", "2019-03-04 08:00:00", "RURAL"),  # 72 h
            _fault("r2", "2019-03-01 08:00:00", "2019-03-04 08:00:01", "RURAL"),
        ],
    )
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "FT_REPAIR_ONTIME", TY) == (2, 4, 50.0)
    assert nd(df, "FT_REPAIR_ONTIME", TY, "URBAN") == (1, 2, 50.0)
    assert nd(df, "FT_REPAIR_ONTIME", None, "RURAL") == (1, 2, 50.0)
    assert pick(df, "FT_REPAIR_ONTIME", TY, "RURAL")["breakdown_type"] == "area_type"


def test_spam_report_handled_at_exactly_24h_is_on_time(tmp_path: Path) -> None:
    base = {"city_code": TY, "received_time": "2019-05-01 12:00:00"}
    write(
        tmp_path,
        "CC_SPAM_REPORT",
        [
            base | {"report_id": "s1", "handled_time": "2019-05-02 12:00:00"},
            base | {"report_id": "s2", "handled_time": "2019-05-02 12:00:01"},
        ],
    )
    assert nd(compute_indicators(tmp_path, "2019H1"), "SP_HANDLED_24H", TY) == (1, 2, 50.0)


def test_unfinished_items_are_late_only_when_the_limit_passed_before_period_end(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "BSS_FAULT",
        [
            _fault("a", "2019-06-20 08:00:00", ""),  # + 48 h long before 1 Jul: late
            _fault("b", "2019-06-28 23:59:59", ""),  # + 48 h = 30 Jun 23:59:59 < end: late
            _fault("c", "2019-06-29 00:00:00", ""),  # + 48 h = 1 Jul 00:00 = end: not counted
            _fault("d", "2019-06-29 12:00:00", "", "RURAL"),  # + 72 h after end: not counted
            _fault("e", "2019-06-29 12:00:00", "2019-07-05 12:00:00"),  # finished later: late
        ],
    )
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "FT_REPAIR_ONTIME", TY) == (0, 3, 0.0)
    assert nd(df, "FT_REPAIR_ONTIME", TY, "URBAN") == (0, 3, 0.0)
    assert not ((df["indicator_code"] == "FT_REPAIR_ONTIME") & (df["breakdown"] == "RURAL")).any()
    # they started in H1: never in H2
    assert nd(compute_indicators(tmp_path, "2019H2"), "FT_REPAIR_ONTIME", TY)[1] == 0


def test_complaints_open_across_the_period_end(tmp_path: Path) -> None:
    base = {"city_code": TY, "category": "SERVICE"}
    write(
        tmp_path,
        "CRM_COMPLAINT",
        [
            # closed after the period, within 48 h: on time in H1, resolved in H1
            base
            | {"complaint_id": "k1", "source": "HOTLINE", "accept_time": "2019-06-30 20:00:00"}
            | {"close_time": "2019-07-02 20:00:00", "result": "RESOLVED"},
            # regulator appeal still open, 15 days not yet over at period end: not counted
            base | {"complaint_id": "k2", "source": "REGULATOR", "accept_time": "20190620000000"},
            # open, 48 h over before the end: late
            base
            | {"complaint_id": "k3", "source": "HOTLINE", "accept_time": "2019-06-25 09:00:00"},
            # withdrawn: never in CP_ONTIME / CP_RESOLVED
            base
            | {"complaint_id": "k4", "source": "ONLINE", "accept_time": "2019-06-01 09:00:00"}
            | {"close_time": "2019-06-01 10:00:00", "result": "WITHDRAWN"},
            # closed, unresolved, 15 days exactly: on time
            base
            | {"complaint_id": "k5", "source": "REGULATOR", "accept_time": "2019-05-01 09:00:00"}
            | {"close_time": "2019-05-16 09:00:00", "result": "UNRESOLVED"},
        ],
    )
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "CP_ONTIME", TY) == (2, 3, 66.67)
    assert nd(df, "CP_RESOLVED", TY) == (1, 2, 50.0)
    h2 = compute_indicators(tmp_path, "2019H2")
    assert nd(h2, "CP_ONTIME", TY)[1] == 0 and nd(h2, "CP_RESOLVED", TY)[1] == 0


def _order(order_id: str, **extra: str) -> dict:
    row = {"order_id": order_id, "order_type": "NEW_INSTALL", "product": "BROADBAND"}
    row |= {"city_code": TY, "area_type": "URBAN", "channel_type": "WEB", "status": "DONE"}
    row |= {"test_flag": "0", "accept_time": "2019-03-01 10:00:00"}
    return row | extra


def test_install_limit_is_the_orders_own_promise(tmp_path: Path) -> None:
    promise = {"promise_time": "2019-03-03 10:00:00"}
    write(
        tmp_path,
        "BSS_ORDER",
        [
            _order("o1", complete_time="2019-03-03 10:00:00", **promise),  # at the promise
            _order("o2", complete_time="2019-03-03 10:00:01", **promise),  # 1 s late
            _order("o3", status="OPEN", **promise),  # open, promise passed: late
            _order("o4", area_type="RURAL", complete_time="2019-03-09 10:00:00"),  # no promise
            _order("o5", product="MOBILE", complete_time="2019-03-09 10:00:00", **promise),
            _order("o6", status="CANCELLED", **promise),  # never counts
            _order("o7", test_flag="1", complete_time="2019-03-09 10:00:00", **promise),
        ],
    )
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "OR_INSTALL_ONTIME", TY) == (1, 3, 33.33)
    assert nd(df, "OR_INSTALL_ONTIME", TY, "URBAN") == (1, 3, 33.33)
    assert not (df["breakdown"] == "RURAL").any()


def test_resume_within_30_minutes_of_payment(tmp_path: Path) -> None:
    resume = {"order_type": "RESUME", "product": "MOBILE", "payment_time": "2019-04-01 10:00:00"}
    write(
        tmp_path,
        "BSS_ORDER",
        [
            _order("r1", complete_time="2019-04-01 10:30:00", **resume),
            _order("r2", complete_time="2019-04-01 10:30:01", **resume),
            _order("r3", complete_time="2019-04-01 10:00:01", order_type="RESUME"),  # no payment
        ],
    )
    assert nd(compute_indicators(tmp_path, "2019H1"), "OR_RESUME_ONTIME", TY) == (1, 2, 50.0)


# --- clean input --------------------------------------------------------------------------------


def test_duplicates_count_once_and_test_or_cancelled_orders_never(tmp_path: Path) -> None:
    done = {"order_type": "RECHARGE", "product": "MOBILE"}
    rows = [
        _order("o1", channel_type="WEB", **done),
        _order("o1", channel_type="WEB", **done),  # duplicate in the same file
        _order("o2", channel_type="OUTLET", **done),
        _order("o3", channel_type="APP", test_flag="1", **done),  # test record
        _order("o4", channel_type="APP", status="CANCELLED", **done),
    ]
    write(tmp_path, "BSS_ORDER", rows)
    write(tmp_path, "BSS_ORDER", rows[:1], date="20190102")  # re-delivered in a later file
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "CH_E_SHARE", TY) == (1, 2, 50.0)


def test_a_city_without_faults_has_a_null_value_with_a_reason(tmp_path: Path) -> None:
    write(tmp_path, "BSS_FAULT", [_fault("f1", "2019-03-01 08:00:00", "2019-03-01 09:00:00")])
    df = compute_indicators(tmp_path, "2019H1")
    row = pick(df, "FT_REPAIR_ONTIME", DT)
    assert (row["numerator"], row["denominator"], row["value"]) == (0, 0, None)
    assert row["reason"] == "zero denominator"
    assert pick(df, "FT_REPAIR_ONTIME", TY)["reason"] is None
    assert nd(df, "FT_REPAIR_ONTIME", TY) == (1, 1, 100.0)


def test_province_is_computed_from_items_not_averaged(tmp_path: Path) -> None:
    def report(rid: str, city: str, handled: str) -> dict:
        return {"report_id": rid, "city_code": city, "received_time": "2019-05-01 12:00:00"} | {
            "handled_time": handled
        }

    write(
        tmp_path,
        "CC_SPAM_REPORT",
        [
            report("s1", TY, "2019-05-01 13:00:00"),
            report("s2", DT, "2019-05-01 13:00:00"),
            report("s3", DT, "2019-05-03 13:00:00"),
            report("s4", DT, "2019-05-03 13:00:00"),
            report("s5", "", "2019-05-01 13:00:00"),  # no city: province only
        ],
    )
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "SP_HANDLED_24H", TY)[2] == 100.0
    assert nd(df, "SP_HANDLED_24H", DT)[2] == 33.33
    assert nd(df, "SP_HANDLED_24H") == (3, 5, 60.0)  # the mean of the cities would be 66.67


@pytest.fixture
def server_tz(request: pytest.FixtureRequest):
    """Run the test with the process time zone set to request.param, then restore it."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.parametrize("server_tz", ["UTC", "Asia/Shanghai"], indirect=True)
def test_half_year_boundary_in_local_time(tmp_path: Path, server_tz: str) -> None:
    write(
        tmp_path,
        "BSS_FAULT",
        [
            _fault("f1", "2019-06-30 23:59:59", "2019-07-01 01:00:00"),
            _fault("f2", "20190701000000", "20190701010000"),  # compact format
        ],
    )
    h1 = compute_indicators(tmp_path, "2019H1")
    h2 = compute_indicators(tmp_path, "2019H2")
    assert nd(h1, "FT_REPEAT", TY)[1] == 1 and nd(h2, "FT_REPEAT", TY)[1] == 1
    assert nd(h1, "FT_RATE", TY)[0] == 1 and nd(h2, "FT_RATE", TY)[0] == 1


def test_repeat_fault_window_is_30_days_before_report_closed_at_the_start(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "BSS_FAULT",
        [
            _fault("f1", "2019-03-01 08:00:00", "2019-03-02 10:00:00", line_no="L1"),
            _fault("f2", "2019-04-01 10:00:00", "", line_no="L1"),  # restore exactly 30 d ago
            _fault("g1", "2019-03-01 08:00:00", "2019-03-02 09:59:59", line_no="L2"),
            _fault("g2", "2019-04-01 10:00:00", "", line_no="L2"),  # 30 d + 1 s ago: no
            _fault("h1", "2019-04-01 09:00:00", "2019-04-01 10:00:00", line_no="L3"),
            _fault("h2", "2019-04-01 10:00:00", "", line_no="L3"),  # restore = report: no
            _fault("k1", "2019-03-01 08:00:00", "2019-03-02 10:00:00", line_no=""),
            _fault("k2", "2019-03-05 08:00:00", "", line_no=""),  # NULL line_no never matches
        ],
    )
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "FT_REPEAT", TY) == (1, 8, 12.5)


# --- formats ------------------------------------------------------------------------------------


def test_both_delimiters_both_timestamp_formats_gbk_bom_and_gzip(tmp_path: Path) -> None:
    # orders: pipe-delimited, mixed timestamp formats in one file, columns reordered plus an
    # extra one
    cols = ["status", "order_id", "extra"] + [
        c for c in ENTITIES["BSS_ORDER"].columns if c not in ("status", "order_id")
    ]
    write(
        tmp_path,
        "BSS_ORDER",
        [
            _order("o1", accept_time="20190301100000", complete_time="20190301110000"),
            _order("o2", accept_time="2019-03-01 10:00:00", complete_time="2019-03-01 11:00:00"),
            _order("o3", accept_time="20190701000000"),  # H2
        ],
        delimiter="|",
        columns=cols,
    )
    # calls: gzip, UTF-8 with BOM
    write(
        tmp_path,
        "CC_CALL",
        [_call("c1", "20190301100000", "20190301100010", "2019-03-01 10:05:00")],
        encoding="utf-8-sig",
        gz=True,
    )
    # outlets: GBK with Chinese names; dates in both forms
    outlet = {"outlet_type": "OWN_HALL", "city_code": TY, "county_code": "140105"}
    gbk = write(
        tmp_path,
        "CRM_OUTLET",
        [
            outlet | {"outlet_id": "t1", "outlet_name": "太原迎泽营业厅", "open_date": "20100101"},
            outlet | {"outlet_id": "t2", "outlet_name": "柳巷营业厅", "open_date": "2010-01-01"},
        ],
        date="20190630",
        encoding="gbk",
    )
    with pytest.raises(UnicodeDecodeError):  # the GB18030 fallback is really exercised
        gbk.read_bytes().decode("utf-8")
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "CH_E_SHARE", TY) == (2, 2, 100.0)
    assert nd(df, "CC_ANSWER_15S", TY) == (1, 1, 100.0)
    assert nd(df, "CH_OUTLETS", TY) == (2, None, 2)


def test_malformed_rows_are_dropped_whole(tmp_path: Path) -> None:
    write(
        tmp_path,
        "BSS_FAULT",
        [
            _fault("f1", "2019-03-01 08:00:00", "2019-03-01 09:00:00"),
            _fault("f2", "2019-03-01 08:00:00", "yesterday"),  # quarantined by the loader
        ],
    )
    assert nd(compute_indicators(tmp_path, "2019H1"), "FT_REPAIR_ONTIME", TY) == (1, 1, 100.0)


# --- snapshots, coverage, ratios on monthly bills, customers --------------------------------------


def test_outlets_and_coverage_from_the_snapshot_of_the_last_day(tmp_path: Path) -> None:
    areas = [
        ("140100", "CITY", "140000"),
        ("140105", "DISTRICT", "140100"),
        ("140121", "COUNTY", "140100"),
        ("140121001", "TOWNSHIP", "140121"),
        ("140121002", "TOWNSHIP", "140121"),
        ("140202", "DISTRICT", "140200"),  # its city has no row: the chain still reaches 140200
    ]
    write(
        tmp_path,
        "CRM_AREA",
        [{"area_code": a, "area_name": "区", "level": lv, "parent_code": p} for a, lv, p in areas],
        date="20190630",
        encoding="gbk",
    )

    def outlet(oid: str, city: str, county: str, township: str = "", **extra: str) -> dict:
        row = {"outlet_id": oid, "outlet_name": oid, "outlet_type": "OWN_HALL"}
        row |= {"city_code": city, "county_code": county, "township_code": township}
        return row | {"open_date": "20100101"} | extra

    june = [
        outlet("o1", TY, "140105"),
        outlet("o2", TY, "140121", "140121001"),
        outlet("o3", DT, "140202", close_date="20190630"),  # closed on the last day
        outlet("o4", TY, "140121", close_date="20190701"),  # still open on the last day
        outlet("o5", TY, "140121", open_date="20190701"),  # not yet open
    ]
    write(tmp_path, "CRM_OUTLET", june[:2], date="20190101")  # older snapshot: ignored
    write(tmp_path, "CRM_OUTLET", june, date="20190630")
    write(tmp_path, "CRM_OUTLET", june + [outlet("o6", DT, "140202")], date="20190705")
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "CH_OUTLETS", TY) == (3, None, 3)
    assert nd(df, "CH_OUTLETS", DT) == (0, None, 0)
    assert nd(df, "CH_OUTLETS") == (3, None, 3)
    assert nd(df, "CH_COVER_DISTRICT", TY) == (1, 1, 100.0)
    assert nd(df, "CH_COVER_DISTRICT", DT) == (0, 1, 0.0)
    assert nd(df, "CH_COVER_DISTRICT") == (1, 2, 50.0)
    assert nd(df, "CH_COVER_COUNTY", TY) == (1, 1, 100.0)
    assert nd(df, "CH_COVER_TOWNSHIP", TY) == (1, 2, 50.0)
    assert pick(df, "CH_COVER_TOWNSHIP", DT)["reason"] == "zero denominator"
    # H2 (last day 31 Dec): the 5 Jul snapshot, o3 closed, o4 closed, o5 and o6 open
    h2 = compute_indicators(tmp_path, "2019H2")
    assert nd(h2, "CH_OUTLETS", TY) == (3, None, 3)
    assert nd(h2, "CH_COVER_DISTRICT", DT) == (1, 1, 100.0)


def test_rates_against_monthly_bills(tmp_path: Path) -> None:
    bills = []
    for month in ["201812", "201901", "201902", "201903", "201904", "201905", "201906"]:
        for product, lines, subs in [
            ("FIXED", 100, 100),
            ("BROADBAND", 50, 50),
            ("MOBILE", 0, 1000),
        ]:
            row = {"city_code": TY, "bill_month": month, "product": product}
            row |= {"billed_amount_fen": "1000", "subscribers_in_service": subs}
            bills.append(row | {"lines_in_service": lines})
    write(tmp_path, "BSS_BILL", bills, delimiter="|")
    write(tmp_path, "BSS_BILL", bills[-3:], date="20190701")  # re-delivered month: once
    write(
        tmp_path,
        "BSS_FAULT",
        [_fault(f"f{i}", "2019-02-01 08:00:00", "2019-02-01 09:00:00") for i in range(9)],
    )
    adj = {"subscriber_no": "x", "city_code": TY, "confirmed_time": "2019-04-02 10:00:00"}
    write(
        tmp_path,
        "BSS_BILL_ADJ",
        [
            adj
            | {
                "adj_id": "a1",
                "bill_month": "201903",
                "amount_fen": "9",
                "reason": "BILLING_ERROR",
            },
            adj
            | {"adj_id": "a2", "bill_month": "201903", "amount_fen": "100", "reason": "GOODWILL"},
            adj
            | {
                "adj_id": "a3",
                "bill_month": "201907",
                "amount_fen": "7",
                "reason": "BILLING_ERROR",
            },
        ],
    )
    complaint = {"city_code": TY, "accept_time": "2019-03-01 10:00:00"}
    write(
        tmp_path,
        "CRM_COMPLAINT",
        [
            complaint | {"complaint_id": "k1", "source": "REGULATOR"},
            complaint | {"complaint_id": "k2", "source": "HOTLINE"},
        ],
    )
    df = compute_indicators(tmp_path, "2019H1")
    # 9 faults / ((6 x 150) / 6 x 6) x 100 = 1 per 100 lines per month
    assert nd(df, "FT_RATE", TY) == (9, 900, 1.0)
    # 9 fen / (6 months x 3 products x 1000 fen) x 100000
    assert nd(df, "BL_ERROR_RATE", TY) == (9, 18000, 50.0)
    # 1 appeal / (6 x 1150 / 6 subscribers) x 1e6 = 869.565...
    assert nd(df, "CP_RATE", TY) == (1, 1150, 869.57)
    assert nd(df, "CP_RATE") == (1, 1150, 869.57)
    assert pick(df, "FT_RATE", DT)["reason"] == "zero denominator"


def test_care_coverage_and_customer_satisfaction(tmp_path: Path) -> None:
    def customer(cid: str, tier: str, joined: str = "20150101") -> dict:
        return {"customer_id": cid, "name": "张三", "city_code": TY, "value_tier": tier} | {
            "join_date": joined
        }

    write(
        tmp_path,
        "CRM_CUSTOMER",
        [
            customer("c1", "HIGH"),
            customer("c2", "HIGH"),
            customer("c3", "HIGH", "20190701"),  # joined after the last day
            customer("c4", "MID"),
        ],
        date="20190630",
        encoding="gbk",
    )
    write(
        tmp_path,
        "CRM_CARE",
        [
            {"contact_id": "x1", "customer_id": "c1", "contact_time": "2019-02-01 10:00:00"},
            {"contact_id": "x2", "customer_id": "c1", "contact_time": "2019-03-01 10:00:00"},
            {"contact_id": "x3", "customer_id": "c2", "contact_time": "2019-07-01 00:00:00"},
            {"contact_id": "x4", "customer_id": "c3", "contact_time": "2019-02-01 10:00:00"},
            {"contact_id": "x5", "customer_id": "c4", "contact_time": "2019-02-01 10:00:00"},
        ],
    )
    survey = {"city_code": TY, "survey_time": "2019-05-01 10:00:00"}
    write(
        tmp_path,
        "CRM_SURVEY",
        [
            survey | {"survey_id": "s1", "touchpoint": "OUTLET", "score": "8"},
            survey | {"survey_id": "s2", "touchpoint": "OUTLET", "score": "7"},
            survey | {"survey_id": "s3", "touchpoint": "HOTLINE", "score": "10"},
        ],
    )
    df = compute_indicators(tmp_path, "2019H1")
    assert nd(df, "CR_CARE_COVER", TY) == (1, 2, 50.0)
    assert nd(df, "CR_SAT", TY) == (2, 3, 66.67)
    assert nd(df, "CR_SAT", TY, "OUTLET") == (1, 2, 50.0)
    assert nd(df, "CR_SAT", None, "HOTLINE") == (1, 1, 100.0)
    assert not ((df["indicator_code"] == "CR_SAT") & (df["breakdown"] == "FIELD")).any()


def test_compute_indicator_returns_one_indicator(tmp_path: Path) -> None:
    one = compute_indicator("CP_RATE", tmp_path, "2019H2")
    assert set(one["indicator_code"]) == {"CP_RATE"} and len(one) == 12
    with pytest.raises(KeyError):
        compute_indicator("NOPE", tmp_path, "2019H2")


def test_oracle_is_independent_of_the_code_it_checks() -> None:
    folder = Path(__file__).resolve().parents[1] / "oracle"
    for source in folder.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "import sqwh" not in text and "from sqwh" not in text, source
