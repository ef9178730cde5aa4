"""Turn published figures into what the report shows: summary, theme sections with tables
and charts, missed targets, definitions. Ordering follows the catalogue's themes; cities
follow their GB/T 2260 codes; the province row always comes first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqwh.report import labels
from sqwh.report.cells import (
    Cell,
    decimals,
    direction,
    field_cell,
    fmt_target,
    href,
    meets_cell,
    value_cell,
)
from sqwh.report.charts import Bar, ChartSpec, TrendPoint, render_svg
from sqwh.report.data import Figure, Indicator, ReportData

PROVINCE = "全省"


@dataclass(frozen=True)
class Links:
    definition: str
    validations: list[tuple[str, str]]  # (label, href)


@dataclass(frozen=True)
class IndicatorView:
    code: str
    name_zh: str
    name_en: str
    unit: str
    target: str
    links: Links
    has_target: bool


@dataclass(frozen=True)
class SummaryRow:
    indicator: IndicatorView
    value: Cell
    target: Cell
    meets: Cell
    previous: Cell
    change: Cell


@dataclass(frozen=True)
class Table:
    """Geographies down, indicators (or breakdown values) across."""

    caption: str
    columns: list[tuple[str, str, str]]  # (Chinese label, code, link)
    rows: list[tuple[str, list[Cell]]]


@dataclass(frozen=True)
class ChartView:
    number: int
    indicator: IndicatorView
    svg: str


@dataclass(frozen=True)
class Section:
    number: str
    theme: str
    title: str
    indicators: list[IndicatorView]
    table: Table
    breakdowns: list[Table]
    charts: list[ChartView]


@dataclass(frozen=True)
class Miss:
    indicator: IndicatorView
    province: Cell
    province_missed: bool
    cities: list[tuple[str, Cell]]


@dataclass(frozen=True)
class Summary:
    indicators: int
    with_target: int
    met: int
    missed: int
    improved: int
    worsened: int


# --- the report --------------------------------------------------------------------------


class ReportView:
    """Everything the template renders, computed once from :class:`ReportData`."""

    def __init__(self, data: ReportData, out_dir: Path, publication_page: Path | None) -> None:
        self.data = data
        self.out_dir = out_dir
        self.publication_page = href(publication_page, out_dir)
        self.validations = [(v, href(v.result_path, out_dir)) for v in data.publication.validations]
        self._by_key = {
            (f.indicator_code, f.city_code, f.breakdown_type, f.breakdown): f for f in data.figures
        }
        city_codes = sorted({f.city_code for f in data.figures if f.city_code})
        self.cities = [(c, data.cities.get(c, c)) for c in city_codes]
        self.codes = self._ordered_codes()
        self.indicators = {c: self._indicator(c) for c in self.codes}
        self._chart_no = 0

    # ordering and lookup
    def _ordered_codes(self) -> list[str]:
        published = {f.indicator_code for f in self.data.figures}
        themes = list(labels.THEMES)

        def key(code: str) -> tuple[int, str]:
            entry = self.data.catalogue.get(code)
            t = entry.theme if entry else ""
            return (themes.index(t) if t in themes else len(themes), code)

        return sorted(published, key=key)

    def theme_of(self, code: str) -> str:
        entry = self.data.catalogue.get(code)
        return entry.theme if entry else "other"

    def figure(
        self, code: str, city: str | None, bt: str | None = None, b: str | None = None
    ) -> Figure | None:
        return self._by_key.get((code, city, bt, b))

    def _indicator(self, code: str) -> IndicatorView:
        entry: Indicator | None = self.data.catalogue.get(code)
        head = self.figure(code, None)
        unit = head.unit if head else (entry.unit if entry else "")
        target = fmt_target(head.target, head.comparison) if head else "—"
        links = Links(
            definition=f"#def-{code}",
            validations=[
                (f"校验#{v.validation_id}", h) for v, h in self.validations if h is not None
            ],
        )
        return IndicatorView(
            code=code,
            name_zh=entry.name_zh if entry else code,
            name_en=entry.name_en if entry else "",
            unit=labels.unit(unit),
            target=target,
            links=links,
            has_target=bool(head and head.target is not None),
        )

    # parts of the report
    def summary_rows(self) -> list[SummaryRow]:
        rows = []
        for code in self.codes:
            f = self.figure(code, None)
            if f is None:
                continue
            rows.append(
                SummaryRow(
                    indicator=self.indicators[code],
                    value=value_cell(f),
                    target=field_cell(f, "target"),
                    meets=meets_cell(f),
                    previous=field_cell(f, "previous_value"),
                    change=field_cell(f, "change"),
                )
            )
        return rows

    def summary(self) -> Summary:
        heads = [f for c in self.codes if (f := self.figure(c, None))]
        targeted = [f for f in heads if f.target is not None]
        moves = [direction(f.change, f.comparison)[1] for f in targeted]
        return Summary(
            indicators=len(heads),
            with_target=len(targeted),
            met=sum(f.meets_target is True for f in targeted),
            missed=sum(f.meets_target is False for f in targeted),
            improved=moves.count("good"),
            worsened=moves.count("bad"),
        )

    def _geo_rows(self, cells) -> list[tuple[str, list[Cell]]]:
        rows = [(PROVINCE, cells(None))]
        return rows + [(name, cells(code)) for code, name in self.cities]

    def sections(self) -> list[Section]:
        themes: dict[str, list[str]] = {}
        for code in self.codes:
            themes.setdefault(self.theme_of(code), []).append(code)
        return [
            self._section(i, theme, codes) for i, (theme, codes) in enumerate(themes.items(), 2)
        ]

    def _section(self, number: int, theme: str, codes: list[str]) -> Section:
        views = [self.indicators[c] for c in codes]
        table = Table(
            caption=f"表{number}　{labels.theme(theme)}：分地市指标（{self.data.period}）",
            columns=[(v.name_zh, v.code, v.links.definition) for v in views],
            rows=self._geo_rows(
                lambda city: [value_cell(self.figure(c, city), arrow=True) for c in codes]
            ),
        )
        return Section(
            number=labels.numeral(number),
            theme=theme,
            title=labels.theme(theme),
            indicators=views,
            table=table,
            breakdowns=[
                t
                for k, c in enumerate((c for c in codes if self._has_breakdowns(c)), 1)
                if (t := self._breakdown_table(c, f"表{number}-{k}"))
            ],
            charts=[self._chart(c) for c in codes],
        )

    def _has_breakdowns(self, code: str) -> bool:
        return any(f.indicator_code == code and f.breakdown_type for f in self.data.figures)

    def _breakdown_table(self, code: str, number: str) -> Table | None:
        parts = sorted(
            {
                (f.breakdown_type, f.breakdown)
                for f in self.data.figures
                if f.indicator_code == code and f.breakdown_type
            }
        )
        if not parts:
            return None
        view = self.indicators[code]
        kind = labels.breakdown_type(parts[0][0])
        return Table(
            caption=f"{number}　{view.name_zh} {code}：按{kind}（{self.data.period}）",
            columns=[(labels.breakdown(b), b or "", view.links.definition) for _, b in parts],
            rows=self._geo_rows(
                lambda city: [value_cell(self.figure(code, city, bt, b)) for bt, b in parts]
            ),
        )

    def _chart(self, code: str) -> ChartView:
        head = self.figure(code, None)
        bars = [
            Bar(name, f.value if f else None, f.meets_target if f else None)
            for city, name in self.cities
            for f in [self.figure(code, city)]
        ]
        self._chart_no += 1
        spec = ChartSpec(
            key=f"{self.data.period}-{code}",
            period=self.data.period,
            bars=bars,
            province=head.value if head else None,
            target=head.target if head else None,
            comparison=head.comparison if head else None,
            trend=self._trend(code),
            decimals=decimals(head.unit if head else ""),
            additive=bool(head and head.unit == "count"),
        )
        return ChartView(self._chart_no, self.indicators[code], render_svg(spec))

    def _trend(self, code: str) -> list[TrendPoint]:
        points: dict[str, list] = {}
        for h in self.data.history:
            if h.indicator_code != code:
                continue
            slot = points.setdefault(h.period, [None, []])
            if h.geo_level == "PROVINCE":
                slot[0] = h.value
            elif h.value is not None:
                slot[1].append(h.value)
        return [
            TrendPoint(p, prov, min(vals, default=None), max(vals, default=None))
            for p, (prov, vals) in sorted(points.items())
        ]

    def misses(self) -> list[Miss]:
        """Indicators with a target missed by the province or by any city, worst city first."""
        out = []
        for code in self.codes:
            head = self.figure(code, None)
            if head is None or head.target is None:
                continue
            missed = [
                (name, f)
                for city, name in self.cities
                if (f := self.figure(code, city)) and f.meets_target is False
            ]
            if head.meets_target is not False and not missed:
                continue
            worst_first = head.comparison == "<="
            missed.sort(key=lambda nf: nf[1].value or 0, reverse=worst_first)
            out.append(
                Miss(
                    indicator=self.indicators[code],
                    province=value_cell(head),
                    province_missed=head.meets_target is False,
                    cities=[(name, value_cell(f)) for name, f in missed],
                )
            )
        return sorted(out, key=lambda m: not m.province_missed)

    def definitions(self) -> list[Indicator]:
        return [self.data.catalogue[c] for c in self.codes if c in self.data.catalogue]

    def input_entities(self) -> list[tuple[str, int]]:
        counts = Counter(f.get("entity") or "?" for f in self.data.publication.input_files)
        return sorted(counts.items())

    def catalogue_versions(self) -> str:
        return ", ".join(sorted({i.catalogue_version for i in self.data.catalogue.values()}))
