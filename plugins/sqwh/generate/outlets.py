"""Outlets (营业厅, 合作厅, 便民点, 代办点): every one ever opened, with open/close dates.

Enough outlets to cover every county seat and ~97 % of townships whatever the scale (the
channel-coverage indicators need the real geography), plus the scaled province count.
A few townships never get one, some outlets close, a few open after 2019, and one
county-level unit lost all its outlets in 2015-18, so coverage is realistic, not 100 %.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np

from sqwh.generate.geography import SHARE, city_index, counties, county_arrays, townships
from sqwh.generate.scales import PROVINCE_VOLUME
from sqwh.generate.table import NULL_INT, day_number

OUTLET_STREAM = zlib.crc32(b"outlet")

OUTLET_TYPES = ("OWN_HALL", "PARTNER_HALL", "CONVENIENCE", "AGENT")
_SHOPS = ("兴隆通讯", "鑫源手机店", "宏达数码", "恒通电讯", "金鑫通信", "华强手机", "万家超市",
          "便民超市", "顺发通讯", "永盛商店", "利民商行", "天翼专营店")  # fmt: skip
_SERVICES = (
    b"PAY;BILL_PRINT;DETAIL_PRINT;NUMBER_SELECT;NEW_INSTALL;REPAIR;TERMINAL_SALE",
    b"PAY;BILL_PRINT;NUMBER_SELECT;NEW_INSTALL;TERMINAL_SALE",
    b"PAY;BILL_PRINT",
    b"PAY;NEW_INSTALL;NUMBER_SELECT",
)


@dataclass(frozen=True)
class Outlets:
    """All outlets ever opened, sorted by county; the snapshot shows those opened by the
    period's last day."""

    outlet_id: np.ndarray  # S
    name: np.ndarray  # U
    type: np.ndarray  # index into OUTLET_TYPES
    county: np.ndarray  # county index
    township: np.ndarray  # S9
    open_day: np.ndarray
    close_day: np.ndarray  # NULL_INT if never closed
    vip: np.ndarray
    closed_county: str  # the county whose outlets all closed before 2019 (coverage gap)

    @property
    def services(self) -> np.ndarray:
        return np.array(_SERVICES)[self.type]

    def open_on(self, day_no: int) -> np.ndarray:
        closed = (self.close_day != NULL_INT) & (self.close_day <= day_no)
        return np.flatnonzero((self.open_day <= day_no) & ~closed)


def _dates(rng: np.random.Generator, first: date, last: date, n: int | None = None) -> np.ndarray:
    return rng.integers(day_number(first), day_number(last) + 1, n)


def build_outlets(seed: int, fraction: float) -> Outlets:
    """The outlets of a (seed, fraction), sorted by county."""
    rng = np.random.default_rng([seed, OUTLET_STREAM])
    ks = counties()
    by_county: dict[str, list] = {k.code: [] for k in ks}
    for t in townships():
        by_county[t.county_code].append(t)
    rural = [i for i, k in enumerate(ks) if k.level == "COUNTY"]
    closed_county = ks[rural[int(rng.integers(0, len(rural)))]].code
    rows: list[tuple[int, int, object]] = []  # (county index, type, township)
    covered: dict[int, list] = {}
    for ci, k in enumerate(ks):
        ts = by_county[k.code]
        keep = [ts[0]] + [t for t in ts[1:] if rng.random() >= 0.03]
        covered[ci] = keep
        rows.append((ci, 0, ts[0]))
        for t in keep[1:]:
            mix = (0.4, 0.4, 0.2) if k.level == "DISTRICT" else (0.15, 0.45, 0.40)
            kind = choice_of(rng, mix) + 1
            rows.append((ci, kind, t))
    extra = max(0, round(PROVINCE_VOLUME["CRM_OUTLET"] * fraction) - len(rows))
    if extra:
        w = np.array([k.weight * SHARE[city_index(k.city_code)] for k in ks])
        per_county = rng.multinomial(extra, w / w.sum())
        for ci, m in enumerate(per_county):
            for _ in range(int(m)):
                ts = covered[ci]
                t = ts[0] if rng.random() < 0.4 else ts[int(rng.integers(0, len(ts)))]
                rows.append((ci, choice_of(rng, (0.06, 0.24, 0.40, 0.30)), t))
    rows.sort(key=lambda r: r[0])
    return _outlet_arrays(rng, rows, ks, closed_county)


def choice_of(rng: np.random.Generator, p: tuple[float, ...]) -> int:
    return int(np.searchsorted(np.cumsum(p) / sum(p), rng.random(), side="right"))


def _outlet_arrays(rng: np.random.Generator, rows: list, ks: tuple, closed_county: str) -> Outlets:
    n = len(rows)
    seq: dict[int, int] = {}
    ids, names, kinds, county, town = [], [], [], [], []
    for ci, kind, t in rows:
        seq[ci] = seq.get(ci, 0) + 1
        k = ks[ci]
        ids.append(f"WD{k.code}{seq[ci]:04d}".encode())
        shop = _SHOPS[int(rng.integers(0, len(_SHOPS)))]
        names.append(
            (f"中国电信{k.name}{t.name}营业厅", f"{t.name}{shop}合作营业厅",
             f"{t.name}{shop}便民服务点", f"{t.name}{shop}代办点")[kind]
        )  # fmt: skip
        kinds.append(kind)
        county.append(ci)
        town.append(t.code.encode())
    kinds_a = np.array(kinds)
    open_day = np.where(
        kinds_a == 0,
        _dates(rng, date(2000, 1, 1), date(2012, 12, 31), n),
        _dates(rng, date(2004, 1, 1), date(2018, 6, 30), n),
    )
    late = (kinds_a != 0) & (rng.random(n) < 0.015)
    open_day = np.where(late, _dates(rng, date(2019, 1, 1), date(2021, 12, 31), n), open_day)
    close_day = np.full(n, NULL_INT, dtype=np.int64)
    closing = (kinds_a != 0) & (rng.random(n) < 0.04)
    end = day_number(date(2022, 12, 31))
    close_day[closing] = open_day[closing] + 365 + (rng.random(int(closing.sum())) * np.maximum(
        1, end - open_day[closing] - 365)).astype(np.int64)  # fmt: skip
    gone = np.array([ks[ci].code == closed_county for ci in county])
    open_day[gone] = np.minimum(open_day[gone], day_number(date(2014, 6, 30)))
    close_day[gone] = _dates(rng, date(2015, 1, 1), date(2018, 12, 31), int(gone.sum()))
    district = county_arrays().district[np.array(county)]
    vip = ((kinds_a == 0) & district & (rng.random(n) < 0.7)).astype(np.int64)
    return Outlets(
        outlet_id=np.array(ids),
        name=np.array(names),
        type=kinds_a,
        county=np.array(county),
        township=np.array(town),
        open_day=open_day.astype(np.int64),
        close_day=close_day,
        vip=vip,
        closed_county=closed_county,
    )
