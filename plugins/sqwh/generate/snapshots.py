"""CRM snapshots as of the period's last day: CRM_AREA, CRM_OUTLET, CRM_CUSTOMER.

A snapshot shows what was true on that day: outlets opened by then (close_date only if
they had closed by then), customers who had joined by then. CRM_CUSTOMER is produced in
chunks so a province-scale snapshot (15 M rows) never sits in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sqwh.generate.geography import CITIES, CITY_CODES, area_rows, county_arrays
from sqwh.generate.outlets import OUTLET_TYPES
from sqwh.generate.people import id_numbers, organisation_names, person_names
from sqwh.generate.table import NULL_INT, Table, day_number, labels
from sqwh.generate.world import World
from sqwh.period import Period

# Where customers born outside Shanxi come from (Hebei, Henan, Shaanxi, Inner Mongolia...).
OTHER_REGIONS = np.array(
    [b"130102", b"130402", b"410102", b"410302", b"610102", b"150102", b"370102"]
)
SEGMENTS = labels(("MASS", "VIP", "GOV_ENT"))
TIERS = labels(("HIGH", "MID", "LOW"))
CITY_NAMES = np.array([c.name for c in CITIES])


def area_table() -> Table:
    rows = area_rows()
    return Table(
        {
            "area_code": np.array([r[0].encode() for r in rows]),
            "area_name": np.array([r[1] for r in rows]),
            "level": np.array([r[2].encode() for r in rows]),
            "parent_code": np.array([r[3].encode() for r in rows]),
        }
    )


def outlet_table(world: World, period: Period) -> Table:
    o = world.outlets
    last = day_number(period.last_day)
    keep = np.flatnonzero(o.open_day <= last)
    closed = (o.close_day != NULL_INT) & (o.close_day <= last)
    ca = county_arrays()
    return Table(
        {
            "outlet_id": o.outlet_id,
            "outlet_name": o.name,
            "outlet_type": labels(OUTLET_TYPES)[o.type],
            "city_code": CITY_CODES[ca.city[o.county]],
            "county_code": ca.codes[o.county],
            "township_code": o.township,
            "open_date": o.open_day,
            "close_date": np.where(closed, o.close_day, NULL_INT),
            "services": o.services,
            "vip_counter": o.vip,
        }
    ).take(keep)


def customer_tables(world: World, period: Period) -> Iterator[Table]:
    """CRM_CUSTOMER rows chunk by chunk, in customer order (city blocks)."""
    cust = world.customers
    last = day_number(period.last_day)
    ca = county_arrays()
    for chunk in range(cust.chunks):
        idx = cust.chunk_range(chunk)
        m = len(idx)
        city = cust.city_of(idx)
        k = idx - cust.start[city]
        tier = cust.tiers(chunk)[:m]
        seg_u = cust.chunk_rng(chunk, 2).random(cust.CHUNK)[:m]
        segment = np.where(seg_u < 0.04, 2, np.where((tier == 0) & (seg_u < 0.70), 1, 0))
        rng = cust.chunk_rng(chunk, 3)
        person = person_names(rng, cust.CHUNK)[:m]
        org = organisation_names(rng, CITY_NAMES[city])
        name = np.where(segment == 2, org, person)
        join = cust.join_days(city, k)
        rng = cust.chunk_rng(chunk, 4)
        span = ca.stop[city] - ca.start[city]
        local = ca.codes[ca.start[city] + (rng.random(cust.CHUNK)[:m] * span).astype(np.int64)]
        outside = OTHER_REGIONS[rng.integers(0, len(OTHER_REGIONS), cust.CHUNK)[:m]]
        region = np.where(rng.random(cust.CHUNK)[:m] < 0.85, local, outside)
        birth = join - 16 * 365 - rng.integers(0, 50 * 365, cust.CHUNK)[:m]
        id_no = id_numbers(region, birth, rng.integers(0, 1000, cust.CHUNK)[:m])
        table = Table(
            {
                "customer_id": cust.customer_ids(idx),
                "name": name,
                "id_no": np.where(segment == 2, b"", id_no),
                "phone": cust.mobile(idx),
                "city_code": CITY_CODES[city],
                "segment": SEGMENTS[segment],
                "value_tier": TIERS[tier],
                "join_date": join,
            }
        )
        yield table.take(np.flatnonzero(k < cust.joined(last)[city]))
