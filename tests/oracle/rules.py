"""Rules shared by all indicators (indicators.md, "Rules for all indicators").

- timeliness(): the T rule;
- round_half_up() / publish(): value = round(scale x numerator / denominator, 2), computed on the
  exact rational and rounded half away from zero, as PostgreSQL's round(numeric, 2) does;
- tally() / emit(): per city and province sums (province from items, never averaged), rows of
  the published shape, zero denominators as NULL with a reason;
- count_in_window(): vectorised "another item of the same key with a time in a window".
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from tests.oracle.period import HalfYear

CITY_CODES: tuple[str, ...] = (
    "140100",  # 太原
    "140200",  # 大同
    "140300",  # 阳泉
    "140400",  # 长治
    "140500",  # 晋城
    "140600",  # 朔州
    "140700",  # 晋中
    "140800",  # 运城
    "140900",  # 忻州
    "141000",  # 临汾
    "141100",  # 吕梁
)
_CITY_SET = frozenset(CITY_CODES)
ZERO_DENOMINATOR = "zero denominator"

# (city_code or None for the province, breakdown value or None for all items) -> exact sum
Key = tuple[str | None, str | None]
Tally = dict[Key, int]


def eq(s: pd.Series, value: str) -> pd.Series:
    """s == value, with NULL never equal."""
    return (s == value).fillna(False).astype(bool)


def timeliness(
    start: pd.Series, end: pd.Series, limit: pd.Series | pd.Timedelta, period: HalfYear
) -> tuple[pd.Series, pd.Series]:
    """The T rule. Returns (on_time, counted): counted = in the denominator, on_time = numerator.

    An item belongs to the period of its start. Finished (end not NULL): counted, on time when
    end - start <= limit (inclusive), whenever it finished. Not finished: counted as late when
    start + limit < period end, otherwise not counted. An item without a limit (NULL) is not
    countable: neither on time nor late.
    """
    if not isinstance(limit, pd.Series):
        limit = pd.Series(limit, index=start.index)
    in_period = period.contains(start)
    has_limit = limit.notna()
    finished = end.notna()
    on_time = (finished & ((end - start) <= limit)).fillna(False).astype(bool)
    late_open = (~finished & ((start + limit) < period.end)).fillna(False).astype(bool)
    counted = in_period & has_limit & (finished | late_open)
    return (counted & on_time), counted


def round_half_up(q: Fraction, places: int = 2) -> Decimal:
    """Round an exact rational to `places` decimals, halves away from zero (PostgreSQL numeric)."""
    x = q * 10**places
    n = (2 * abs(x.numerator) + x.denominator) // (2 * x.denominator)  # floor(|x| + 1/2)
    return Decimal(-n if x < 0 else n).scaleb(-places)


def _plain(q: Fraction) -> int | float:
    return q.numerator if q.denominator == 1 else float(q)


def publish(num: Fraction, den: Fraction, scale: int) -> tuple[float | None, str | None]:
    """(value, reason) for one row."""
    if den == 0:
        return None, ZERO_DENOMINATOR
    return float(round_half_up(Fraction(scale) * num / den)), None


def tally(df: pd.DataFrame, values: pd.Series | None = None, breakdown: str | None = None) -> Tally:
    """Sum `values` (count of rows when None) per city and for the province (all rows, any city).

    With `breakdown`, also per breakdown value (NULL breakdown values only count in the all-items
    rows). Only groups present in `df` get a breakdown key: pass the counted items only.
    """
    if values is None:
        v = pd.Series(1, index=df.index, dtype="int64")
    else:
        v = values.astype("int64")
    frame = pd.DataFrame({"city": df["city_code"], "v": v})
    out: Tally = {(None, None): int(frame["v"].sum())}
    by_city = frame.groupby("city", dropna=True)["v"].sum()
    for city in CITY_CODES:
        out[(city, None)] = int(by_city.get(city, 0))
    if breakdown is not None:
        frame["b"] = df[breakdown]
        for b, total in frame.groupby("b", dropna=True)["v"].sum().items():
            out[(None, str(b))] = int(total)
        for (city, b), total in frame.groupby(["city", "b"], dropna=True)["v"].sum().items():
            if city in _CITY_SET:
                out[(str(city), str(b))] = int(total)
    return out


def emit(
    code: str,
    scale: int,
    num: Tally,
    den: Tally,
    breakdown_type: str | None = None,
    num_divisor: int = 1,
    den_divisor: int = 1,
) -> list[dict]:
    """Published rows: province then cities; breakdown rows where the value has items."""
    rows = []
    for city in (None, *CITY_CODES):
        keys: list[Key] = [(city, None)]
        keys += sorted(k for k in den if k[0] == city and k[1] is not None)
        for key in keys:
            n = Fraction(num.get(key, 0), num_divisor)
            d = Fraction(den.get(key, 0), den_divisor)
            value, reason = publish(n, d, scale)
            rows.append(
                {
                    "geo_level": "PROVINCE" if city is None else "CITY",
                    "city_code": city,
                    "breakdown_type": None if key[1] is None else breakdown_type,
                    "breakdown": key[1],
                    "indicator_code": code,
                    "numerator": _plain(n),
                    "denominator": _plain(d),
                    "value": value,
                    "reason": reason,
                }
            )
    return rows


def emit_count(code: str, count: Tally) -> list[dict]:
    """Rows of a plain count (CH_OUTLETS): value = numerator = count, no denominator."""
    return [
        {
            "geo_level": "PROVINCE" if city is None else "CITY",
            "city_code": city,
            "breakdown_type": None,
            "breakdown": None,
            "indicator_code": code,
            "numerator": count.get((city, None), 0),
            "denominator": None,
            "value": count.get((city, None), 0),
            "reason": None,
        }
        for city in (None, *CITY_CODES)
    ]


def _seconds(ts: pd.Series) -> np.ndarray:
    """Whole seconds since the epoch of a tz-aware series without NULLs."""
    utc = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return ((utc - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def _key_codes(cand: pd.DataFrame, query: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Joint integer codes of multi-column keys; -1 where any key column is NULL."""
    both = pd.concat([cand, query], ignore_index=True)
    code = np.zeros(len(both), dtype=np.int64)
    null = np.zeros(len(both), dtype=bool)
    for col in both.columns:
        f, uniques = pd.factorize(both[col])
        null |= f < 0
        code = code * (len(uniques) + 1) + f
    code, _ = pd.factorize(np.where(null, -1, code))  # renumber densely: small sort keys
    code = np.where(null, -1, code).astype(np.int64)
    return code[: len(cand)], code[len(cand) :], int(code.max(initial=-1)) + 1


