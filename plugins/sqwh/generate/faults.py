"""BSS_FAULT: fault tickets, their repair times and repeat faults.

Volume follows the fault rate per 100 fixed + broadband lines a month (0.8-1.6 by city,
higher in summer and in rural areas), so FT_RATE reads like the reference data. Repair time
is lognormal (median 5-7 h urban, 12-18 h rural); repairs that would finish at night wait
for the morning shift; a 0.5-3 % tail runs past the 48 h / 72 h limit; ~0.5 % are still
open (restore_time empty). 5-13 % of restored faults come back on the same line within 30
days (a new ticket whose report_time is after the previous restore_time). ~0.1 % of rows
are delivered twice, identical.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from sqwh.generate.daily import DailyProducer, ExactDuplicates, Landing, by_city, lognormal
from sqwh.generate.geography import CITY_CODES, county_arrays, sample_counties
from sqwh.generate.profiles import next_morning, sample_tod
from sqwh.generate.table import DAY, NULL_INT, Table, choose, day_number, day_start, ids, labels
from sqwh.generate.world import World
from sqwh.period import Period

PRODUCT_MIX = (0.18, 0.62, 0.08, 0.12)  # FIXED, BROADBAND, MOBILE, IPTV
PRODUCT_LABELS = labels(("FIXED", "BROADBAND", "MOBILE", "IPTV"))
SOURCES = labels(("10000", "APP", "PROACTIVE"))
CLASSES = labels(("LINE", "EQUIPMENT", "ACCOUNT", "NETWORK", "USER_SIDE", "OTHER"))
CLASS_MIX = (0.30, 0.25, 0.10, 0.15, 0.15, 0.05)
AREA = labels(("RURAL", "URBAN"))
SEASON = {5: 1.1, 6: 1.25, 7: 1.3, 8: 1.25, 9: 1.1}
RURAL_BOOST = 1.3  # rural lines fail more often
MAX_REPAIR = 12 * DAY
REPEAT_WINDOW = 30 * DAY


class Faults(DailyProducer):
    entities = ("BSS_FAULT",)
    lookback = 46  # a repeat lands up to 12 + 30 days after its origin; plus resent rows

    def __init__(self, world: World, period: Period) -> None:
        super().__init__(world, period)
        self.repeats = Landing()
        self.dupes = ExactDuplicates()

    def day(self, d: date) -> dict[str, Table]:
        base = self._base(d)
        self._spawn_repeats(d, base)
        table = Table.concat([base, *self.repeats.pop(day_number(d))]).sorted_by("report_time")
        table.columns = {"ticket_id": ids("F", d, len(table), 7), **table.columns}
        return {"BSS_FAULT": self.dupes.apply(self.world.rng("dupes", 2, d.toordinal()), table)}

    def _expected(self, d: date) -> np.ndarray:
        w, p = self.world, self.world.params
        lines = w.lines("FIXED", d) + w.lines("BROADBAND", d)
        monthly = lines * p.fault_rate / 100 * SEASON.get(d.month, 1.0) / (1 + p.fault_repeat)
        return w.floored_daily("BSS_FAULT", monthly, "fault", d)

    def _base(self, d: date) -> Table:
        w = self.world
        rng = w.rng("BSS_FAULT", d.toordinal())
        city = by_city(rng, self._expected(d))
        n = len(city)
        county = sample_counties(rng, city)
        pu = county_arrays().urban_p[county]
        urban = rng.random(n) < pu / (pu + RURAL_BOOST * (1 - pu))
        product = choose(rng, PRODUCT_MIX, n)
        customer = w.customers.pick(rng, city, day_number(d))
        source = choose(rng, (0.55, 0.30, 0.15), n)
        tod = np.where(source == 2, sample_tod(rng, n, "flat"), sample_tod(rng, n, "fault"))
        report = day_start(d) + tod
        return self._ticket(
            rng,
            city,
            county,
            urban,
            product,
            w.customers.line_numbers(customer, product),
            source,
            report,
        )

    def _ticket(
        self,
        rng: np.random.Generator,
        city: np.ndarray,
        county: np.ndarray,
        urban: np.ndarray,
        product: np.ndarray,
        line_no: np.ndarray,
        source: np.ndarray,
        report: np.ndarray,
    ) -> Table:
        n = len(city)
        restore = self._restore(rng, city, urban, report)
        restore = np.where(rng.random(n) < 0.005, NULL_INT, restore)
        return Table(
            {
                "line_no": line_no,
                "product": PRODUCT_LABELS[product],
                "city_code": CITY_CODES[city],
                "county_code": county_arrays().codes[county],
                "area_type": AREA[urban.astype(np.int64)],
                "report_time": report,
                "restore_time": restore,
                "fault_class": CLASSES[choose(rng, CLASS_MIX, n)],
                "source": SOURCES[source],
                "_city": city,
                "_county": county,
                "_urban": urban,
                "_product": product,
            }
        )

    def _restore(
        self, rng: np.random.Generator, city: np.ndarray, urban: np.ndarray, report: np.ndarray
    ) -> np.ndarray:
        n = len(city)
        p = self.world.params
        median = np.where(urban, p.repair_urban_h[city], p.repair_rural_h[city]) * 3600
        t = report + np.clip(lognormal(rng, median, 0.8, n), 900, MAX_REPAIR).astype(np.int64)
        tod = t % DAY
        night = ((tod >= 20 * 3600) | (tod < 8 * 3600)) & (rng.random(n) < 0.75)
        t = np.where(night, next_morning(t) + rng.integers(0, 9000, n), t)
        limit = np.where(urban, 48, 72) * 3600
        late = rng.random(n) < p.repair_tail[city]
        t = np.where(late, report + limit + rng.integers(3600, 4 * DAY, n), t)
        return np.minimum(t, report + MAX_REPAIR)

    def _spawn_repeats(self, d: date, base: Table) -> None:
        """The same line fails again within 30 days of the restore."""
        rng = self.world.rng("spawn", 2, d.toordinal())
        city = base["_city"]
        chosen = (base["restore_time"] != NULL_INT) & (
            rng.random(len(city)) < self.world.params.fault_repeat[city]
        )
        src = base.take(np.flatnonzero(chosen))
        k = len(src)
        gap = 3600 + np.minimum(rng.exponential(7 * DAY, k), REPEAT_WINDOW - 2 * 3600).astype(
            np.int64
        )
        report = src["restore_time"] + gap
        source = choose(rng, (0.6, 0.4), k)
        child = self._ticket(
            rng,
            src["_city"],
            src["_county"],
            src["_urban"],
            src["_product"],
            src["line_no"],
            source,
            report,
        )
        self.repeats.add(child, report)
