"""One function per indicator (or family), each written from its line in indicators.md.

Every function takes a Context (landing folder + half year) and returns published rows (dicts);
see rules.emit for the row shape. Interpretation choices are marked `# CHOICE:` and listed in
tests/oracle/__init__.py.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np
import pandas as pd

from tests.oracle.load import Landing
from tests.oracle.period import HalfYear
from tests.oracle.rules import (
    CITY_CODES,
    count_in_window,
    emit,
    emit_count,
    eq,
    tally,
    timeliness,
)

HOUR = pd.Timedelta(hours=1)
PCT = 100


class Context:
    """Inputs of one period: entities read once, the clean-input rule applied once."""

    def __init__(self, landing: Landing, period: HalfYear) -> None:
        self.landing = landing
        self.period = period

    @cached_property
    def orders(self) -> pd.DataFrame:
        """BSS_ORDER without test records and cancelled orders (they never count)."""
        o = self.landing.events("BSS_ORDER")
        test = (o["test_flag"] == 1).fillna(False).astype(bool)
        return o[~test & ~eq(o["status"], "CANCELLED")]

    @cached_property
    def calls(self) -> pd.DataFrame:
        return self.landing.events("CC_CALL")

    @cached_property
    def faults(self) -> pd.DataFrame:
        return self.landing.events("BSS_FAULT")

    @cached_property
    def complaints(self) -> pd.DataFrame:
        return self.landing.events("CRM_COMPLAINT")

    @cached_property
    def bills(self) -> pd.DataFrame:
        """BSS_BILL rows of the period's six bill months."""
        b = self.landing.events("BSS_BILL")
        return b[b["bill_month"].isin(self.period.months).fillna(False).astype(bool)]

    @cached_property
    def open_outlets(self) -> pd.DataFrame:
        """Outlets open on the last day: open_date <= last day, close_date NULL or > last day."""
        o = self.landing.snapshot("CRM_OUTLET", self.period.last_day)
        last = self.period.last_day
        is_open = (o["open_date"] <= last) & (o["close_date"].isna() | (o["close_date"] > last))
        # CHOICE: open_date NULL -> not open (the comparison is unknown, as in SQL).
        return o[is_open.fillna(False).astype(bool)]

    def in_period(self, ts: pd.Series) -> pd.Series:
        return self.period.contains(ts)


# --- channels (CH_*) ------------------------------------------------------------------------


def ch_outlets(ctx: Context) -> list[dict]:
    return emit_count("CH_OUTLETS", tally(ctx.open_outlets))


def _area_city(areas: pd.DataFrame) -> pd.Series:
    """City of each area: the first of the 11 city codes met walking up the parent chain."""
    parent = areas.drop_duplicates("area_code").set_index("area_code")["parent_code"]
    city = pd.Series(pd.NA, index=areas.index, dtype=object)
    current = areas["parent_code"]
    for _ in range(12):  # the hierarchy is at most province > city > county > township
        hit = current.isin(CITY_CODES).fillna(False).astype(bool) & city.isna()
        city[hit] = current[hit]
        current = current.map(parent)
        if current.isna().all():
            break
    return city


def _coverage(ctx: Context, code: str, level: str, outlet_column: str) -> list[dict]:
    areas = ctx.landing.snapshot("CRM_AREA", ctx.period.last_day)
    areas = areas.assign(city_code=_area_city(areas))
    areas = areas[eq(areas["level"], level)]
    served = set(ctx.open_outlets[outlet_column].dropna())
    covered = areas["area_code"].isin(served)
    return emit(code, PCT, tally(areas, covered), tally(areas))


def ch_cover_district(ctx: Context) -> list[dict]:
    return _coverage(ctx, "CH_COVER_DISTRICT", "DISTRICT", "county_code")


def ch_cover_county(ctx: Context) -> list[dict]:
    return _coverage(ctx, "CH_COVER_COUNTY", "COUNTY", "county_code")


def ch_cover_township(ctx: Context) -> list[dict]:
    return _coverage(ctx, "CH_COVER_TOWNSHIP", "TOWNSHIP", "township_code")


def _outlet_done(ctx: Context) -> pd.DataFrame:
    o = ctx.orders
    return o[
        ctx.in_period(o["accept_time"]) & eq(o["channel_type"], "OUTLET") & eq(o["status"], "DONE")
    ]


