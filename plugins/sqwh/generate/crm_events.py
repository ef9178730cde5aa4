"""CRM daily events: CRM_COMPLAINT, CRM_SURVEY and CRM_CARE.

Complaints: regulator appeals (申诉) at ~16 per million subscribers a quarter (a floor of
1.5 per city a half year keeps every city in the table at small scales); handling median
14-32 h by city (regulator cases ~5 days); ~1.5 % still open (close_time and result
empty); ~10 % from people who are not customers (customer_id empty).
Care: ~86-97 % of high-value customers get at least one contact in the half year (drawn
once per period, then delivered day by day), plus some mid-value customers.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from sqwh.generate.daily import DailyProducer, by_city, lognormal
from sqwh.generate.geography import CITY_CODES, N_CITIES
from sqwh.generate.people import other_numbers
from sqwh.generate.profiles import SPRING_FESTIVAL, day_share, sample_tod
from sqwh.generate.scales import PRODUCTS
from sqwh.generate.table import DAY, NULL_INT, Table, choose, day_number, day_start, ids, labels
from sqwh.generate.world import World
from sqwh.period import Period

SOURCES = labels(("HOTLINE", "ONLINE", "OUTLET", "REGULATOR"))
REGULATOR = 3
CATEGORIES = labels(("BILLING", "SERVICE", "NETWORK", "SPAM", "OTHER"))
CATEGORY_MIX = (0.30, 0.47, 0.19, 0.02, 0.02)
RESULTS = labels(("RESOLVED", "UNRESOLVED", "WITHDRAWN"))
REGULATOR_PER_MILLION_QUARTER = 16.0
REGULATOR_FLOOR_MONTH = 0.25


class Complaints(DailyProducer):
    entities = ("CRM_COMPLAINT",)

    def day(self, d: date) -> dict[str, Table]:
        w, p = self.world, self.world.params
        rng = w.rng("CRM_COMPLAINT", d.toordinal())
        subscribers = sum(w.subscribers(prod, d) for prod in PRODUCTS)
        appeals = np.maximum(
            subscribers * REGULATOR_PER_MILLION_QUARTER / 3e6, REGULATOR_FLOOR_MONTH
        )
        expected = np.concatenate(
            [w.scaled_daily("CRM_COMPLAINT", "office", d), appeals * day_share("office", d)]
        )
        cell = by_city(rng, expected)
        regulator = cell >= N_CITIES
        city = cell % N_CITIES
        n = len(city)
        source = np.where(regulator, REGULATOR, choose(rng, (0.55, 0.25, 0.20), n))
        tod = np.where(source == 1, sample_tod(rng, n, "online"), sample_tod(rng, n, "office"))
        accept = day_start(d) + tod
        customer = w.customers.pick(rng, city, day_number(d))
        known = rng.random(n) < 0.9
        first = accept + np.clip(
            lognormal(rng, np.where(regulator, 4.0, 1.5) * 3600, 0.8, n), 60, 5 * DAY
        )
        handling = np.where(
            regulator,
            np.clip(lognormal(rng, 5.0 * DAY, 0.55, n), DAY, 40 * DAY),
            np.clip(lognormal(rng, p.complaint_median_h[city] * 3600, 0.75, n), 600, 30 * DAY),
        )
        close = np.maximum(accept + handling, first + 60).astype(np.int64)
        u = rng.random(n)
        result = np.where(u < 0.03, 2, np.where(u < 0.03 + p.complaint_resolved[city], 0, 1))
        still_open = rng.random(n) < 0.015
        table = Table(
            {
                "customer_id": np.where(known, w.customers.customer_ids(customer), b""),
                "phone": np.where(known, w.customers.mobile(customer), other_numbers(rng, n)),
                "city_code": CITY_CODES[city],
                "source": SOURCES[source],
                "category": CATEGORIES[choose(rng, CATEGORY_MIX, n)],
                "accept_time": accept,
                "first_response_time": first.astype(np.int64),
                "close_time": np.where(still_open, NULL_INT, close),
                "result": np.where(still_open, b"", RESULTS[result]),
            }
        ).sorted_by("accept_time")
        table.columns = {"complaint_id": ids("CP", d, n, 6), **table.columns}
        return {"CRM_COMPLAINT": table}


TOUCHPOINTS = labels(("OUTLET", "HOTLINE", "FIELD"))
LOW_SCORES = (1, 1, 1, 2, 3, 6, 8, 12)  # weights of 0..7


class Surveys(DailyProducer):
    """CRM satisfaction surveys, 0-10; 80-92 % score 8 or more depending on the city."""

    entities = ("CRM_SURVEY",)

    def day(self, d: date) -> dict[str, Table]:
        w, p = self.world, self.world.params
        rng = w.rng("CRM_SURVEY", d.toordinal())
        city = by_city(rng, w.scaled_daily("CRM_SURVEY", "office", d))
        n = len(city)
        high = rng.random(n) < p.crm_sat[city]
        score = np.where(high, choose(rng, (0.25, 0.30, 0.45), n) + 8, choose(rng, LOW_SCORES, n))
        customer = w.customers.pick(rng, city, day_number(d))
        known = rng.random(n) < 0.95
        table = Table(
            {
                "survey_id": ids("SV", d, n, 7),
                "customer_id": np.where(known, w.customers.customer_ids(customer), b""),
                "touchpoint": TOUCHPOINTS[choose(rng, (0.40, 0.35, 0.25), n)],
                "city_code": CITY_CODES[city],
                "survey_time": np.sort(day_start(d) + sample_tod(rng, n, "office")),
                "score": score,
            }
        )
        return {"CRM_SURVEY": table}


CHANNELS = labels(("PHONE", "SMS", "VISIT", "WECHAT"))
CAMPAIGNS = np.array(
    [
        "高价值客户季度回访",
        "合约到期维系",
        "春节关怀",
        "生日关怀",
        "流量套餐升级推荐",
        "宽带续约提醒",
    ]
)
OUTCOMES = labels(("REACHED", "NOT_REACHED", "ACCEPTED_OFFER", "REFUSED"))


class Care(DailyProducer):
    """Care contacts: the period's schedule is drawn once (high-value customers who joined
    by the period's last day), then each day's file takes that day's contacts."""

    entities = ("CRM_CARE",)

    def __init__(self, world: World, period: Period) -> None:
        super().__init__(world, period)
        self._schedule = self._draw()
        self._times = self._schedule["contact_time"]

    def _targets(self, last: int) -> tuple[np.ndarray, np.ndarray]:
        cust = self.world.customers
        high, mid = [], []
        for chunk in range(cust.chunks):
            idx = cust.chunk_range(chunk)
            tier = cust.tiers(chunk)[: len(idx)]
            ok = cust.is_joined(idx, last)
            high.append(idx[ok & (tier == 0)])
            mid.append(idx[ok & (tier == 1)])
        return np.concatenate(high), np.concatenate(mid)

    def _draw(self) -> Table:
        w, cust = self.world, self.world.customers
        rng = w.rng("CRM_CARE", self.period.year * 2 + self.period.half)
        first, last = day_number(self.period.first_day), day_number(self.period.last_day)
        high, mid = self._targets(last)
        covered = high[rng.random(len(high)) < w.params.care_cover[cust.city_of(high)]]
        contacts = 1 + rng.poisson(0.6, len(covered))
        who = np.concatenate([np.repeat(covered, contacts), mid[rng.random(len(mid)) < 0.08]])
        n = len(who)
        city = cust.city_of(who)
        joined = cust.join_days(city, who - cust.start[city])
        lo = np.maximum(first, joined)
        day = lo + (rng.random(n) * (last - lo + 1)).astype(np.int64)
        time = day * DAY + sample_tod(rng, n, "office")
        campaign = rng.choice([0, 1, 3, 4, 5], n)
        festival = SPRING_FESTIVAL.get(self.period.year)
        if festival is not None:  # Spring Festival greetings in the three weeks before it
            before = day_number(festival) - day
            campaign = np.where((before >= 0) & (before <= 21) & (rng.random(n) < 0.5), 2, campaign)
        table = Table(
            {
                "customer_id": cust.customer_ids(who),
                "contact_time": time,
                "channel": CHANNELS[choose(rng, (0.55, 0.20, 0.10, 0.15), n)],
                "campaign": CAMPAIGNS[campaign],
                "outcome": OUTCOMES[choose(rng, (0.60, 0.20, 0.12, 0.08), n)],
                "_city_code": CITY_CODES[city],
            }
        )
        return table.sorted_by("contact_time")

    def day(self, d: date) -> dict[str, Table]:
        dn = day_number(d)
        lo, hi = np.searchsorted(self._times, [dn * DAY, (dn + 1) * DAY])
        table = self._schedule.take(np.arange(lo, hi))
        table.columns = {"contact_id": ids("K", d, len(table), 7), **table.columns}
        return {"CRM_CARE": table}
