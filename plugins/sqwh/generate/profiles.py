"""When things happen: day-of-week / month / holiday weights and intraday profiles.

Monthly volumes are spread over the days of the month by a weight per day and over the day
by a half-hourly profile (reference-data.md: peaks 09:00-11:30, 14:00-17:00 and 19:00-21:00,
Mondays highest, days 1-5 of a month busier because of bills, a dip around Spring Festival).
The weight of a day depends on nothing but the date, so a day's volume is the same whichever
period it is generated in.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import cache

import numpy as np

from sqwh.generate.table import DAY

# Spring Festival (春节) dates; outside this table no holiday dip is applied.
SPRING_FESTIVAL: dict[int, date] = {
    y: date(y, m, d)
    for y, m, d in (
        (2008, 2, 7), (2009, 1, 26), (2010, 2, 14), (2011, 2, 3), (2012, 1, 23),
        (2013, 2, 10), (2014, 1, 31), (2015, 2, 19), (2016, 2, 8), (2017, 1, 28),
        (2018, 2, 16), (2019, 2, 5), (2020, 1, 25), (2021, 2, 12), (2022, 2, 1),
        (2023, 1, 22), (2024, 2, 10), (2025, 1, 29), (2026, 2, 17), (2027, 2, 6),
        (2028, 1, 26), (2029, 2, 13), (2030, 2, 3),
    )
}  # fmt: skip

# Day-of-week factors, Monday first, and (bill-day bump, holiday factor) per kind of volume.
_WEEKDAY: dict[str, tuple[float, ...]] = {
    "call": (1.15, 1.04, 1.0, 0.98, 0.97, 0.86, 0.80),
    "order": (1.08, 1.02, 1.0, 1.0, 1.02, 0.95, 0.90),
    "fault": (1.05, 1.0, 1.0, 1.0, 1.0, 0.98, 0.98),
    "office": (1.1, 1.05, 1.0, 1.0, 1.0, 0.45, 0.35),
    "flat": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}
_BILL_DAYS = {"call": 1.15, "order": 1.10, "fault": 1.0, "office": 1.05, "flat": 1.0}
_HOLIDAY = {"call": 0.65, "order": 0.60, "fault": 0.9, "office": 0.3, "flat": 0.85}


def day_weight(kind: str, day: date) -> float:
    w = _WEEKDAY[kind][day.weekday()]
    if day.day <= 5:
        w *= _BILL_DAYS[kind]
    sf = SPRING_FESTIVAL.get(day.year)
    if sf is not None and -2 <= (day - sf).days <= 6:
        w *= _HOLIDAY[kind]
    return w


@cache
def _month_weight(kind: str, year: int, month: int) -> float:
    days = calendar.monthrange(year, month)[1]
    return sum(day_weight(kind, date(year, month, d)) for d in range(1, days + 1))


def day_share(kind: str, day: date) -> float:
    """Fraction of the month's volume that falls on ``day``."""
    return day_weight(kind, day) / _month_weight(kind, day.year, day.month)


def month_index(day: date) -> int:
    """Months since January 2019 (negative before), for growth curves."""
    return (day.year - 2019) * 12 + day.month - 1


def month_last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def next_day(day: date) -> date:
    return day + timedelta(days=1)


def _profile(values: list[float]) -> np.ndarray:
    assert len(values) == 48, len(values)
    a = np.asarray(values, dtype=float)
    return a / a.sum()


# Half-hourly profiles, 00:00-00:30 first.
INTRADAY: dict[str, np.ndarray] = {
    # 10000 hotline: three peaks.
    "call": _profile(
        [0.20, 0.15, 0.10, 0.08, 0.06, 0.05, 0.05, 0.05, 0.06, 0.08, 0.12, 0.20,
         0.40, 0.60, 0.90, 1.30, 1.80, 2.40, 3.20, 3.40, 3.40, 3.30, 3.20, 2.60,
         2.00, 1.80, 2.00, 2.40, 3.00, 3.10, 3.10, 3.00, 2.90, 2.80, 2.30, 2.00,
         1.90, 2.10, 2.60, 2.70, 2.70, 2.50, 1.80, 1.30, 0.90, 0.60, 0.40, 0.30]
    ),
    # Online channels (APP, WEB, IVR): evening-heavy, some night use.
    "online": _profile(
        [0.50, 0.40, 0.30, 0.20, 0.15, 0.12, 0.10, 0.10, 0.12, 0.15, 0.25, 0.40,
         0.70, 1.00, 1.30, 1.60, 1.90, 2.20, 2.50, 2.60, 2.60, 2.50, 2.40, 2.20,
         2.10, 2.00, 2.10, 2.30, 2.40, 2.40, 2.40, 2.30, 2.30, 2.30, 2.20, 2.20,
         2.30, 2.50, 2.80, 3.00, 3.10, 3.00, 2.80, 2.40, 1.90, 1.40, 1.00, 0.70]
    ),
    # Outlets: open 08:30-18:00, busiest mid-morning and mid-afternoon.
    "outlet": _profile(
        [0] * 17
        + [1.2, 2.2, 3.0, 3.4, 3.4, 3.2, 2.6, 2.0, 1.8, 2.2, 2.8, 3.2, 3.2, 3.0, 2.6, 2.0, 1.6, 1.3, 1.0]
        + [0] * 12
    ),
    # Back office (complaints, adjustments, surveys, care): 08:00-21:00.
    "office": _profile(
        [0] * 16 + [1.0, 1.8, 2.6, 3.0, 3.0, 2.9, 2.6, 2.0, 1.4, 1.6, 2.4, 2.8, 2.8, 2.7, 2.6, 2.3, 2.0, 1.6,
                    1.2, 1.0, 0.9, 0.8, 0.6, 0.4, 0.3, 0.2]
        + [0] * 6
    ),
    # Faults reported by customers: morning and evening (TV and broadband use) peaks.
    "fault": _profile(
        [0.30, 0.20, 0.15, 0.10, 0.08, 0.08, 0.08, 0.08, 0.10, 0.15, 0.25, 0.40,
         0.80, 1.20, 1.80, 2.40, 2.90, 3.20, 3.20, 3.00, 2.80, 2.60, 2.40, 2.00,
         1.70, 1.60, 1.80, 2.00, 2.10, 2.10, 2.00, 1.90, 1.90, 2.00, 2.10, 2.20,
         2.40, 2.70, 3.00, 3.10, 3.00, 2.70, 2.20, 1.70, 1.20, 0.80, 0.50, 0.40]
    ),
    # Network monitoring and spam reports: fairly flat, a little lower at night.
    "flat": _profile([0.6] * 14 + [1.0] * 30 + [0.8] * 4),
}  # fmt: skip


def sample_tod(rng: np.random.Generator, n: int, profile: str) -> np.ndarray:
    """Seconds after midnight for ``n`` events following a half-hourly profile."""
    p = INTRADAY[profile]
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    slot = np.searchsorted(cdf, rng.random(n), side="right")
    return slot * 1800 + rng.integers(0, 1800, n)


def next_morning(seconds: np.ndarray, hour: int = 8) -> np.ndarray:
    """The first ``hour``:00 strictly after each time (for work that waits for day shift)."""
    base = seconds - hour * 3600
    return (base // DAY + 1) * DAY + hour * 3600
