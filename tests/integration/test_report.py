"""The half-year report (issue 7): its numbers are the published numbers, it is traceable,
self-contained, reproducible, and it renders in a headless browser.

One warehouse is built for this module, in its own state folder (its own embedded
PostgreSQL), with 2019H1 and 2019H2 published, so the report has a previous half year to
compare with. It is private to the module because other modules assert on what the shared
session warehouse has (or has not) published.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser import chromium_or_skip, ensure_cjk_font, screenshot
from tests.conftest import Sqwh, _state_env

PERIOD = "2019H2"
NUMBER = re.compile(r"[+-]?[\d,]+(?:\.\d+)?")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sqwh]:
    home = Path(tmp_path_factory.mktemp("sqwh-report"))
    sqwh = Sqwh(home=home, env=_state_env(home, None))
    landing = Path(tmp_path_factory.mktemp("landing-report"))
    try:
        for period in ("2019H1", PERIOD):
            sqwh(
                "generate",
                "--period",
                period,
                "--scale",
                "XS",
                "--seed",
                "7",
                "--out",
                str(landing),
            )
            sqwh("run", "--landing", str(landing), "--period", period)
        yield sqwh
    finally:
        sqwh("warehouse", "stop", check=False)


@pytest.fixture(scope="module")
def report(warehouse: Sqwh) -> Path:
    proc = warehouse("report", "--period", PERIOD)
    path = Path(proc.stdout.strip().splitlines()[-1].removeprefix("report: "))
    assert path == warehouse.home / "reports" / "report" / f"{PERIOD}.html"
    return path


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)
    depth: int = 0

    @property
    def content(self) -> str:
        return "".join(self.text).strip()


class ReportParser(HTMLParser):
    """Collects elements with data-field (figures, trace facts), ids and links."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (attribute, url)
        self.body: dict[str, str] = {}
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = a
        if "id" in a:
            self.ids.add(a["id"])
        for name in ("href", "src", "xlink:href"):
            if name in a:
                self.links.append((name, a[name]))
        for el in self._open:
            if el.tag == tag:
                el.depth += 1
        if "data-field" in a:
            el = Element(tag, a)
            self.elements.append(el)
            self._open.append(el)

    def handle_endtag(self, tag: str) -> None:
        for el in list(self._open):
            if el.tag == tag:
                if el.depth == 0:
                    self._open.remove(el)
                else:
                    el.depth -= 1

    def handle_data(self, data: str) -> None:
        for el in self._open:
            el.text.append(data)


def parse(path: Path) -> ReportParser:
    parser = ReportParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _shown(text: str) -> Decimal | None:
    """The number a reader sees in a cell ('1,085', '+0.82 ▲'); None for '—'."""
    m = NUMBER.search(text)
    return Decimal(m.group().replace(",", "")) if m else None


def _key(a: dict[str, str]) -> tuple[str, str, str, str, str]:
    return (
        a["data-indicator"],
        a["data-geo"],
        a["data-city"],
        a["data-breakdown-type"],
        a["data-breakdown"],
    )


