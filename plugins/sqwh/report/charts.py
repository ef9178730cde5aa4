"""Charts of the report as inline SVG (matplotlib), readable offline and in any browser.

Text stays text (``svg.fonttype = 'none'``): this machine has no CJK font for matplotlib to
draw glyphs with, so the browser shapes the Chinese city names with its own fonts. Chart
text is otherwise short and in English; the Chinese explanations live in the HTML around
the chart. Output is deterministic (fixed hash salt per chart, no date), so the same
publication renders to byte-identical reports.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from decimal import Decimal

import matplotlib
from matplotlib.figure import Figure

FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "DejaVu Sans"]
MET, MISSED, NEUTRAL = "#2e7d32", "#c62828", "#5b7fa6"
TARGET_COLOUR, PROVINCE_COLOUR = "#e65100", "#455a64"
SIGNS = {">=": "≥", "<=": "≤"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | None
    meets_target: bool | None


@dataclass(frozen=True)
class TrendPoint:
    period: str
    province: Decimal | None
    city_min: Decimal | None
    city_max: Decimal | None


@dataclass(frozen=True)
class ChartSpec:
    """One indicator's chart: cities against the target, and the province across periods."""

    key: str  # unique in the report; salts the SVG ids so inline SVGs never clash
    period: str
    bars: list[Bar]
    province: Decimal | None
    target: Decimal | None
    comparison: str | None
    trend: list[TrendPoint]
    decimals: int = 2
    # counts add up over cities: the province total is not on the cities' scale
    additive: bool = False


def _colour(meets: bool | None) -> str:
    return NEUTRAL if meets is None else MET if meets else MISSED


def _floor(values: list[float]) -> float:
    """Bottom of the value axis: 0, unless all values sit high (rates near 100 %), where a
    zero base would hide every difference between cities."""
    lo, hi = min(values), max(values)
    if lo <= 0 or lo < 0.5 * hi:
        return 0.0
    span = max(hi - lo, 0.1 * hi)
    return max(0.0, lo - 0.35 * span)


def _draw_bars(ax, spec: ChartSpec) -> None:
    values = [float(b.value) if b.value is not None else None for b in spec.bars]
    present = [v for v in values if v is not None]
    province = None if spec.additive else spec.province
    refs = present + [float(x) for x in (spec.target, province) if x is not None]
    bottom = _floor(refs) if refs else 0.0
    top = max(refs) if refs else 1.0
    xs = range(len(spec.bars))
    heights = [(v - bottom) if v is not None else 0 for v in values]
    ax.bar(
        xs, heights, bottom=bottom, color=[_colour(b.meets_target) for b in spec.bars], width=0.7
    )
    for x, v in zip(xs, values, strict=True):
        text = "n/a" if v is None else f"{v:.{spec.decimals}f}"
        ax.text(x, (v if v is not None else bottom), text, ha="center", va="bottom", fontsize=7)
    if spec.target is not None:
        ax.axhline(
            float(spec.target),
            color=TARGET_COLOUR,
            linestyle="--",
            linewidth=1.2,
            label=f"target {SIGNS.get(spec.comparison or '', '')} {spec.target:g}",
        )
    if province is not None:
        ax.axhline(
            float(province),
            color=PROVINCE_COLOUR,
            linestyle=":",
            linewidth=1.2,
            label=f"province {province:.{spec.decimals}f}",
        )
    ax.set_ylim(bottom, top + 0.12 * (top - bottom or 1))
    ax.set_xticks(list(xs), [b.label for b in spec.bars], rotation=40, ha="right", fontsize=8)
    ax.set_title(f"cities {spec.period}", fontsize=9, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    if spec.target is not None or province is not None:
        ax.legend(fontsize=7, loc="lower right", framealpha=0.9)


def _draw_trend(ax, spec: ChartSpec) -> None:
    xs = list(range(len(spec.trend)))
    labels = [t.period for t in spec.trend]
    lows = [float(t.city_min) if t.city_min is not None else float("nan") for t in spec.trend]
    highs = [float(t.city_max) if t.city_max is not None else float("nan") for t in spec.trend]
    if not spec.additive:
        # the spread of city values per half year, as a thick translucent bar behind the line
        ax.vlines(xs, lows, highs, color=NEUTRAL, alpha=0.3, linewidth=10, label="city range")
    prov = [float(t.province) if t.province is not None else float("nan") for t in spec.trend]
    ax.plot(xs, prov, marker="o", color=PROVINCE_COLOUR, label="province")
    for x, v in zip(xs, prov, strict=True):
        if v == v:  # not NaN
            ax.annotate(
                f"{v:.{spec.decimals}f}",
                (x, v),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
            )
    if spec.target is not None:
        ax.axhline(float(spec.target), color=TARGET_COLOUR, linestyle="--", linewidth=1.2)
    ax.set_xticks(xs, labels, fontsize=8)
    ax.set_xlim(-0.5, max(len(xs) - 0.5, 0.5))
    ax.margins(y=0.25)
    seen = [v for v in prov + lows if v == v]
    if spec.additive and seen:
        ax.set_ylim(0, max(seen) * 1.2)  # a count drawn from zero: small changes look small
    elif ax.get_ylim()[0] < 0 <= min(seen, default=0):
        ax.set_ylim(bottom=0)  # margins must not invent negative rates
    ax.set_title("trend", fontsize=9, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7, loc="best", framealpha=0.9)


def render_svg(spec: ChartSpec) -> str:
    """The chart as an ``<svg>`` element ready to inline into HTML (no XML prolog)."""
    rc = {
        "svg.fonttype": "none",
        "svg.hashsalt": f"sqwh-report-{spec.key}",
        "font.family": ["sans-serif"],
        "font.sans-serif": FONTS,
        "axes.titlesize": 9,
        "ytick.labelsize": 8,
    }
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        # layout is measured with DejaVu Sans, which lacks CJK glyphs; the browser draws them
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        # fixed margins: constrained layout would cost a third of the report's render time
        fig = Figure(figsize=(9.6, 3.4))
        fig.subplots_adjust(left=0.06, right=0.99, top=0.91, bottom=0.2, wspace=0.14)
        bars_ax, trend_ax = fig.subplots(1, 2, width_ratios=[2.7, 1])
        _draw_bars(bars_ax, spec)
        _draw_trend(trend_ax, spec)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    # drop the XML prolog and the RDF metadata block (namespace URLs, no content)
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    return text[text.index("<svg") :]
