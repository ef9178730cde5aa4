"""The simulated operator: per-city performance, customers, outlets and subscriber base.

Everything here is a deterministic function of (seed, fraction) only, never of the period;
events are then drawn per business day against this world, each day from its own random
stream, so a day's files are the same whichever period's run writes them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np

from sqwh.generate.customers import Customers
from sqwh.generate.geography import N_CITIES, SHARE, URBAN
from sqwh.generate.outlets import Outlets, build_outlets
from sqwh.generate.profiles import day_share, month_index
from sqwh.generate.scales import (
    CITY_MONTH_FLOOR,
    LINES_PER_SUBSCRIBER,
    MONTHLY_GROWTH,
    PROVINCE_VOLUME,
    SUBSCRIBERS,
    URBAN_ELASTICITY,
)
from sqwh.registry import load_registry


@dataclass(frozen=True)
class CityParams:
    """Per-city service performance (arrays over the 11 cities), so cities differ the way
    real ones do and some meet a target while others miss it."""

    answer15: np.ndarray  # 15-s answer rate the hotline is calibrated to
    abandon: np.ndarray  # share of agent requests abandoned
    short_abandon: np.ndarray  # share of abandons within 5 s
    agent_share: np.ndarray  # share of 10000 calls that ask for an agent
    fcr_repeat: np.ndarray  # share of answered calls followed by a repeat within 48 h
    survey_response: np.ndarray
    survey_sat: np.ndarray  # share of survey scores 4-5
    repair_urban_h: np.ndarray  # median repair hours
    repair_rural_h: np.ndarray
    repair_tail: np.ndarray  # share beyond the repair time limit
    fault_rate: np.ndarray  # faults per 100 fixed+broadband lines a month
    fault_repeat: np.ndarray  # share of faults followed by a repeat within 30 days
    install_median_h: np.ndarray
    install_tail: np.ndarray  # share of installs taking 5-15 days
    resume_median_min: np.ndarray
    outlet_wait_s: np.ndarray  # mean queue wait when there is one
    outlet_handle_s: np.ndarray  # median handling time
    complaint_median_h: np.ndarray
    complaint_resolved: np.ndarray
    spam_median_h: np.ndarray
    care_cover: np.ndarray  # share of high-value customers contacted per half year
    crm_sat: np.ndarray  # share of CRM survey scores >= 8
    billing_error: np.ndarray  # billing-error adjustments as a share of billed amounts
    arpu: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator) -> CityParams:
        ranges = {
            "answer15": (0.855, 0.93),
            "abandon": (0.03, 0.08),
            "short_abandon": (0.2, 0.3),
            "agent_share": (0.25, 0.40),
            "fcr_repeat": (0.11, 0.27),
            "survey_response": (0.2, 0.4),
            "survey_sat": (0.95, 0.985),
            "repair_urban_h": (5.0, 7.0),
            "repair_rural_h": (12.0, 18.0),
            "repair_tail": (0.005, 0.03),
            "fault_rate": (0.8, 1.6),
            "fault_repeat": (0.05, 0.13),
            "install_median_h": (4.0, 10.0),
            "install_tail": (0.015, 0.04),
            "resume_median_min": (1.5, 4.0),
            "outlet_wait_s": (240.0, 660.0),
            "outlet_handle_s": (240.0, 420.0),
            "complaint_median_h": (14.0, 32.0),
            "complaint_resolved": (0.86, 0.95),
            "spam_median_h": (3.0, 8.0),
            "care_cover": (0.86, 0.97),
            "crm_sat": (0.80, 0.92),
            "billing_error": (2e-5, 9e-5),
            "arpu": (0.9, 1.1),
        }
        return cls(**{k: rng.uniform(lo, hi, N_CITIES) for k, (lo, hi) in ranges.items()})


class World:
    """One simulated operator for a (seed, fraction)."""

    def __init__(self, seed: int, fraction: float) -> None:
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self.seed = seed
        self.fraction = fraction
        self.params = CityParams.draw(self.rng("params"))
        self.customers = Customers(seed, fraction)

    @cached_property
    def outlets(self) -> Outlets:
        return build_outlets(self.seed, self.fraction)

    def rng(self, stream: str, *keys: int) -> np.random.Generator:
        """The random stream named ``stream`` (an entity, or e.g. "spawn") for given keys,
        e.g. a day's ordinal, so files do not depend on the order they are generated in.
        Streams are keyed by name (CRC-32), so adding an entity changes no other's data."""
        return np.random.default_rng([self.seed, zlib.crc32(stream.encode()), *keys])

    def subscribers(self, product: str, day: date) -> np.ndarray:
        """Subscribers in service per city for a product in the month of ``day``."""
        e = URBAN_ELASTICITY[product]
        pen = 1.0 + e * (URBAN - float((SHARE * URBAN).sum()))
        pen = pen / float((SHARE * pen).sum())
        growth = MONTHLY_GROWTH[product] ** month_index(day)
        return SUBSCRIBERS[product] * self.fraction * SHARE * pen * growth

    def lines(self, product: str, day: date) -> np.ndarray:
        return self.subscribers(product, day) * LINES_PER_SUBSCRIBER[product]

    def scaled_daily(self, entity: str, kind: str, day: date, factor: float = 1.0) -> np.ndarray:
        """Expected rows per city on ``day`` for an entity with a province volume."""
        monthly = PROVINCE_VOLUME[entity] / 6.0 * self.fraction * SHARE * factor
        return self.floored_daily(entity, monthly, kind, day)

    def minimum_per_city_day(self, entity: str) -> int:
        """Dense sources (registry ``city_day_coverage``) get a few items in every city every
        day, even at tiny scales: the gate refuses a period with an empty city-day."""
        return 3 if load_registry().entity(entity).city_day_coverage else 0

    def floored_daily(self, entity: str, monthly: np.ndarray, kind: str, day: date) -> np.ndarray:
        monthly = np.maximum(monthly, CITY_MONTH_FLOOR.get(entity, 0.0))
        return monthly * day_share(kind, day)