def ch_wait_avg(ctx: Context) -> list[dict]:
    pop = _outlet_done(ctx)
    pop = pop[pop["queue_wait_sec"].notna()]
    # numerator = sum(queue_wait_sec) / 60 minutes, kept exact (num_divisor), scale 1
    return emit("CH_WAIT_AVG", 1, tally(pop, pop["queue_wait_sec"]), tally(pop), num_divisor=60)


def ch_handle_avg(ctx: Context) -> list[dict]:
    pop = _outlet_done(ctx)
    # CHOICE: "same population with handle_sec not NULL" = OUTLET + DONE + period by accept_time
    # + handle_sec not NULL; queue_wait_sec may be NULL (the NULL filter is on the measure).
    pop = pop[pop["handle_sec"].notna()]
    return emit("CH_HANDLE_AVG", 1, tally(pop, pop["handle_sec"]), tally(pop), num_divisor=60)


def ch_e_share(ctx: Context) -> list[dict]:
    o = ctx.orders
    pop = o[ctx.in_period(o["accept_time"]) & eq(o["status"], "DONE")]
    electronic = pop["channel_type"].isin(["WEB", "APP", "IVR_10001"]).fillna(False)
    return emit("CH_E_SHARE", PCT, tally(pop, electronic), tally(pop))


# --- call centre (CC_*) -----------------------------------------------------------------------


def _queued(ctx: Context) -> pd.DataFrame:
    """Queued calls of the period (by queue_start) without short abandons."""
    c = ctx.calls
    waited = c["call_end"] - c["queue_start"]
    short = c["answer_time"].isna() & (waited <= pd.Timedelta(seconds=5)).fillna(False)
    # CHOICE: call_end NULL on an unanswered call -> not a short abandon (unknown duration):
    # it stays in the population (and is an abandon for CC_ABANDON).
    return c[ctx.in_period(c["queue_start"]) & ~short.astype(bool)]


def cc_answer_15s(ctx: Context) -> list[dict]:
    pop = _queued(ctx)
    fast = (pop["answer_time"] - pop["queue_start"]) <= pd.Timedelta(seconds=15)
    fast = fast.fillna(False).astype(bool)  # NULL answer_time: never within 15 s
    return emit(
        "CC_ANSWER_15S",
        PCT,
        tally(pop, fast, "skill_group"),
        tally(pop, None, "skill_group"),
        breakdown_type="skill_group",
    )


def cc_abandon(ctx: Context) -> list[dict]:
    pop = _queued(ctx)
    return emit("CC_ABANDON", PCT, tally(pop, pop["answer_time"].isna()), tally(pop))


def cc_ivr_self(ctx: Context) -> list[dict]:
    c = ctx.calls
    pop = c[ctx.in_period(c["call_start"])]
    selfserved = pop["queue_start"].isna() & eq(pop["end_reason"], "IVR_DONE")
    return emit("CC_IVR_SELF", PCT, tally(pop, selfserved), tally(pop))


def cc_fcr(ctx: Context) -> list[dict]:
    c = ctx.calls
    pop = c[ctx.in_period(c["queue_start"]) & c["answer_time"].notna()]
    # Candidates: every delivered call (any period, answered or not) with a queue_start.
    key = ["caller_no", "skill_group"]  # NULL in either: never "the same"
    window = pd.Timedelta(hours=48)
    hits = count_in_window(
        c[key],
        c["queue_start"],
        pop[key],
        pop["call_end"],
        pop["call_end"] + window,
        lower_inclusive=False,
        upper_inclusive=True,
    )
    # "no OTHER call": drop the call itself if its own queue_start falls in its window
    own = (
        pop[key].notna().all(axis=1)
        & (pop["queue_start"] > pop["call_end"])
        & (pop["queue_start"] <= pop["call_end"] + window)
    )
    resolved = pd.Series((hits - own.fillna(False).to_numpy(np.int64)) == 0, index=pop.index)
    # CHOICE: caller_no, skill_group or call_end NULL -> no other call can be "the same" or
    # in the window -> resolved (as SQL's NOT EXISTS with NULL comparisons gives).
    return emit("CC_FCR", PCT, tally(pop, resolved), tally(pop))


def cc_sat(ctx: Context) -> list[dict]:
    surveys = ctx.landing.events("CC_SURVEY")[["call_id", "score"]]
    calls = ctx.calls[["call_id", "city_code", "call_start"]]
    pop = surveys.merge(calls, on="call_id", how="inner")
    pop = pop[ctx.in_period(pop["call_start"])]
    # CHOICE: a survey with NULL score stays in the denominator (it is a survey row).
    satisfied = pop["score"].isin([4, 5]).fillna(False)
    return emit("CC_SAT", PCT, tally(pop, satisfied), tally(pop))


