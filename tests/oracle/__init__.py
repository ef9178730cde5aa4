"""Independent test oracle: half-year indicators recomputed in pure pandas from extract files.

Written from shared/indicators.md and shared/extracts.md only; it imports nothing from `sqwh`
(the code it checks). Use:

    from tests.oracle import compute_indicators
    df = compute_indicators(landing_path, "2019H1")

One row per geography x breakdown x indicator, columns COLUMNS (see rules.emit). numerator and
denominator are unrounded (int when integral, else float); value = round(scale x num / den, 2)
rounded half away from zero on the exact rational, as float; None with reason
'zero denominator' when the denominator is 0. CH_OUTLETS is a count: value = numerator,
denominator None.

Interpretation choices where the catalogue leaves room (the SQL must match these, or the
catalogue must be amended and the oracle with it):

 1. Period of an item: its start timestamp in [start, end) local time; an item whose start is
    NULL belongs to no period. Timestamps are local Asia/Shanghai wall time.
 2. Province rows count every item, whatever its city_code (also NULL or not one of the 11);
    city rows only the 11 city codes. Breakdown rows exist for a breakdown value with >= 1
    counted item (denominator > 0); items with a NULL breakdown value count only in the
    breakdown-NULL row.
 3. Malformed rows (a non-empty timestamp/date/month/integer field that does not parse) are
    dropped whole (the loader quarantines them). Integer columns: queue_wait_sec, handle_sec,
    test_flag, billed_amount_fen, subscribers_in_service, lines_in_service, amount_fen, score.
    Text is not trimmed or validated against enums. Timestamps: a 14-digit value is parsed
    as YYYYMMDDHHMMSS, anything else as YYYY-MM-DD HH:MM:SS (pandas also accepts one-digit
    month/day there, as PostgreSQL does); dates likewise with 8 digits.
 4. De-duplication after dropping malformed rows: the last copy in file order (date, seq, row)
    wins. indicators.md only says a key counts once; extracts.md delivers events daily, so a
    key delivered again on a later day is the item's later state (a fault reported open on
    day 1 and delivered restored on day 2); exact duplicates give the same either way.
    CC_SURVEY is keyed on call_id; BSS_BILL on (city_code, bill_month, product).
 5. Snapshots: all files (every seq) of the latest snapshot date <= the period's last day,
    else the latest date delivered.
 6. Test/cancelled orders: test_flag = 1 (integer) or status = 'CANCELLED'; test_flag NULL is
    not a test record.
 7. T rule: "finished" = end timestamp not NULL, whenever (even after the period or the
    extraction). end - start <= limit on time, also when end < start (negative duration).
    Unfinished and start + limit < period end (strict) -> denominator only; else not counted.
    An item without a limit is not countable at all (neither numerator nor denominator):
    OR_INSTALL_ONTIME with promise_time NULL; FT_REPAIR_ONTIME with area_type NULL or not
    URBAN/RURAL.
 8. OR_INSTALL_ONTIME: limit = promise_time - accept_time per order (so on time <=>
    complete_time <= promise_time; open and promise_time < period end -> late). Any status
    except CANCELLED (OPEN orders are unfinished items).
 9. CP_ONTIME: REGULATOR -> 15 days (= 360 h), every other source including NULL -> 48 h.
    CP_ONTIME / CP_RESOLVED: "result not WITHDRAWN" keeps result NULL (SQL must write
    `result is distinct from 'WITHDRAWN'`, not `result <> 'WITHDRAWN'`). CP_RATE counts all
    REGULATOR complaints (WITHDRAWN too).
10. CH_HANDLE_AVG: population = OUTLET, DONE, by accept_time, handle_sec not NULL
    (queue_wait_sec may be NULL). CH_WAIT_AVG / CH_HANDLE_AVG numerator = sum(sec) / 60,
    exact; value = round(num / den, 2).
11. CC_ANSWER_15S / CC_ABANDON: short abandon = answer_time NULL and call_end - queue_start
    <= 5 s; call_end NULL on an unanswered call -> not short, stays in the population.
    Numerator of 15S: answer_time - queue_start <= 15 s (answer_time not NULL). end_reason is
    not used. CC_IVR_SELF denominator = every call with call_start in the period.
12. CC_FCR: population answered calls (answer_time not NULL) with queue_start in the period.
    "Other call" = any other delivered call (any period, answered or not, different call_id)
    with the same non-NULL caller_no and skill_group and queue_start in (call_end,
    call_end + 48 h]. caller_no/skill_group/call_end NULL -> resolved (SQL NOT EXISTS).
13. CC_SAT: inner join survey-call; survey rows with NULL score stay in the denominator;
    period/city from the call. CR_SAT: NULL score in the denominator too.
14. FT_RATE: denominator = (sum over the 6 bill months of lines_in_service for FIXED +
    BROADBAND) / 6 x 6 = that sum (a missing month counts 0). CP_RATE denominator = sum over
    the 6 months of subscribers_in_service over all products / 6 (published unrounded,
    float). BL_ERROR_RATE sums amount_fen signed (no abs), by bill_month, city of each row.
15. FT_REPEAT: another fault (other ticket_id, any period) with the same non-NULL line_no
    (any product) and restore_time in [report_time - 30 x 24 h, report_time).
16. Outlets open on the last day: open_date <= last day and (close_date NULL or > last day);
    open_date NULL -> not open. Coverage: an area's city is the first of the 11 city codes met
    walking up parent_code; areas whose chain reaches no city count only in the province.
    Outlet matched on county_code (DISTRICT, COUNTY) or township_code (TOWNSHIP), whatever the
    outlet's own city_code.
17. CR_CARE_COVER: customers of the snapshot with value_tier HIGH and join_date <= last day
    (join_date NULL -> excluded); numerator: >= 1 CRM_CARE row with that customer_id and
    contact_time in the period; city of the customer.
18. Landing: files whose header lacks a contract column raise an error (the loader refuses
    them; remove such files before asking the oracle). .chk files are not verified.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.oracle.indicators import INDICATORS, Context
from tests.oracle.load import Landing
from tests.oracle.period import HalfYear
from tests.oracle.rules import CITY_CODES, round_half_up

INDICATOR_CODES: tuple[str, ...] = tuple(INDICATORS)
COLUMNS = [
    "geo_level",
    "city_code",
    "breakdown_type",
    "breakdown",
    "indicator_code",
    "numerator",
    "denominator",
    "value",
    "reason",
]

__all__ = [
    "CITY_CODES",
    "COLUMNS",
    "INDICATOR_CODES",
    "HalfYear",
    "Landing",
    "compute_indicator",
    "compute_indicators",
    "round_half_up",
]


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS, dtype=object)


def _context(landing: Path | str | Landing, period: str) -> Context:
    source = landing if isinstance(landing, Landing) else Landing(landing)
    return Context(source, HalfYear.parse(period))


def compute_indicators(landing: Path | str | Landing, period: str) -> pd.DataFrame:
    """All 24 indicators of one half year, read straight from the landing folder."""
    ctx = _context(landing, period)
    rows: list[dict] = []
    for compute in INDICATORS.values():
        rows += compute(ctx)
    return _frame(rows)


def compute_indicator(code: str, landing: Path | str | Landing, period: str) -> pd.DataFrame:
    """The rows of one indicator (pass a Landing to reuse its cache across calls)."""
    if code not in INDICATORS:
        raise KeyError(f"unknown indicator {code!r}; known: {', '.join(INDICATORS)}")
    return _frame(INDICATORS[code](_context(landing, period)))
