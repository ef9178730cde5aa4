"""Self-contained HTML pages of validation results, for auditors (no external assets)."""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqwh.quality import SuiteResult

STYLE = """
body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.ok{color:#166534;font-weight:600}.fail{color:#b91c1c;font-weight:600}
code{font-size:.9em;white-space:pre-wrap}
"""


def _status(ok: bool) -> str:
    return '<span class="ok">passed</span>' if ok else '<span class="fail">FAILED</span>'


def render_suite_page(period: str, suite: SuiteResult, at: datetime) -> str:
    rows = []
    for c in suite.checks:
        examples = "<br>".join(
            html.escape(json.dumps(e, ensure_ascii=False, default=str)) for e in c.examples
        )
        rows.append(
            f"<tr><td>{html.escape(c.check)}</td><td><code>{html.escape(c.expectation)}</code></td>"
            f"<td>{_status(c.success)}{'' if c.blocking else ' (warning only)'}</td>"
            f"<td>{'' if c.unexpected_count is None else c.unexpected_count}</td><td><code>{examples}</code></td></tr>"
        )
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>Validation {suite.validation_id}: {html.escape(suite.suite)} ({period})</title><style>{STYLE}</style></head>
<body><h1>Validation {suite.validation_id}: {html.escape(suite.suite)}</h1>
<p>Period <b>{period}</b> &middot; table <code>{html.escape(suite.table)}</code> &middot; {_status(suite.success)}
&middot; validated {at:%Y-%m-%d %H:%M:%S} UTC &middot; {suite.statistics}</p>
<table><tr><th>check</th><th>expectation</th><th>result</th><th>unexpected</th><th>examples</th></tr>
{"".join(rows)}</table></body></html>
"""


def _fmt(value: object) -> str:
    return "" if value is None else html.escape(str(value))


def render_publication_page(conn: object, publication_id: int) -> str:
    """Every figure of one publication with the checks it passed and the files it came from."""
    pub = conn.execute(  # type: ignore[attr-defined]
        """select period, run_id, code_version, dbt_manifest_hash, catalogue_version, input_files,
                  validation_ids, row_count, published_at, published_by
           from audit.publication where publication_id = %s""",
        (publication_id,),
    ).fetchone()
    (period, run_id, code, manifest, catalogue, files, validation_ids, rows, at, by) = pub
    runs = conn.execute(  # type: ignore[attr-defined]
        """select validation_id, suite, success, statistics, result_path from audit.validation_run
           where validation_id = any(%s) order by validation_id""",
        (validation_ids,),
    ).fetchall()
    figures = conn.execute(  # type: ignore[attr-defined]
        """select indicator_code, geo_level, city_code, breakdown_type, breakdown, numerator, denominator,
                  value, unit, target, comparison, meets_target, previous_value, null_reason
           from reporting.half_year_indicators where publication_id = %s
           order by indicator_code, geo_level desc, city_code nulls first, breakdown_type nulls first, breakdown""",
        (publication_id,),
    ).fetchall()
    checks = " ".join(
        f'<a href="file://{html.escape(path or "")}">{html.escape(suite)}</a> {_status(ok)}'
        for _, suite, ok, _, path in runs
    )
    run_rows = "".join(
        f"<tr><td>{vid}</td><td>{html.escape(suite)}</td><td>{_status(ok)}</td><td>{html.escape(json.dumps(stats))}</td>"
        f'<td><a href="file://{html.escape(path or "")}">{html.escape(path or "")}</a></td></tr>'
        for vid, suite, ok, stats, path in runs
    )
    figure_rows = "".join(
        "<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + f"<td>{checks}</td></tr>"
        for row in figures
    )
    file_rows = "".join(
        f"<tr><td>{html.escape(f['file'])}</td><td>{html.escape(f['entity'] or '')}</td><td><code>{f['sha256']}</code></td></tr>"
        for f in files
    )
    head = [
        "indicator",
        "geo",
        "city",
        "breakdown type",
        "breakdown",
        "numerator",
        "denominator",
        "value",
        "unit",
        "target",
        "cmp",
        "meets",
        "previous",
        "why NULL",
        "checks passed",
    ]
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>Publication {publication_id} ({period})</title><style>{STYLE}</style></head><body>
<h1>Publication {publication_id}: {period}</h1>
<table>
<tr><th>published</th><td>{at:%Y-%m-%d %H:%M:%S %Z} by {html.escape(by)}</td></tr>
<tr><th>run</th><td>{html.escape(run_id or "")}</td></tr>
<tr><th>code version</th><td><code>{html.escape(code or "")}</code></td></tr>
<tr><th>dbt manifest sha256</th><td><code>{html.escape(manifest or "")}</code></td></tr>
<tr><th>catalogue</th><td>{html.escape(catalogue or "")}</td></tr>
<tr><th>figures</th><td>{rows}</td></tr>
<tr><th>input files</th><td>{len(files)} (listed below with sha256)</td></tr>
</table>
<h2>Validation runs</h2>
<table><tr><th>id</th><th>suite</th><th>result</th><th>statistics</th><th>page</th></tr>{run_rows}</table>
<h2>Figures</h2>
<table><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr>{figure_rows}</table>
<h2>Input files</h2>
<table><tr><th>file</th><th>entity</th><th>sha256</th></tr>{file_rows}</table>
<p>Reproduce: <code>sqwh reproduce --publication {publication_id}</code></p>
</body></html>
"""
