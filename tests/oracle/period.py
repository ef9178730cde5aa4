"""Half-year periods, written from indicators.md ("Periods are half-open intervals in local time").

Deliberately not `sqwh.period`: the oracle must not share code with what it checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

TZ = "Asia/Shanghai"
_PERIOD = re.compile(r"^(\d{4})H([12])$")


@dataclass(frozen=True)
class HalfYear:
    """One half year: [start, end) in Asia/Shanghai local time."""

    year: int
    half: int

    @classmethod
    def parse(cls, text: str) -> HalfYear:
        m = _PERIOD.match(str(text).strip().upper())
        if not m:
            raise ValueError(f"period {text!r} is not a half year; write it like 2019H1 or 2019H2")
        return cls(int(m.group(1)), int(m.group(2)))

    @property
    def code(self) -> str:
        return f"{self.year}H{self.half}"

    @property
    def start(self) -> pd.Timestamp:
        month = 1 if self.half == 1 else 7
        return pd.Timestamp(year=self.year, month=month, day=1, tz=TZ)

    @property
    def end(self) -> pd.Timestamp:
        if self.half == 1:
            return pd.Timestamp(year=self.year, month=7, day=1, tz=TZ)
        return pd.Timestamp(year=self.year + 1, month=1, day=1, tz=TZ)

    @property
    def last_day(self) -> pd.Timestamp:
        """The period's last calendar day, as a naive midnight timestamp (compared with dates)."""
        return (self.end - pd.Timedelta(days=1)).tz_localize(None).normalize()

    @property
    def months(self) -> tuple[str, ...]:
        """The period's six bill months, `YYYYMM`."""
        first = 1 if self.half == 1 else 7
        return tuple(f"{self.year}{m:02d}" for m in range(first, first + 6))

    def contains(self, ts: pd.Series) -> pd.Series:
        """True where the tz-aware timestamp lies in [start, end); NULL is never in a period."""
        return (ts.notna() & (ts >= self.start) & (ts < self.end)).astype(bool)