def count_in_window(
    cand_key: pd.DataFrame,
    cand_time: pd.Series,
    query_key: pd.DataFrame,
    lower: pd.Series,
    upper: pd.Series,
    *,
    lower_inclusive: bool,
    upper_inclusive: bool,
) -> np.ndarray:
    """For each query row: how many candidate rows have the same key and a time in the window.

    Window (lower, upper) with the given inclusivity. NULL keys or times never match (SQL
    equality); a query row with a NULL key or bound gets 0. Times are whole seconds (the extract
    formats carry no fractions). Counts include the query row itself if it is a candidate: the
    caller subtracts it.
    """
    result = np.zeros(len(query_key), dtype=np.int64)
    c_all, q_all, n_keys = _key_codes(cand_key, query_key)
    cand_ok = (c_all >= 0) & cand_time.notna().to_numpy()
    q_ok = (q_all >= 0) & (lower.notna() & upper.notna()).to_numpy()
    if not cand_ok.any() or not q_ok.any():
        return result
    c_code, q_code = c_all[cand_ok], q_all[q_ok]
    c_sec = _seconds(cand_time[cand_ok])
    lo_sec, hi_sec = _seconds(lower[q_ok]), _seconds(upper[q_ok])
    base = min(c_sec.min(), lo_sec.min(), hi_sec.min())
    span = max(c_sec.max(), lo_sec.max(), hi_sec.max()) - base + 1
    if n_keys * int(span) >= 2**62:
        raise OverflowError("count_in_window: too many keys for a single int64 sort key")
    comp = np.sort(c_code * span + (c_sec - base))
    lo = np.searchsorted(
        comp, q_code * span + (lo_sec - base), "left" if lower_inclusive else "right"
    )
    hi = np.searchsorted(
        comp, q_code * span + (hi_sec - base), "right" if upper_inclusive else "left"
    )
    result[q_ok] = np.maximum(hi - lo, 0)
    return result
