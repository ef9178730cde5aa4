"""Row-aligned columns of one extract file, held as numpy arrays.

Generators build a whole business day at once with numpy, so a table is a dict of equally
long arrays rather than a list of rows. Hidden columns (names starting with ``_``, e.g. the
call's city on a CC_SURVEY row) travel with the rows so defects can use them, but are never
written.

Value conventions per registry column type (the writer formats them):

- ``timestamp``: int64 seconds since 1970-01-01 00:00 *local wall clock* (Asia/Shanghai has
  no daylight saving since 1991, so local seconds are plain arithmetic); NULL = ``NULL_INT``.
- ``date``: int64 days since 1970-01-01; NULL = ``NULL_INT``.
- ``int`` / ``bigint``: int64; NULL = ``NULL_INT``.
- ``month``: bytes ``b"YYYYMM"``.
- ``text``: bytes (ASCII only) or str (any text, encoded by the writer); NULL = empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import numpy as np

NULL_INT = np.iinfo(np.int64).min
DAY = 86_400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_number(day: date) -> int:
    """Days since 1970-01-01 of a calendar day."""
    return day.toordinal() - EPOCH_ORDINAL


def from_day_number(n: int) -> date:
    return date.fromordinal(int(n) + EPOCH_ORDINAL)


def day_start(day: date) -> int:
    """Local seconds of a day's midnight."""
    return day_number(day) * DAY


def civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of day numbers (days since 1970-01-01), vectorised.

    Howard Hinnant's ``civil_from_days``; valid for any proleptic Gregorian date >= 0000-03-01.
    """
    z = days.astype(np.int64) + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


class Table:
    """Named, equally long numpy columns in registry (or any) order."""

    __slots__ = ("columns",)

    def __init__(self, columns: Mapping[str, np.ndarray]) -> None:
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(
                f"columns differ in length: { {k: len(v) for k, v in columns.items()} }"
            )
        self.columns: dict[str, np.ndarray] = dict(columns)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def take(self, index: np.ndarray) -> Table:
        """Rows by position (or boolean mask), in that order."""
        return Table({k: v[index] for k, v in self.columns.items()})

    @staticmethod
    def concat(tables: Iterable[Table]) -> Table:
        parts = [t for t in tables if t.columns]
        if not parts:
            return Table({})
        names = list(parts[0].columns)
        return Table({n: np.concatenate([t.columns[n] for t in parts]) for n in names})

    def sorted_by(self, column: str) -> Table:
        """Rows ordered by one column; stable, so ties keep generation order (deterministic)."""
        return self.take(np.argsort(self.columns[column], kind="stable"))


def digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as an (n, width) matrix of ASCII digits, zero-padded on the left
    (integer arithmetic: numpy's int-to-bytes cast is ~10x slower)."""
    mat = np.empty((len(values), width), dtype=np.uint8)
    rest = values.astype(np.int64, copy=True)
    for col in range(width - 1, -1, -1):
        mat[:, col] = 48 + rest % 10
        rest //= 10
    return mat


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded ASCII digits (bytes), at least ``width`` long."""
    values = np.asarray(values, dtype=np.int64)
    if values.size and int(values.max()) >= 10**width:
        width = len(str(int(values.max())))
    return digit_matrix(values, width).view(f"S{width}").ravel()


def ids(prefix: str, day: date, n: int, width: int) -> np.ndarray:
    """Keys like ``O20190101000123``: prefix, business date, sequence within the day.

    The date makes keys unique across days and periods, so two half years can share one
    landing folder.
    """
    head = f"{prefix}{day:%Y%m%d}".encode()
    return np.strings.add(head, digits(np.arange(n), width))


def choose(rng: np.random.Generator, p: Iterable[float], n: int) -> np.ndarray:
    """Category indices drawn with probabilities ``p`` (normalised here)."""
    w = np.asarray(list(p), dtype=float)
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int64)


def labels(values: Iterable[str]) -> np.ndarray:
    """Enum values as a bytes array, indexed by category number."""
    return np.array([v.encode() for v in values])
