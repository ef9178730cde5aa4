"""The quality gate: Great Expectations checkpoints over the warehouse (SQL engine).

Suites are reviewable JSON files under ``expectations/suites/`` with ``${...}``
placeholders for the period; each gate run substitutes them, runs one checkpoint per suite
against PostgreSQL (no table is pulled into pandas), records an ``audit.validation_run``
row per suite and renders a self-contained HTML page (GX Data Docs load their assets from
CDNs, which auditors' offline machines cannot reach).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any

from sqwh.config import settings
from sqwh.period import Period
from sqwh.registry import load_registry
from sqwh.warehouse import connect, parse_url

log = logging.getLogger(__name__)

# suite file -> (schema, table) it validates; order = the order the gate runs them
SUITES = {
    "load_manifest.audit": ("audit", "load_manifest"),
    "source_day_coverage.marts": ("marts", "source_day_coverage"),
    "half_year_indicators.candidate": ("candidate", "half_year_indicators"),
}
SAMPLE_ROWS = 5


@dataclass
class CheckResult:
    check: str
    expectation: str
    success: bool
    blocking: bool
    unexpected_count: int | None = None
    examples: list[Any] = field(default_factory=list)


@dataclass
class SuiteResult:
    suite: str
    table: str
    success: bool
    checks: list[CheckResult]
    validation_id: int | None = None
    page: Path | None = None

    @property
    def statistics(self) -> dict[str, int]:
        return {
            "evaluated": len(self.checks),
            "successful": sum(c.success for c in self.checks),
            "failed": sum(not c.success for c in self.checks),
        }


@dataclass
class GateResult:
    period: str
    suites: list[SuiteResult]

    @property
    def success(self) -> bool:
        return all(c.success or not c.blocking for s in self.suites for c in s.checks)

    def failure_message(self) -> str:
        lines = [
            f"Quality gate failed for {self.period}; nothing was published. Failed expectations:"
        ]
        for s in self.suites:
            for c in s.checks:
                if not c.success and c.blocking:
                    lines.append(
                        f"- [{s.suite}] {c.check} ({c.expectation}): {c.unexpected_count} unexpected"
                    )
                    lines += [f"    e.g. {e}" for e in c.examples[:SAMPLE_ROWS]]
        pages = [str(s.page) for s in self.suites if s.page]
        lines.append("Details: " + ", ".join(pages))
        lines.append("Fix the inputs (re-deliver the missing or corrected files) and run again.")
        return "\n".join(lines)


def _substitutions(period: Period) -> dict[str, str]:
    registry = load_registry()
    daily = [e.name for e in registry.entities if e.delivery == "daily"]
    dense = [e.name for e in registry.entities if e.city_day_coverage]
    raw_counts = " union all ".join(
        f"select _load_id as load_id, count(*) as rows_in_raw from raw.{e.table} group by _load_id"
        for e in registry.entities
    )
    violations = " union all ".join(
        _value_set_violations(e.name, e.table, [(c.name, c.enum) for c in e.columns if c.enum])
        for e in registry.entities
        if any(c.enum for c in e.columns)
    )
    return {
        "raw_load_counts": raw_counts,
        "raw_value_set_violations": violations,
        "period_start": f"timestamptz '{period.first_day} 00:00:00 Asia/Shanghai'",
        "period_end": f"timestamptz '{period.end_day} 00:00:00 Asia/Shanghai'",
        "period": period.code,
        "period_first_day": period.first_day.isoformat(),
        "period_last_day": period.last_day.isoformat(),
        "daily_entities": ", ".join(f"('{e}')" for e in daily),
        "dense_entities": ", ".join(f"('{e}')" for e in dense),
    }


def _value_set_violations(entity: str, table: str, columns: list[tuple[str, list[str]]]) -> str:
    """Rows of raw.<table> whose coded columns hold a value outside their set, per column and
    value, in one scan of the table (a query per column read the table once per column);
    only the offending rows are unfolded into one row per column."""

    def outside(name: str, values: list[str], prefix: str = "") -> str:
        return f"{prefix}{name}::text not in ({', '.join(repr(v) for v in values)})"

    names = ", ".join(name for name, _ in columns)
    any_outside = " or ".join(outside(name, values) for name, values in columns)
    unfolded = ", ".join(
        f"('{name}', r.{name}::text, {outside(name, values, 'r.')})" for name, values in columns
    )
    return (
        f"select '{entity}' as entity, v.column_name, v.value, count(*) as rows_"
        f" from (select {names} from raw.{table} where {any_outside}) as r"
        f" cross join lateral (values {unfolded}) as v (column_name, value, is_outside)"
        f" where v.is_outside group by v.column_name, v.value"
    )


def load_suite(name: str, period: Period) -> dict[str, Any]:
    path = settings().expectations_dir / "suites" / f"{name}.json"
    text = Template(path.read_text(encoding="utf-8")).substitute(_substitutions(period))
    return json.loads(text)


def _examples(result: dict[str, Any]) -> list[Any]:
    details = result.get("details") or {}
    rows = details.get("unexpected_rows") or result.get("partial_unexpected_list") or []
    return [_jsonable(r) for r in rows[:SAMPLE_ROWS]]


def _exception_text(info: Any) -> str:
    if not isinstance(info, dict):
        return str(info)
    if "exception_message" in info:
        return str(info.get("exception_message"))
    for value in info.values():  # keyed by metric id when a metric failed
        if isinstance(value, dict) and value.get("exception_message"):
            return str(value["exception_message"])[:500]
    return str(info)[:500]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _run_suite(
    ctx: Any, source: Any, suite_def: dict[str, Any], schema: str, table: str
) -> SuiteResult:
    import great_expectations as gx

    asset = source.add_table_asset(name=f"{schema}.{table}", table_name=table, schema_name=schema)
    batch_def = asset.add_batch_definition_whole_table("whole_table")
    suite = ctx.suites.add(gx.ExpectationSuite(**suite_def))
    vd = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"vd_{suite_def['name']}", data=batch_def, suite=suite)
    )
    checkpoint = ctx.checkpoints.add(
        gx.Checkpoint(
            name=f"cp_{suite_def['name']}",
            validation_definitions=[vd],
            result_format={"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE_ROWS},
        )
    )
    run = checkpoint.run()
    checks = []
    for validation in run.run_results.values():
        for r in validation.results:
            cfg = r.expectation_config
            meta = cfg.meta or {}
            result = r.result or {}
            count = result.get("unexpected_count")
            if count is None and isinstance(result.get("observed_value"), int):
                count = result["observed_value"]
            examples = [] if r.success else _examples(result)
            error = (
                (r.exception_info or {}).get("exception_message")
                if hasattr(r, "exception_info")
                else None
            )
            if not r.success and not result:
                # the check could not be evaluated (e.g. its SQL failed): that blocks too
                examples = [f"check could not run: {_exception_text(r.exception_info) or error}"]
            checks.append(
                CheckResult(
                    check=meta.get("check") or cfg.description or cfg.type,
                    expectation=cfg.type,
                    success=bool(r.success),
                    blocking=bool(meta.get("blocking", True)),
                    unexpected_count=count,
                    examples=examples,
                )
            )
    return SuiteResult(
        suite=suite_def["name"], table=f"{schema}.{table}", success=bool(run.success), checks=checks
    )


def run_gate(url: str, period: str, run_id: str) -> GateResult:
    """Run every suite for the period; record and render each. Does not publish."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx

        import sqwh.gx_single_pass  # noqa: F401  (registers the suites' single-pass check)

    p = Period.parse(period)
    # The connection string reaches GX only as a config variable, so no secret is written
    # into any GX config or rendered page.
    os.environ["SQWH_GX_CONNECTION"] = parse_url(url).sqlalchemy_url()
    ctx = gx.get_context(mode="ephemeral")
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = ctx.data_sources.add_postgres(
        name="warehouse", connection_string="${SQWH_GX_CONNECTION}"
    )
    suites = []
    for name, (schema, table) in SUITES.items():
        result = _run_suite(ctx, source, load_suite(name, p), schema, table)
        log.info(
            "suite %s: %s (%s)", name, "passed" if result.success else "FAILED", result.statistics
        )
        suites.append(result)
    gate = GateResult(period=p.code, suites=suites)
    _record(url, gate, run_id)
    return gate


def _record(url: str, gate: GateResult, run_id: str) -> None:
    from sqwh.audit_pages import render_suite_page

    out = settings().reports_dir / "validation" / gate.period
    out.mkdir(parents=True, exist_ok=True)
    with connect(url) as conn:
        for s in gate.suites:
            row = conn.execute(
                """insert into audit.validation_run (run_id, period, suite, checkpoint, success, statistics, failures)
                   values (%s, %s, %s, %s, %s, %s, %s) returning validation_id""",
                (
                    run_id,
                    gate.period,
                    s.suite,
                    f"cp_{s.suite}",
                    s.success,
                    json.dumps(s.statistics),
                    json.dumps([c.__dict__ for c in s.checks if not c.success], default=str),
                ),
            ).fetchone()
            s.validation_id = int(row[0])  # type: ignore[index]
            s.page = out / f"validation-{s.validation_id}.html"
            s.page.write_text(
                render_suite_page(gate.period, s, datetime.now(UTC)), encoding="utf-8"
            )
            conn.execute(
                "update audit.validation_run set result_path = %s where validation_id = %s",
                (str(s.page), s.validation_id),
            )
        conn.commit()
