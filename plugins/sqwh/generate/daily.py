"""Shared machinery of the daily event producers.

A producer makes the rows of one business day at a time. Some items are born from earlier
ones (a repeat call within 48 h, a repeat fault within 30 days, a survey the day after a call,
a resend of yesterday's rows), so producers keep a small carry-over keyed by the day the
child lands on, and the runner starts ``lookback`` days before the period to fill it. Since
every day's draws come from that day's own random stream, the file of a day is the same
whichever period it is generated in: H1 and H2 join up without gaps or double counts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from datetime import date

import numpy as np

from sqwh.generate.table import DAY, Table
from sqwh.generate.world import World
from sqwh.period import Period


class DailyProducer(ABC):
    """Rows of one or more daily entities, one business day at a time, in day order."""

    entities: tuple[str, ...] = ()
    lookback: int = 0  # days simulated before the period so its first files are complete

    def __init__(self, world: World, period: Period) -> None:
        self.world = world
        self.period = period

    @abstractmethod
    def day(self, d: date) -> dict[str, Table]:
        """Tables (by entity) of the items whose business time falls on ``d``."""


class Landing:
    """Child items waiting for the day they fall on (repeat calls, surveys, repeat faults)."""

    def __init__(self) -> None:
        self._by_day: defaultdict[int, list[Table]] = defaultdict(list)

    def add(self, table: Table, times: np.ndarray) -> None:
        days = times // DAY
        for d in np.unique(days):
            self._by_day[int(d)].append(table.take(days == d))

    def pop(self, day_no: int) -> list[Table]:
        return self._by_day.pop(day_no, [])


class ExactDuplicates:
    """Delivers ~``rate`` of a day's rows twice with identical content, as real BSS extracts
    do: half again later in the same file, half at the top of the next day's file (a late
    resend). Rows carried into the first day of a period come from the previous period's
    last day, which the lookback simulates."""

    def __init__(self, rate: float = 0.001) -> None:
        self.rate = rate
        self._carry: Table | None = None

    def apply(self, rng: np.random.Generator, table: Table) -> Table:
        n = len(table)
        k = int(rng.binomial(n, self.rate)) if n else 0
        pick = np.sort(rng.choice(n, k, replace=False)) if k else np.zeros(0, dtype=np.int64)
        same = rng.random(k) < 0.5
        again, later = pick[same], pick[~same]
        where = rng.integers(again + 1, n + 1) if len(again) else again
        body = table.take(np.insert(np.arange(n), where, again))
        out = Table.concat([self._carry, body]) if self._carry is not None else body
        self._carry = table.take(later)
        return out


def lognormal(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int
) -> np.ndarray:
    """Lognormal draws given the median (the natural parameter for durations)."""
    return np.exp(np.log(median) + sigma * rng.standard_normal(n))


def by_city(rng: np.random.Generator, expected: np.ndarray, minimum: int = 0) -> np.ndarray:
    """City index per item for Poisson counts per city (at least ``minimum`` per city)."""
    return np.repeat(np.arange(len(expected)), np.maximum(rng.poisson(expected), minimum))
