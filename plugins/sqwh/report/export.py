"""The published figures of a half year as a CSV file a spreadsheet opens safely.

One row per published figure, with the indicator's and city's names beside the codes. Text
that came from extracts (city names, breakdown values, reasons) may start with ``=``, ``+``,
``-`` or ``@``: Excel and LibreOffice would run it as a formula (``=HYPERLINK(...)`` leaks
data when clicked). Such a text cell is written with a leading apostrophe, the spreadsheet
convention for "this is text"; numbers, negative ones included, stay numbers. UTF-8 with a
byte order mark, so Excel reads the Chinese names right.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

from sqwh.report.cells import exact
from sqwh.report.data import ReportData

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")

COLUMNS = [
    "period",
    "publication_id",
    "indicator_code",
    "indicator_name_zh",
    "indicator_name_en",
    "geo_level",
    "city_code",
    "city_name",
    "breakdown_type",
    "breakdown",
    "numerator",
    "denominator",
    "value",
    "unit",
    "target",
    "comparison",
    "meets_target",
    "previous_value",
    "change",
    "null_reason",
]


def inert(value: object) -> str:
    """A cell's text, never read as a formula by a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return exact(value)
    text = str(value)
    if text.startswith(FORMULA_START) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def rows(data: ReportData) -> list[list[str]]:
    out = []
    for f in data.figures:
        indicator = data.catalogue.get(f.indicator_code)
        values = {
            "period": data.period,
            "publication_id": data.publication.publication_id,
            "indicator_name_zh": indicator.name_zh if indicator else None,
            "indicator_name_en": indicator.name_en if indicator else None,
            "city_name": data.cities.get(f.city_code) if f.city_code else None,
            **{c: getattr(f, c) for c in COLUMNS if hasattr(f, c)},
        }
        out.append([inert(values[c]) for c in COLUMNS])
    return out


def write_csv(data: ReportData, target: Path) -> int:
    """Write the CSV next to a temporary name and rename it; returns the number of rows."""
    table = rows(data)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(COLUMNS)
        writer.writerows(table)
    tmp.replace(target)
    return len(table)
