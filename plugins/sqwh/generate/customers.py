"""The customer base: ~15 M x fraction in the 2019H1 snapshot, growing since 1998.

Customers are not stored: customer ``i`` lives in a contiguous block of its city, its join
date rises with its index (IDs are issued in order) and its numbers are bijections of ``i``
(see people.py). So the customer who calls in January is the same person (same number,
same ID) in every file and every period's run. Only the snapshot file and the care schedule
materialise attributes, chunk by chunk, each chunk from its own seeded stream.
"""

from __future__ import annotations

import zlib
from datetime import date

import numpy as np

from sqwh.generate import people
from sqwh.generate.geography import AREA_CODES, N_CITIES, SHARE
from sqwh.generate.scales import PROVINCE_VOLUME
from sqwh.generate.table import day_number, digits

CUSTOMER_STREAM = zlib.crc32(b"customer")


class Customers:
    """Customers of one (seed, fraction), indexed 0..total-1 in city blocks."""

    # Joins run from 1998 to the end of 2024, more of them in later years, sized so that the
    # snapshot of 30 Jun 2019 holds ~15 M x fraction; earlier periods see fewer customers,
    # later ones more (realistic growth, and the same people in every period's snapshot).
    JOIN_FIRST = date(1998, 1, 1)
    JOIN_END = date(2025, 1, 1)
    JOIN_POWER = 1.3
    REFERENCE = date(2019, 6, 30)
    CHUNK = 1 << 18  # customers per chunk of attributes (one seeded stream each)

    def __init__(self, seed: int, fraction: float) -> None:
        self.seed = seed
        self.d0 = day_number(self.JOIN_FIRST)
        self.span = day_number(self.JOIN_END) - self.d0
        at_reference = ((day_number(self.REFERENCE) - self.d0 + 1) / self.span) ** self.JOIN_POWER
        wanted = max(PROVINCE_VOLUME["CRM_CUSTOMER"] * fraction, 60.0 * N_CITIES) / at_reference
        self.n = largest_remainder(wanted * SHARE)
        self.start = np.concatenate([[0], np.cumsum(self.n)[:-1]])
        self.total = int(self.n.sum())
        self._joined: dict[int, np.ndarray] = {}

    def join_days(self, city: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Join date (day number) of the k-th customer of each city."""
        x = ((k + 0.5) / self.n[city]) ** (1.0 / self.JOIN_POWER)
        return self.d0 + np.floor(x * self.span).astype(np.int64)

    def joined(self, day_no: int) -> np.ndarray:
        """Customers per city who joined on or before a day (a prefix of each city block)."""
        if day_no not in self._joined:
            out = np.zeros(N_CITIES, dtype=np.int64)
            x = max(0.0, (day_no - self.d0 + 1) / self.span)
            for c in range(N_CITIES):
                n = int(self.n[c])
                k = int(np.clip(np.ceil(n * x**self.JOIN_POWER - 0.5), 0, n))
                while k < n and self.join_days(np.array([c]), np.array([k]))[0] <= day_no:
                    k += 1
                while k > 0 and self.join_days(np.array([c]), np.array([k - 1]))[0] > day_no:
                    k -= 1
                out[c] = k
            self._joined[day_no] = out
        return self._joined[day_no]

    def pick(self, rng: np.random.Generator, city: np.ndarray, day_no: int) -> np.ndarray:
        """A random existing customer (global index) of each row's city."""
        alive = np.maximum(self.joined(day_no), 1)
        return self.start[city] + (rng.random(len(city)) * alive[city]).astype(np.int64)

    def city_of(self, index: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.start, index, side="right") - 1

    def customer_ids(self, index: np.ndarray) -> np.ndarray:
        return np.strings.add(b"C", digits(index.astype(np.int64), 10))

    def mobile(self, index: np.ndarray) -> np.ndarray:
        return people.mobile_numbers(index, self.seed)

    def line_numbers(self, index: np.ndarray, product: np.ndarray) -> np.ndarray:
        """The customer's number for a product (PRODUCTS order): fixed line with the city's
        area code, broadband / IPTV account, or mobile number."""
        city = self.city_of(index)
        local = people.fixed_local(index - self.start[city], self.seed)
        fixed = np.strings.add(AREA_CODES[city], local)
        out = self.mobile(index).astype("S15")
        out = np.where(product == 0, fixed, out)
        out = np.where(product == 1, np.strings.add(b"ad", fixed), out)
        return np.where(product == 3, np.strings.add(b"itv", fixed), out)

    def chunk_rng(self, chunk: int, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, CUSTOMER_STREAM, chunk, stream])

    def tiers(self, chunk: int) -> np.ndarray:
        """Value tier per customer of a chunk: 0 HIGH (~7 %), 1 MID, 2 LOW."""
        u = self.chunk_rng(chunk, 1).random(self.CHUNK)
        return np.where(u < 0.07, 0, np.where(u < 0.37, 1, 2))

    def chunk_range(self, chunk: int) -> np.ndarray:
        return np.arange(chunk * self.CHUNK, min((chunk + 1) * self.CHUNK, self.total))

    @property
    def chunks(self) -> int:
        return (self.total + self.CHUNK - 1) // self.CHUNK

    def is_joined(self, index: np.ndarray, day_no: int) -> np.ndarray:
        city = self.city_of(index)
        return index - self.start[city] < self.joined(day_no)[city]


def largest_remainder(values: np.ndarray) -> np.ndarray:
    """Round non-negative values to integers keeping their (rounded) total."""
    floor = np.floor(values).astype(np.int64)
    missing = int(round(float(values.sum()))) - int(floor.sum())
    order = np.argsort(-(values - floor), kind="stable")
    floor[order[: max(0, missing)]] += 1
    return floor