# --- orders (OR_*) ----------------------------------------------------------------------------


def _timely(
    code: str,
    items: pd.DataFrame,
    start: str,
    end: str,
    limit: pd.Series | pd.Timedelta,
    period: HalfYear,
    breakdown: str | None = None,
) -> list[dict]:
    on_time, counted = timeliness(items[start], items[end], limit, period)
    pop = items[counted]
    return emit(
        code,
        PCT,
        tally(pop, on_time[counted], breakdown),
        tally(pop, None, breakdown),
        breakdown_type=breakdown,
    )


def or_install_ontime(ctx: Context) -> list[dict]:
    o = ctx.orders
    items = o[eq(o["order_type"], "NEW_INSTALL") & o["product"].isin(["FIXED", "BROADBAND"])]
    # CHOICE: promise_time NULL -> no limit -> not countable (neither on time nor late).
    limit = items["promise_time"] - items["accept_time"]
    return _timely(
        "OR_INSTALL_ONTIME", items, "accept_time", "complete_time", limit, ctx.period, "area_type"
    )


def or_resume_ontime(ctx: Context) -> list[dict]:
    o = ctx.orders
    items = o[eq(o["order_type"], "RESUME") & o["payment_time"].notna()]
    limit = pd.Timedelta(minutes=30)
    return _timely("OR_RESUME_ONTIME", items, "payment_time", "complete_time", limit, ctx.period)


# --- faults (FT_*) ----------------------------------------------------------------------------


def ft_rate(ctx: Context) -> list[dict]:
    f = ctx.faults
    faults = f[ctx.in_period(f["report_time"])]
    b = ctx.bills
    lines = b[b["product"].isin(["FIXED", "BROADBAND"]).fillna(False)]
    # denominator = (sum over the 6 months / 6) x 6 = sum of lines over the period's months.
    # CHOICE: the average divides by 6 whatever months were delivered (a missing month is 0);
    # NULL lines_in_service adds nothing (SQL sum).
    den = tally(lines, lines["lines_in_service"].fillna(0))
    return emit("FT_RATE", PCT, tally(faults), den)


def ft_repair_ontime(ctx: Context) -> list[dict]:
    f = ctx.faults
    # CHOICE: area_type NULL or other than URBAN/RURAL -> no limit -> not countable.
    limit = f["area_type"].map({"URBAN": 48 * HOUR, "RURAL": 72 * HOUR})
    limit = pd.to_timedelta(limit)
    return _timely(
        "FT_REPAIR_ONTIME", f, "report_time", "restore_time", limit, ctx.period, "area_type"
    )


def ft_repeat(ctx: Context) -> list[dict]:
    f = ctx.faults
    pop = f[ctx.in_period(f["report_time"])]
    window = pd.Timedelta(days=30)
    hits = count_in_window(
        f[["line_no"]],
        f["restore_time"],
        pop[["line_no"]],
        pop["report_time"] - window,
        pop["report_time"],
        lower_inclusive=True,
        upper_inclusive=False,
    )
    # "another fault": drop the fault itself if its own restore_time is in its window
    own = (
        pop["line_no"].notna()
        & (pop["restore_time"] >= pop["report_time"] - window)
        & (pop["restore_time"] < pop["report_time"])
    )
    repeat = pd.Series((hits - own.fillna(False).to_numpy(np.int64)) > 0, index=pop.index)
    return emit("FT_REPEAT", PCT, tally(pop, repeat), tally(pop))


# --- billing (BL_*) ---------------------------------------------------------------------------


def bl_error_rate(ctx: Context) -> list[dict]:
    adj = ctx.landing.events("BSS_BILL_ADJ")
    errors = adj[
        adj["bill_month"].isin(ctx.period.months).fillna(False) & eq(adj["reason"], "BILLING_ERROR")
    ]
    # CHOICE: amounts summed as signed values (no abs); NULL amounts add nothing.
    num = tally(errors, errors["amount_fen"].fillna(0))
    den = tally(ctx.bills, ctx.bills["billed_amount_fen"].fillna(0))
    return emit("BL_ERROR_RATE", 100_000, num, den)


# --- complaints (CP_*) ------------------------------------------------------------------------


