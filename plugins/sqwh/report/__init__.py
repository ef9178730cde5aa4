"""The half-year service quality report (服务质量状况报告), rendered from a publication.

``render_report(url, period)`` reads ``reporting.half_year_indicators`` and ``audit`` (plus
the catalogue and city names, see ``data.py``) and writes one self-contained HTML file:
inline CSS and SVG charts, no scripts, no network. It states the publication id, code
version and input file count so an auditor can trace every figure back; each figure links
to its definition and to the validation pages of the checks it passed.
"""

from __future__ import annotations

from pathlib import Path

from sqwh.report.data import ReportUnavailable

__all__ = ["ReportUnavailable", "build_html", "default_out_dir", "export_csv", "render_report"]


def default_out_dir() -> Path:
    from sqwh.config import settings

    return settings().reports_dir / "report"


def build_html(url: str, period: str, out_dir: Path) -> str:
    """The report's HTML; ``out_dir`` is where it will live (links are relative to it)."""
    import jinja2

    from sqwh.config import settings
    from sqwh.period import TZ
    from sqwh.report import cells, data, labels, view
    from sqwh.warehouse import connect

    with connect(url) as conn:
        loaded = data.load(conn, period)
    pub_id = loaded.publication.publication_id
    page = settings().reports_dir / "publications" / f"publication-{pub_id}.html"
    v = view.ReportView(loaded, out_dir, page if page.exists() else None)
    sections = v.sections()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals.update(
        theme_label=labels.theme,
        unit_label=labels.unit,
        breakdown_label=labels.breakdown_type,
        target_label=cells.fmt_target,
    )
    return env.get_template("report.html.j2").render(
        period=loaded.period,
        period_zh=labels.period(loaded.period),
        pub=loaded.publication,
        published_at=f"{loaded.publication.published_at.astimezone(TZ):%Y-%m-%d %H:%M:%S} (Asia/Shanghai)",
        view=v,
        summary=v.summary(),
        summary_rows=v.summary_rows(),
        sections=sections,
        misses=v.misses(),
        misses_number=labels.numeral(len(sections) + 2),
        definitions=v.definitions(),
        catalogue_versions=v.catalogue_versions(),
    )


def render_report(url: str, period: str, out_dir: Path | None = None) -> Path:
    """Render the report of ``period``'s current publication; returns the HTML file's path.

    Raises :class:`ReportUnavailable` when the period has no publication. The file is
    written next to a temporary name and renamed, so a reader never sees half a report.
    """
    from sqwh.period import Period

    code = Period.parse(period).code
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{code}.html"
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(build_html(url, code, out), encoding="utf-8")
    tmp.replace(target)
    return target


def export_csv(url: str, period: str, target: Path | None = None) -> tuple[Path, int]:
    """The period's published figures as a spreadsheet-safe CSV (see ``export.py``); returns
    the file and its row count. Raises :class:`ReportUnavailable` like ``render_report``."""
    from sqwh.config import settings
    from sqwh.period import Period
    from sqwh.report import data, export
    from sqwh.warehouse import connect

    code = Period.parse(period).code
    with connect(url) as conn:
        loaded = data.load(conn, code)
    target = target or settings().reports_dir / "export" / f"{code}.csv"
    return target, export.write_csv(loaded, target)
