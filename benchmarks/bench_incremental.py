"""Incremental dbt build benchmark: what adding one day costs against a full refresh.

Generates a half year at a scale, loads January-February into a fresh warehouse (its own
SQWH_HOME), builds the incremental models from scratch, loads 1 March, and times `dbt run`
of the incremental models: incremental with the new day, incremental with nothing new, and
`--full-refresh` of the same data. Prints seconds and the rows each build wrote. Usage:
    python benchmarks/bench_incremental.py [--scale M] [--home /tmp/sqwh-bench-incremental]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

SNAPSHOTS = ("CRM_AREA", "CRM_CUSTOMER", "CRM_OUTLET", "BSS_BILL_2")


def _day(name: str) -> str | None:
    """Business day of a daily file; None for snapshots and monthly bills (always loaded)."""
    dated = [p for p in name.split(".")[0].split("_") if p.isdigit() and len(p) == 8]
    return None if name.startswith(SNAPSHOTS) or not dated else dated[0]


def split(generated: Path, first: Path, second: Path, last_first: str, next_day: str) -> None:
    for path in sorted(generated.rglob("*.csv")):
        day = _day(path.name)
        target = first if day is None or day <= last_first else second if day == next_day else None
        if target is None:
            continue
        (target / path.parent.name).mkdir(parents=True, exist_ok=True)
        for f in (path, path.with_name(path.name + ".chk")):
            shutil.copy(f, target / path.parent.name / f.name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="M")
    ap.add_argument("--home", default="/tmp/sqwh-bench-incremental")
    args = ap.parse_args()
    home = Path(args.home)
    if home.exists():
        raise SystemExit(f"{home} exists; remove it (and stop its warehouse) or pass --home")
    os.environ["SQWH_HOME"] = str(home)
    os.environ.setdefault("SQWH_PSEUDONYM_KEY", "benchmark-key")
    from sqwh import pipeline
    from sqwh.generate import generate
    from sqwh.generate.scales import SCALES
    from sqwh.transform import INCREMENTAL_MODELS, run_dbt
    from sqwh.warehouse import connect

    scale = SCALES.get(args.scale.upper()) or float(args.scale)
    generate(home / "generated", "2019H1", scale=scale, seed=5, progress=None)
    split(home / "generated", home / "first", home / "second", "20190228", "20190301")
    for system in ("bss", "crm", "cc"):
        pipeline.ingest(system, home / "first")
    url = pipeline.prepare_warehouse()
    assert run_dbt(url, ["seed"], "2019H1").success

    def build(label: str, *extra: str) -> None:
        with connect(url) as conn:
            before = conn.execute("select clock_timestamp()").fetchone()[0]
        started = time.perf_counter()
        outcome = run_dbt(url, ["run", "--select", *INCREMENTAL_MODELS, *extra], "2019H1")
        assert outcome.success, outcome.failures
        seconds = time.perf_counter() - started  # includes dbt's start-up and parse
        with connect(url) as conn:
            written, total = conn.execute(
                "select count(*) filter (where refreshed_at >= %s), count(*) from marts.fct_calls",
                (before,),
            ).fetchone()
        print(f"{label:<32} {seconds:5.1f} s   fct_calls rows written {written:>9,} of {total:,}")

    build("first build (empty tables)", "--full-refresh")
    for system in ("bss", "crm", "cc"):
        pipeline.ingest(system, home / "second")
    build("incremental, one more day")
    build("incremental, nothing new")
    build("full refresh, same data", "--full-refresh")
    print(f"stop the warehouse: SQWH_HOME={home} sqwh warehouse stop")


if __name__ == "__main__":
    main()