def cp_rate(ctx: Context) -> list[dict]:
    c = ctx.complaints
    appeals = c[ctx.in_period(c["accept_time"]) & eq(c["source"], "REGULATOR")]
    b = ctx.bills
    # denominator = average over the 6 months of subscribers summed over all products
    # = sum over the period's months / 6 (CHOICE: / 6 even if a month is missing).
    subs = tally(b, b["subscribers_in_service"].fillna(0))
    return emit("CP_RATE", 1_000_000, tally(appeals), subs, den_divisor=6)


def _not_withdrawn(c: pd.DataFrame) -> pd.Series:
    # CHOICE: result NULL is "not WITHDRAWN" (open complaints have no result yet).
    return ~eq(c["result"], "WITHDRAWN")


def cp_ontime(ctx: Context) -> list[dict]:
    c = ctx.complaints
    items = c[_not_withdrawn(c)]
    # CHOICE: source NULL -> "else" -> 48 h.
    limit = pd.Series(48 * HOUR, index=items.index).where(
        ~eq(items["source"], "REGULATOR"), pd.Timedelta(days=15)
    )
    return _timely("CP_ONTIME", items, "accept_time", "close_time", limit, ctx.period)


def cp_resolved(ctx: Context) -> list[dict]:
    c = ctx.complaints
    pop = c[ctx.in_period(c["accept_time"]) & c["close_time"].notna() & _not_withdrawn(c)]
    return emit("CP_RESOLVED", PCT, tally(pop, eq(pop["result"], "RESOLVED")), tally(pop))


# --- spam SMS (SP_*) --------------------------------------------------------------------------


def sp_handled_24h(ctx: Context) -> list[dict]:
    s = ctx.landing.events("CC_SPAM_REPORT")
    return _timely("SP_HANDLED_24H", s, "received_time", "handled_time", 24 * HOUR, ctx.period)


# --- customers (CR_*) -------------------------------------------------------------------------


def cr_care_cover(ctx: Context) -> list[dict]:
    customers = ctx.landing.snapshot("CRM_CUSTOMER", ctx.period.last_day)
    # CHOICE: join_date NULL -> not "join_date <= last day" -> not in the population.
    joined = (customers["join_date"] <= ctx.period.last_day).fillna(False).astype(bool)
    pop = customers[eq(customers["value_tier"], "HIGH") & joined]
    care = ctx.landing.events("CRM_CARE")
    cared = set(care.loc[ctx.in_period(care["contact_time"]), "customer_id"].dropna())
    return emit("CR_CARE_COVER", PCT, tally(pop, pop["customer_id"].isin(cared)), tally(pop))


def cr_sat(ctx: Context) -> list[dict]:
    s = ctx.landing.events("CRM_SURVEY")
    pop = s[ctx.in_period(s["survey_time"])]
    # CHOICE: a survey with NULL score stays in the denominator.
    good = (pop["score"] >= 8).fillna(False).astype(bool)
    return emit(
        "CR_SAT",
        PCT,
        tally(pop, good, "touchpoint"),
        tally(pop, None, "touchpoint"),
        breakdown_type="touchpoint",
    )


# Catalogue order (indicators.md).
INDICATORS: dict[str, Callable[[Context], list[dict]]] = {
    "CH_OUTLETS": ch_outlets,
    "CH_COVER_DISTRICT": ch_cover_district,
    "CH_COVER_COUNTY": ch_cover_county,
    "CH_COVER_TOWNSHIP": ch_cover_township,
    "CH_WAIT_AVG": ch_wait_avg,
    "CH_HANDLE_AVG": ch_handle_avg,
    "CH_E_SHARE": ch_e_share,
    "CC_ANSWER_15S": cc_answer_15s,
    "CC_ABANDON": cc_abandon,
    "CC_IVR_SELF": cc_ivr_self,
    "CC_FCR": cc_fcr,
    "CC_SAT": cc_sat,
    "OR_INSTALL_ONTIME": or_install_ontime,
    "OR_RESUME_ONTIME": or_resume_ontime,
    "FT_RATE": ft_rate,
    "FT_REPAIR_ONTIME": ft_repair_ontime,
    "FT_REPEAT": ft_repeat,
    "BL_ERROR_RATE": bl_error_rate,
    "CP_RATE": cp_rate,
    "CP_ONTIME": cp_ontime,
    "CP_RESOLVED": cp_resolved,
    "SP_HANDLED_24H": sp_handled_24h,
    "CR_CARE_COVER": cr_care_cover,
    "CR_SAT": cr_sat,
}