@pytest.mark.slow
def test_report_numbers_equal_the_published_table(warehouse: Sqwh, report: Path) -> None:
    page = parse(report)
    cells: dict[tuple, list[Element]] = {}
    for el in page.elements:
        if "data-indicator" in el.attrs:
            cells.setdefault((*_key(el.attrs), el.attrs["data-field"]), []).append(el)
    with warehouse.connect() as conn:
        rows = conn.execute(
            """select indicator_code, geo_level, coalesce(city_code, ''), coalesce(breakdown_type, ''),
                      coalesce(breakdown, ''), value, target, previous_value, change, meets_target
               from reporting.half_year_indicators where period = %s""",
            (PERIOD,),
        ).fetchall()
        pub = conn.execute(
            """select publication_id, code_version, jsonb_array_length(input_files), validation_ids
               from audit.publication where publication_id =
                   (select max(publication_id) from reporting.half_year_indicators where period = %s)""",
            (PERIOD,),
        ).fetchone()
        pages = conn.execute(
            "select result_path from audit.validation_run where validation_id = any(%s)", (pub[3],)
        ).fetchall()
        catalogue = {
            r[0] for r in conn.execute("select indicator_code from marts.indicator_catalogue")
        }
    assert len(rows) > 24 * 12, "expected every indicator for the province and 11 cities"

    checked, mismatches = 0, []
    published = set()
    for code, geo, city, bt, b, value, target, previous, change, _ in rows:
        key = (code, geo, city, bt, b)
        published.add(key)
        fields = {"value": value}
        if geo == "PROVINCE" and not bt:  # the summary table shows these beside the value
            fields |= {"target": target, "previous_value": previous, "change": change}
        for name, expected in fields.items():
            found = cells.get((*key, name))
            if not found:
                mismatches.append((key, name, "missing from the report"))
                continue
            for el in found:
                attr = el.attrs["data-value"]
                got = Decimal(attr) if attr else None
                if got != expected or _shown(el.content) != expected:
                    mismatches.append((key, name, expected, attr, el.content))
                checked += 1
    assert not mismatches, f"{len(mismatches)} of {checked} cells differ: {mismatches[:10]}"
    assert {k[:5] for k in cells} == published, "the report shows figures that are not published"
    headline = {k for k in published if not k[3]}
    assert len(headline) == 24 * 12 and checked >= len(rows) + 3 * 24

    # missed targets: exactly the cities that missed, listed under their indicator
    missed = {(r[0], r[2]) for r in rows if r[1] == "CITY" and not r[3] and r[9] is False}
    listed = {
        (el.attrs["data-indicator"], el.attrs["data-city"])
        for el in page.elements
        if el.tag == "li"
    }
    assert missed and listed == missed

    # traceability: publication, code version, input files, definitions, validation pages
    facts = {
        el.attrs["data-field"]: el.content
        for el in page.elements
        if "data-indicator" not in el.attrs
    }
    assert facts["publication_id"] == str(pub[0]) == page.body["data-publication-id"]
    assert facts["code_version"] == pub[1]
    assert facts["input_file_count"] == str(pub[2]) and pub[2] > 0
    assert {f"def-{c}" for c in {k[0] for k in published}} <= page.ids
    assert {k[0] for k in published} <= catalogue
    hrefs = {url for attr, url in page.links if attr == "href"}
    for (result_path,) in pages:
        linked = [u for u in hrefs if (report.parent / u).resolve() == Path(result_path).resolve()]
        assert linked, f"no link to validation page {result_path}"
        assert Path(result_path).exists()


@pytest.mark.slow
def test_report_is_self_contained_and_reproducible(warehouse: Sqwh, report: Path) -> None:
    page = parse(report)
    external = [u for _, u in page.links if urlparse(u).scheme in ("http", "https", "ftp", "//")]
    assert not external, f"the report must not load anything from the network: {external[:5]}"
    text = report.read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert text.count("<svg") >= 24 and "<text" in text, "charts are inline SVG with text"
    first = report.read_bytes()
    warehouse("report", "--period", PERIOD)
    assert report.read_bytes() == first, "re-rendering one publication changed the report"
    proc = warehouse("report", "--period", "2018H2", check=False)
    assert proc.returncode == 1 and "nothing is published for 2018H2" in proc.stderr


@pytest.mark.slow
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    from PIL import Image

    browser = chromium_or_skip()
    font_problem = ensure_cjk_font()
    if font_problem:
        print(f"{font_problem}; Chinese text shows as boxes, numbers are what is checked")
    png = tmp_path / "report.png"
    proc = screenshot(browser, report, png, width=1280, height=2400)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert png.exists() and png.stat().st_size > 20_000
    with Image.open(png) as im:
        assert im.size == (1280, 2400)
        grey = im.convert("L")
        pixels = grey.width * grey.height
        ink = sum(n for level, n in enumerate(grey.histogram()) if level < 235)
    assert ink / pixels > 0.05, f"only {ink / pixels:.1%} of the screenshot is not white"


def test_arrows_follow_the_sense_of_the_target() -> None:
    from sqwh.report.cells import direction, fmt_target

    assert direction(Decimal("0.82"), ">=") == ("▲", "good")
    assert direction(Decimal("0.82"), "<=") == ("▲", "bad")
    assert direction(Decimal("-3"), None) == ("▼", "neutral")
    assert direction(Decimal("0"), ">=") == ("=", "flat")
    assert direction(None, ">=") == ("", "")
    assert fmt_target(Decimal("95"), ">=") == "≥ 95" and fmt_target(None, None) == "—"


def test_charts_are_deterministic_inline_svg_with_text() -> None:
    from sqwh.report.charts import Bar, ChartSpec, TrendPoint, render_svg

    spec = ChartSpec(
        key="t",
        period="2019H2",
        bars=[Bar("太原市", Decimal("97.5"), True), Bar("大同市", None, None)],
        province=Decimal("96.1"),
        target=Decimal("95"),
        comparison=">=",
        trend=[TrendPoint("2019H1", Decimal("94"), Decimal("90"), Decimal("99"))],
    )
    svg = render_svg(spec)
    assert svg.startswith("<svg") and svg == render_svg(spec)
    assert ">太原市</text>" in svg and "<metadata>" not in svg
