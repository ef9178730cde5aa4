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
