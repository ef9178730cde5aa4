"""BSS_ORDER: service orders with the field logic the indicators rely on.

- NEW_INSTALL of FIXED/BROADBAND/IPTV and MOVE have promise_time (accept + 24/48/72 h);
  most complete before it, a tail of 1.5-4 % takes 5-15 days.
- RESUME after payment (~85 % of RESUME) has payment_time a few seconds before accept_time
  and usually completes within 30 minutes of payment.
- OUTLET orders have outlet_id, queue_wait_sec (a few % NULL: no ticket taken) and
  handle_sec; other channels leave all three empty.
- status DONE (complete_time set), OPEN (~0.2-3 % by type, complete_time empty) or CANCELLED (~2 %,
  complete_time empty); test_flag = 1 on ~0.5 % (test numbers 1700000xxxx).
- ~0.1 % of rows are delivered twice, identical (see daily.ExactDuplicates).
"""

from __future__ import annotations

from datetime import date

import numpy as np

from sqwh.generate.daily import DailyProducer, ExactDuplicates, by_city, lognormal
from sqwh.generate.geography import CITY_CODES, county_arrays, sample_counties
from sqwh.generate.profiles import next_morning, sample_tod
from sqwh.generate.table import (
    DAY,
    NULL_INT,
    Table,
    choose,
    day_number,
    day_start,
    digits,
    ids,
    labels,
)
from sqwh.generate.world import World
from sqwh.period import Period

ORDER_TYPES = ("NEW_INSTALL", "MOVE", "STOP", "RESUME", "RECHARGE", "PLAN_CHANGE", "CANCEL")
TYPE_MIX = (0.09, 0.02, 0.08, 0.09, 0.50, 0.16, 0.06)
NEW_INSTALL, MOVE, STOP, RESUME, RECHARGE, PLAN_CHANGE, CANCEL = range(7)
FIXED, BROADBAND, MOBILE, IPTV = range(4)  # scales.PRODUCTS order
PRODUCT_LABELS = labels(("FIXED", "BROADBAND", "MOBILE", "IPTV"))
CHANNELS = labels(("OUTLET", "WEB", "APP", "IVR_10001", "AGENT"))
OUTLET = 0
STATUS = labels(("DONE", "CANCELLED", "OPEN"))
AREA = labels(("RURAL", "URBAN"))

# P(product | order type), FIXED/BROADBAND/MOBILE/IPTV.
PRODUCT_MIX = {
    NEW_INSTALL: (0.07, 0.35, 0.40, 0.18),
    MOVE: (0.25, 0.60, 0.0, 0.15),
    RECHARGE: (0.05, 0.10, 0.85, 0.0),
}
PRODUCT_DEFAULT = (0.08, 0.25, 0.55, 0.12)
# P(channel | order type), OUTLET/WEB/APP/IVR_10001/AGENT.
CHANNEL_MIX = {
    NEW_INSTALL: (0.60, 0.10, 0.15, 0.0, 0.15),
    MOVE: (0.50, 0.10, 0.20, 0.0, 0.20),
    RECHARGE: (0.20, 0.15, 0.45, 0.15, 0.05),
}
CHANNEL_DEFAULT = (0.35, 0.10, 0.30, 0.10, 0.15)
OPEN_SHARE = np.array([0.03, 0.03, 0.01, 0.003, 0.002, 0.01, 0.01])
OUTLET_TYPE_WEIGHT = np.array([6.0, 3.0, 0.5, 1.0])  # who handles orders: halls mostly


def _conditional(
    rng: np.random.Generator, given: np.ndarray, mixes: dict, default: tuple
) -> np.ndarray:
    out = np.zeros(len(given), dtype=np.int64)
    for t in range(len(ORDER_TYPES)):
        i = np.flatnonzero(given == t)
        out[i] = choose(rng, mixes.get(t, default), len(i))
    return out


