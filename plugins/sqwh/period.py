"""Half-year reporting periods ('2019H1'): half-open intervals in Asia/Shanghai local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
_PERIOD = re.compile(r"^(?P<year>\d{4})H(?P<half>[12])$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    half: int

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _PERIOD.match(text.strip().upper())
        if not m:
            raise ValueError(f"period {text!r} is not a half year; write it like 2019H1 or 2019H2")
        return cls(int(m["year"]), int(m["half"]))

    @property
    def code(self) -> str:
        return f"{self.year}H{self.half}"

    def __str__(self) -> str:
        return self.code

    @property
    def first_day(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def end_day(self) -> date:
        """First day after the period (exclusive bound)."""
        return date(self.year, 7, 1) if self.half == 1 else date(self.year + 1, 1, 1)

    @property
    def last_day(self) -> date:
        return self.end_day - timedelta(days=1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), tzinfo=TZ)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.end_day, datetime.min.time(), tzinfo=TZ)

    @property
    def days(self) -> list[date]:
        n = (self.end_day - self.first_day).days
        return [self.first_day + timedelta(days=i) for i in range(n)]

    @property
    def months(self) -> list[str]:
        """Bill months of the period as YYYYMM."""
        first = 1 if self.half == 1 else 7
        return [f"{self.year}{m:02d}" for m in range(first, first + 6)]

    def previous(self) -> Period:
        return Period(self.year, 1) if self.half == 2 else Period(self.year - 1, 2)

    @classmethod
    def containing(cls, moment: date) -> Period:
        return cls(moment.year, 1 if moment.month <= 6 else 2)
