"""BSS_BILL (monthly, one row per city x product) and BSS_BILL_ADJ (daily adjustments).

Subscribers and lines follow the scaled base of scales.py (urban cities have more fixed and
broadband lines, products grow or shrink month by month), so FT_RATE, CP_RATE and
BL_ERROR_RATE denominators agree with the event volumes. Billing-error adjustments are
2-9 per 100,000 of billed amounts by city (the regulation's limit is 10), with a floor of
half an adjustment per city and month so small scales still have some.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np

from sqwh.generate.daily import DailyProducer, by_city
from sqwh.generate.geography import CITY_CODES, N_CITIES
from sqwh.generate.profiles import day_share, month_last_day, sample_tod
from sqwh.generate.scales import ARPU_FEN, PRODUCTS
from sqwh.generate.table import Table, choose, day_number, day_start, ids, labels
from sqwh.generate.world import World
from sqwh.period import Period

REASONS = labels(("BILLING_ERROR", "GOODWILL", "OTHER"))
AMOUNT_MEDIAN_FEN = np.array([1200.0, 2000.0, 1500.0])
AMOUNT_SIGMA = np.array([0.8, 0.7, 1.0])
REASON_VOLUME = np.array([1.0, 1.5, 0.5])  # relative to billing errors
REASON_FLOOR = np.array([0.5, 0.5, 0.25])  # per city and month


def billed_fen(world: World, day: date) -> np.ndarray:
    """Expected billed amount per city in the month of ``day`` (all products)."""
    return sum(world.lines(p, day) * ARPU_FEN[p] for p in PRODUCTS) * world.params.arpu


def bill_files(world: World, period: Period) -> Iterator[tuple[date, Table]]:
    """One BSS_BILL table per bill month, dated the month's last day."""
    for ym in period.months:
        year, month = int(ym[:4]), int(ym[4:])
        first = date(year, month, 1)
        rng = world.rng("BSS_BILL", year * 12 + month)
        city = np.repeat(np.arange(N_CITIES), len(PRODUCTS))
        product = np.tile(np.arange(len(PRODUCTS)), N_CITIES)
        subs = np.stack([world.subscribers(p, first) for p in PRODUCTS], axis=1).ravel()
        ratio = np.stack(
            [world.lines(p, first) / world.subscribers(p, first) for p in PRODUCTS], axis=1
        ).ravel()
        subs_i = np.maximum(1, np.round(subs)).astype(np.int64)
        lines = np.maximum(
            subs_i, np.round(subs_i * ratio * rng.normal(1.0, 0.01, len(city)))
        ).astype(np.int64)
        arpu = np.array([ARPU_FEN[p] for p in PRODUCTS])[product] * world.params.arpu[city]
        billed = np.round(lines * arpu * rng.normal(1.0, 0.02, len(city))).astype(np.int64)
        yield (
            month_last_day(year, month),
            Table(
                {
                    "city_code": CITY_CODES[city],
                    "bill_month": np.full(len(city), ym.encode()),
                    "product": labels(PRODUCTS)[product],
                    "billed_amount_fen": billed,
                    "subscribers_in_service": subs_i,
                    "lines_in_service": lines,
                }
            ),
        )


def _months_back(day: date, back: np.ndarray) -> np.ndarray:
    index = day.year * 12 + day.month - 1 - back
    return np.char.encode(np.char.mod("%06d", (index // 12) * 100 + index % 12 + 1), "ascii")


class BillAdjustments(DailyProducer):
    entities = ("BSS_BILL_ADJ",)

    def day(self, d: date) -> dict[str, Table]:
        w, p = self.world, self.world.params
        rng = w.rng("BSS_BILL_ADJ", d.toordinal())
        mean_error = float(AMOUNT_MEDIAN_FEN[0] * np.exp(AMOUNT_SIGMA[0] ** 2 / 2))
        errors = billed_fen(w, d) * p.billing_error / mean_error
        monthly = np.maximum(errors[:, None] * REASON_VOLUME[None, :], REASON_FLOOR[None, :])
        cell = by_city(rng, (monthly * day_share("office", d)).ravel())
        city, reason = cell // 3, cell % 3
        n = len(cell)
        confirmed = np.sort(day_start(d) + sample_tod(rng, n, "office"))
        spread = AMOUNT_SIGMA[reason] * rng.standard_normal(n)
        amount = np.maximum(1, np.round(AMOUNT_MEDIAN_FEN[reason] * np.exp(spread))).astype(
            np.int64
        )
        product = choose(rng, (0.10, 0.15, 0.75, 0.0), n)
        customer = w.customers.pick(rng, city, day_number(d))
        table = Table(
            {
                "adj_id": ids("ADJ", d, n, 6),
                "subscriber_no": w.customers.line_numbers(customer, product),
                "city_code": CITY_CODES[city],
                "bill_month": _months_back(d, (rng.random(n) < 0.7).astype(np.int64)),
                "amount_fen": amount,
                "reason": REASONS[reason],
                "confirmed_time": confirmed,
            }
        )
        return {"BSS_BILL_ADJ": table}