class Orders(DailyProducer):
    entities = ("BSS_ORDER",)
    lookback = 1  # yesterday's resent rows

    def __init__(self, world: World, period: Period) -> None:
        super().__init__(world, period)
        self.dupes = ExactDuplicates()

    def day(self, d: date) -> dict[str, Table]:
        w = self.world
        rng = w.rng("BSS_ORDER", d.toordinal())
        city = by_city(
            rng, w.scaled_daily("BSS_ORDER", "order", d), w.minimum_per_city_day("BSS_ORDER")
        )
        n = len(city)
        kind = choose(rng, TYPE_MIX, n)
        product = _conditional(rng, kind, PRODUCT_MIX, PRODUCT_DEFAULT)
        channel = _conditional(rng, kind, CHANNEL_MIX, CHANNEL_DEFAULT)
        at_outlet = channel == OUTLET
        tod = np.where(at_outlet, sample_tod(rng, n, "outlet"), sample_tod(rng, n, "online"))
        accept = day_start(d) + tod
        county = sample_counties(rng, city)
        urban = rng.random(n) < county_arrays().urban_p[county]
        customer = w.customers.pick(rng, city, day_number(d))
        number = w.customers.line_numbers(customer, product)
        test = rng.random(n) < 0.005
        test_no = np.strings.add(b"1700000", digits(rng.integers(0, 10_000, n), 4))
        u = rng.random(n)
        status = np.where(u < 0.02, 1, np.where(u < 0.02 + OPEN_SHARE[kind], 2, 0))
        promise, payment, complete = self._times(rng, city, kind, product, urban, accept)
        wait, handle, outlet = self._outlet_fields(rng, d, city, county, at_outlet)
        table = Table(
            {
                "order_type": labels(ORDER_TYPES)[kind],
                "product": PRODUCT_LABELS[product],
                "subscriber_no": np.where(test, test_no, number),
                "city_code": CITY_CODES[city],
                "county_code": county_arrays().codes[county],
                "area_type": AREA[urban.astype(np.int64)],
                "channel_type": CHANNELS[channel],
                "outlet_id": outlet,
                "accept_time": accept,
                "promise_time": promise,
                "complete_time": np.where(status == 0, complete, NULL_INT),
                "queue_wait_sec": wait,
                "handle_sec": handle,
                "payment_time": payment,
                "status": STATUS[status],
                "test_flag": test.astype(np.int64),
            }
        ).sorted_by("accept_time")
        table.columns = {"order_id": ids("O", d, n, 8), **table.columns}
        return {"BSS_ORDER": self.dupes.apply(w.rng("dupes", 1, d.toordinal()), table)}

    def _times(
        self,
        rng: np.random.Generator,
        city: np.ndarray,
        kind: np.ndarray,
        product: np.ndarray,
        urban: np.ndarray,
        accept: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """promise_time, payment_time and (if DONE) complete_time."""
        n = len(kind)
        p = self.world.params
        wired = product != MOBILE
        install = (kind == NEW_INSTALL) & wired
        move = kind == MOVE
        hours = np.where(
            urban, np.where(rng.random(n) < 0.15, 24, 48), np.where(rng.random(n) < 0.3, 48, 72)
        )
        promise = np.where(
            install, accept + hours * 3600, np.where(move, accept + 72 * 3600, NULL_INT)
        )
        paid = (kind == RESUME) & (rng.random(n) < 0.85)
        payment = np.where(paid, accept - rng.integers(0, 31, n), NULL_INT)
        median_h = p.install_median_h[city] * np.where(urban, 1.0, 1.3)
        fieldwork = np.clip(lognormal(rng, median_h * 3600, 1.0, n), 1800, 5 * DAY)
        fieldwork = np.where(
            move, np.clip(lognormal(rng, 24 * 3600.0, 0.8, n), 3600, 10 * DAY), fieldwork
        )
        tail = rng.random(n) < p.install_tail[city]
        fieldwork = np.where(tail & install, rng.integers(5 * DAY, 15 * DAY, n), fieldwork)
        done = accept + fieldwork.astype(np.int64)
        tod = done % DAY
        night = ((tod >= 20 * 3600) | (tod < 8 * 3600)) & (rng.random(n) < 0.8)
        done = np.where(night, next_morning(done) + rng.integers(0, 3 * 3600, n), done)
        resume = np.clip(lognormal(rng, p.resume_median_min[city] * 60, 0.9, n), 10, 2 * DAY)
        quick = {
            RECHARGE: rng.integers(1, 60, n),
            PLAN_CHANGE: rng.integers(30, 3600, n),
            STOP: rng.integers(10, 1800, n),
            CANCEL: rng.integers(600, 2 * DAY, n),
        }
        complete = np.where(install | move, done, accept + rng.integers(60, 1800, n))
        for k, delay in quick.items():
            complete = np.where(kind == k, accept + delay, complete)
        start = np.where(paid, payment, accept)
        complete = np.where(kind == RESUME, start + resume.astype(np.int64), complete)
        return promise, payment, complete

    def _outlet_fields(
        self,
        rng: np.random.Generator,
        d: date,
        city: np.ndarray,
        county: np.ndarray,
        at_outlet: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """queue_wait_sec, handle_sec and outlet_id (an outlet open that day, in the order's
        county if it has one, else in its city)."""
        n = len(city)
        p = self.world.params
        wait = np.where(
            rng.random(n) < 0.2,
            0,
            np.clip(np.ceil(rng.exponential(p.outlet_wait_s[city])), 1, 3600),
        ).astype(np.int64)
        handle = np.clip(lognormal(rng, p.outlet_handle_s[city], 0.5, n), 30, 3600).astype(np.int64)
        wait = np.where(at_outlet & (rng.random(n) >= 0.03), wait, NULL_INT)
        handle = np.where(at_outlet & (rng.random(n) >= 0.01), handle, NULL_INT)
        outlets = self.world.outlets
        open_ = outlets.open_on(day_number(d))
        cw = np.cumsum(OUTLET_TYPE_WEIGHT[outlets.type[open_]])
        c0 = np.concatenate([[0.0], cw])
        ca = county_arrays()
        ocounty = outlets.county[open_]
        k_lo = np.searchsorted(ocounty, np.arange(len(ca.codes)), side="left")
        k_hi = np.searchsorted(ocounty, np.arange(len(ca.codes)), side="right")
        lo, hi = k_lo[county], k_hi[county]
        empty = lo == hi
        lo = np.where(empty, k_lo[ca.start[city]], lo)
        hi = np.where(empty, k_hi[ca.stop[city] - 1], hi)
        u = c0[lo] + rng.random(n) * (c0[hi] - c0[lo])
        pick = np.clip(np.searchsorted(cw, u, side="right"), lo, np.maximum(hi - 1, lo))
        chosen = outlets.outlet_id[open_][np.minimum(pick, len(open_) - 1)]
        return wait, handle, np.where(at_outlet & (hi > lo), chosen, b"")
