"""Scales and volumes: how many rows the generator makes of each entity.

A scale is a fraction of the province volumes of extracts.md (one half year of a province of
~15 M subscribers). Small scales keep per-city floors so that every city still has every kind
of item each month (a report table with an empty city is a test failure, not realism).
"""

from __future__ import annotations

SCALES: dict[str, float] = {
    "XS": 0.0005,  # unit tests: a half year in ~2 s
    "S": 0.002,  # demo default
    "M": 0.02,  # integration / performance
}

# Rows per half year at fraction 1 (extracts.md). BSS_FAULT, BSS_BILL_ADJ, CC_SURVEY and
# CRM_CARE are derived from lines, bills, answered calls and high-value customers instead.
PROVINCE_VOLUME: dict[str, float] = {
    "CC_CALL": 30e6,
    "BSS_ORDER": 20e6,
    "CRM_COMPLAINT": 0.3e6,
    "CC_SPAM_REPORT": 0.5e6,
    "CRM_SURVEY": 0.6e6,
    "CRM_CUSTOMER": 15e6,
    "CRM_OUTLET": 7e3,
}

# Minimum expected rows per city per month, whatever the scale.
CITY_MONTH_FLOOR: dict[str, float] = {
    "CC_CALL": 60.0,
    "BSS_ORDER": 40.0,
    "BSS_FAULT": 4.0,
    "CRM_COMPLAINT": 3.0,
    "CC_SPAM_REPORT": 3.0,
    "CRM_SURVEY": 4.0,
}

# Subscribers in service by product at fraction 1, January 2019 (reference-data.md's
# 5.0/2.5/0.8/1.5 M mix, scaled to the 15 M subscribers of extracts.md).
PRODUCTS = ("FIXED", "BROADBAND", "MOBILE", "IPTV")
SUBSCRIBERS: dict[str, float] = {
    "FIXED": 1.22e6,
    "BROADBAND": 3.83e6,
    "MOBILE": 7.65e6,
    "IPTV": 2.30e6,
}
LINES_PER_SUBSCRIBER: dict[str, float] = {
    "FIXED": 1.12,
    "BROADBAND": 1.02,
    "MOBILE": 1.18,
    "IPTV": 1.06,
}
MONTHLY_GROWTH: dict[str, float] = {
    "FIXED": 0.992,
    "BROADBAND": 1.006,
    "MOBILE": 1.002,
    "IPTV": 1.008,
}
ARPU_FEN: dict[str, float] = {"FIXED": 2100, "BROADBAND": 5200, "MOBILE": 4200, "IPTV": 1500}
# How strongly a product's penetration follows a city's urban share.
URBAN_ELASTICITY: dict[str, float] = {"FIXED": 1.0, "BROADBAND": 0.8, "MOBILE": 0.0, "IPTV": 0.5}


def resolve_scale(scale: str | float) -> float:
    """A named scale (XS, S, M; any case) or a positive fraction (float or numeric string)."""
    if isinstance(scale, str):
        key = scale.strip().upper()
        if key in SCALES:
            return SCALES[key]
        try:
            value = float(scale)
        except ValueError:
            raise ValueError(
                f"unknown scale {scale!r}; use one of {', '.join(SCALES)} or a fraction such as 0.01"
            ) from None
    else:
        value = float(scale)
    if not value > 0:
        raise ValueError(
            f"scale must be a positive fraction of the province volumes, got {scale!r}"
        )
    return value
