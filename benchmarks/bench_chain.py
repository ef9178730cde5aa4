"""Chain benchmark: a province-scale half year through the whole chain, stage by stage,
then one more day of deliveries and what it costs.

    python benchmarks/bench_chain.py [--scale 1] [--period 2019H1] [--work DIR] [--keep]
    make bench BENCH_ARGS="--scale 0.1"

Stages are the chain's real steps, each in its own process (as an Airflow task would be):
generate -> ingest bss/crm/cc (sqwh.pipeline.ingest) -> dbt build per layer
(sqwh.dbt_tasks.build_layer) -> gate (sqwh.pipeline.validate) -> publish -> report; then
generate the next period's first day -> ingest -> dbt staging/intermediate/marts (what the
`build_marts` DAG runs on new raw data; the half-year candidate is not rebuilt daily).

Per stage it prints rows (rows generated / loaded / in the tables the layer materialises /
candidate or published rows), the step's seconds, rows/s, peak memory and the database size.
Peak memory is sampled every 0.2 s as the proportional set size (PSS, so shared pages are
not counted twice) of the stage's process tree, and of that tree plus the embedded
PostgreSQL server's processes. The warehouse is a fresh embedded PostgreSQL in the work
folder, or ``--warehouse-url`` (an empty database; its server's memory is then not seen).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve()
PROJECT = HERE.parents[1]
SYSTEMS = ("bss", "crm", "cc")
# the schema each dbt layer materialises into (dbt_project.yml)
LAYER_SCHEMAS = {
    "staging": "staging",
    "intermediate": "intermediate",
    "marts": "marts",
    "indicators": "candidate",
}
RUN_ID = "bench"


# -- stages (run in a child process) --------------------------------------------------------


def _count_tables(schema: str) -> int:
    """Rows in the base tables of a schema (views hold none)."""
    from sqwh.warehouse import connect

    with connect() as conn:
        tables = conn.execute(
            """select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = %s and c.relkind in ('r', 'p', 'm')""",
            (schema,),
        ).fetchall()
        return sum(
            conn.execute(f'select count(*) from "{schema}"."{t[0]}"').fetchone()[0]  # type: ignore[index]
            for t in tables
        )


def _db_bytes() -> int:
    from sqwh.warehouse import connect

    with connect() as conn:
        return int(conn.execute("select pg_database_size(current_database())").fetchone()[0])  # type: ignore[index]


def stage(name: str, work: Path, period: str, scale: float, seed: int) -> dict:
    """Run one stage; returns its rows and the seconds of the step itself."""
    landing = work / "landing"
    kind, _, arg = name.partition(":")
    t = time.perf_counter()
    if kind == "generate":
        from sqwh.generate import generate

        days = int(arg) if arg else None
        rows: int | None = generate(landing, period, scale=scale, seed=seed, days=days).total_rows
        seconds = time.perf_counter() - t
    elif kind == "ingest":
        from sqwh.pipeline import ingest

        rows = ingest(arg, landing, run_id=RUN_ID)["rows_loaded"]
        seconds = time.perf_counter() - t
    elif kind == "dbt":
        from sqwh.dbt_tasks import build_layer

        build_layer(arg, period)
        seconds = time.perf_counter() - t
        rows = _count_tables(LAYER_SCHEMAS[arg]) or None  # None: a layer of views
        return {"rows": rows, "seconds": seconds, "db_bytes": _db_bytes(), "nodes": _dbt_nodes()}
    elif kind == "gate":
        from sqwh.pipeline import validate

        validation = validate(period, RUN_ID)
        seconds = time.perf_counter() - t
        (work / "validation.json").write_text(json.dumps(validation))
        rows = _count_tables("candidate")
    elif kind == "publish":
        from sqwh.pipeline import publish

        validation = json.loads((work / "validation.json").read_text())
        publish(period, RUN_ID, validation)
        seconds = time.perf_counter() - t
        rows = _published_rows(period)
    elif kind == "report":
        from sqwh.report import render_report
        from sqwh.warehouse import warehouse_url

        render_report(warehouse_url(), period)
        seconds = time.perf_counter() - t
        rows = _published_rows(period)
    else:
        raise ValueError(f"unknown stage {name!r}")
    return {"rows": rows, "seconds": seconds, "db_bytes": _db_bytes()}


def _dbt_nodes() -> list[tuple[float, str]]:
    """dbt's own seconds per node of the build that just ran (its run_results.json)."""
    from sqwh.config import settings

    path = settings().dbt_target_dir / "run_results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text()).get("results", [])
    return sorted(
        ((round(r.get("execution_time") or 0.0, 1), r["unique_id"]) for r in results),
        reverse=True,
    )


def _node_name(unique_id: str) -> str:
    """model.sqwh.fct_calls -> fct_calls; test.sqwh.<name>.<hash> -> <name>; unit tests by name."""
    kind, _, *rest = unique_id.split(".")
    return f"unit test {rest[1]}" if kind == "unit_test" and len(rest) > 1 else rest[0]


def _published_rows(period: str) -> int:
    from sqwh.warehouse import connect

    with connect() as conn:
        return int(
            conn.execute(
                "select count(*) from reporting.half_year_indicators where period = %s", (period,)
            ).fetchone()[0]  # type: ignore[index]
        )


# -- memory sampling (parent) ---------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def _tree(root: int, children: dict[int, list[int]]) -> list[int]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@dataclass
class Sampler:
    """Peak PSS of a stage's process tree, alone and with the database server's tree."""

    stage_pid: int
    server_pid: int | None
    work: Path | None = None
    min_free_gb: float = 0.0
    peak_stage_kb: int = 0
    peak_total_kb: int = 0
    out_of_disk: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            if self.work and shutil.disk_usage(self.work).free < self.min_free_gb * 2**30:
                # the disk is shared: stop the stage before the database fills it
                self.out_of_disk = True
                os.kill(self.stage_pid, 15)
                return
            children = _children_map()
            stage_kb = sum(_pss_kb(p) for p in _tree(self.stage_pid, children))
            server_kb = (
                sum(_pss_kb(p) for p in _tree(self.server_pid, children)) if self.server_pid else 0
            )
            self.peak_stage_kb = max(self.peak_stage_kb, stage_kb)
            self.peak_total_kb = max(self.peak_total_kb, stage_kb + server_kb)
            self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()


# -- driver (parent) ------------------------------------------------------------------------


def _next_period(period: str) -> str:
    from sqwh.period import Period

    return Period.containing(Period.parse(period).end_day).code


def _server_pid(env: dict[str, str]) -> int | None:
    if env.get("BENCH_EXTERNAL_WAREHOUSE"):
        return None
    pid_file = Path(env["SQWH_HOME"]) / "pgdata" / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def run_stage(name: str, period: str, args: argparse.Namespace, env: dict[str, str]) -> dict:
    cmd = [sys.executable, str(HERE), "--child", name, "--period", period,
           "--scale", str(args.scale), "--seed", str(args.seed), "--work", str(args.work)]  # fmt: skip
    log_path = args.work / "logs" / f"{name.replace(':', '-')}-{period}.log"
    with log_path.open("w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        sampler = Sampler(proc.pid, _server_pid(env), args.work, args.min_free_gb)
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        out, _ = proc.communicate()
        sampler.stop()
        thread.join()
        wall = time.perf_counter() - started
    if sampler.out_of_disk:
        raise SystemExit(
            f"stage {name} ({period}) stopped: less than {args.min_free_gb} GB free on the disk"
        )
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(
            f"stage {name} ({period}) failed with exit {proc.returncode}; see {log_path}"
        )
    result = json.loads(line[6:])
    result.update(
        stage=name, period=period, wall=wall,
        peak_stage_mb=sampler.peak_stage_kb / 1024, peak_total_mb=sampler.peak_total_kb / 1024,
    )  # fmt: skip
    return result


def _print_header() -> None:
    print(
        f"{'stage':<18}{'period':<8}{'rows':>13}{'seconds':>9}{'rows/s':>11}"
        f"{'peak MB':>9}{'+PG MB':>8}{'DB MB':>9}",
        flush=True,
    )


def _print_row(r: dict, top: int = 0) -> None:
    rows = "-" if r["rows"] is None else f"{r['rows']:,}"
    rate = "-" if not r["rows"] else f"{r['rows'] / r['seconds']:,.0f}"
    print(
        f"{r['stage']:<18}{r['period']:<8}{rows:>13}{r['seconds']:>9.1f}{rate:>11}"
        f"{r['peak_stage_mb']:>9.0f}{r['peak_total_mb']:>8.0f}{r['db_bytes'] / 2**20:>9,.0f}",
        flush=True,
    )
    nodes = r.get("nodes") or []
    if top and nodes:
        # where a dbt layer's time goes: its slowest models and tests, dbt's own timing
        total = sum(s for s, _ in nodes)
        print(f"    {len(nodes)} nodes, {total:,.0f} s in dbt; slowest: "
              + ", ".join(f"{_node_name(uid)} {s:.0f}" for s, uid in nodes[:top]),
              flush=True)  # fmt: skip


def machine() -> str:
    mem = next(
        ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")
    )
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
         if ln.startswith("model name")), platform.machine(),
    )  # fmt: skip
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(mem.split()[1]) / 2**20:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of province volume")
    parser.add_argument("--period", default="2019H1")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--warehouse-url", help="an empty PostgreSQL database instead")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--top", type=int, default=6, help="slowest dbt nodes shown per layer")
    parser.add_argument("--min-free-gb", type=float, default=4.0,
                        help="stop the run when the disk has less free space")  # fmt: skip
    parser.add_argument("--drop-landing", action="store_true",
                        help="delete the half year's delivered files from the landing folder "
                             "once ingested (the loader keeps a copy in its archive)")  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = stage(args.child, args.work, args.period, args.scale, args.seed)
        print("RESULT" + json.dumps(result))
        return 0

    temporary = args.work is None
    args.work = Path(args.work or tempfile.mkdtemp(prefix="sqwh-bench-chain-")).resolve()
    (args.work / "logs").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW", "SQWH_", "WAREHOUSE_URL", "DBT_"))}  # fmt: skip
    env.update(
        SQWH_HOME=str(args.work / "state"),
        SQWH_PSEUDONYM_KEY="bench-key-not-secret",
        AIRFLOW_HOME=str(args.work / "airflow"),
        GX_ANALYTICS_ENABLED="false",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    sqwh = str(Path(sys.executable).with_name("sqwh"))
    if args.warehouse_url:
        env.update(WAREHOUSE_URL=args.warehouse_url, BENCH_EXTERNAL_WAREHOUSE="1")
    else:
        subprocess.run([sqwh, "warehouse", "start"], env=env, check=True, capture_output=True)
        url = subprocess.run([sqwh, "warehouse", "url"], env=env, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]  # fmt: skip
        env["WAREHOUSE_URL"] = url
    nxt = _next_period(args.period)
    plan = [
        ("generate", args.period),
        *[(f"ingest:{s}", args.period) for s in SYSTEMS],
        *[(f"dbt:{layer}", args.period) for layer in LAYER_SCHEMAS],
        ("gate", args.period),
        ("publish", args.period),
        ("report", args.period),
    ]
    day_plan = [
        ("generate:1", nxt),
        *[(f"ingest:{s}", nxt) for s in SYSTEMS],
        *[(f"dbt:{layer}", nxt) for layer in ("staging", "intermediate", "marts")],
    ]
    print(f"machine: {machine()}")
    print(f"scale {args.scale}, half year {args.period}, then the first day of {nxt}; "
          f"work folder {args.work}\n")  # fmt: skip
    results: list[dict] = []
    try:
        _print_header()
        for name, period in plan:
            results.append(run_stage(name, period, args, env))
            _print_row(results[-1], args.top)
            if args.drop_landing and name == f"ingest:{SYSTEMS[-1]}":
                # every file is loaded and archived; the day's files are generated afresh
                shutil.rmtree(args.work / "landing", ignore_errors=True)
                print("(landing folder emptied: --drop-landing)", flush=True)
        half = [r for r in results if r["stage"] != "generate"]
        _summary("half year, chain without generate", half)
        waited = _settle(env["WAREHOUSE_URL"])
        print(f"\n(waited {waited:,.0f} s for autovacuum to finish with the half year's tables)")
        print("one more day of deliveries:")
        _print_header()
        for name, period in day_plan:
            results.append(run_stage(name, period, args, env))
            _print_row(results[-1], args.top)
        day = [r for r in results[len(plan) :] if not r["stage"].startswith("generate")]
        _summary("one more day, chain without generate", day)
        day_rows = sum(r["rows"] or 0 for r in day if r["stage"].startswith("ingest"))
        half_rows = sum(r["rows"] or 0 for r in half if r["stage"].startswith("ingest"))
        day_s = sum(r["seconds"] for r in day)
        half_s = sum(r["seconds"] for r in half)
        print(f"the day is {day_rows / half_rows:.2%} of the half year's rows "
              f"and cost {day_s / half_s:.2%} of its time")  # fmt: skip
        if args.json:
            args.json.write_text(json.dumps({"machine": machine(), "scale": args.scale,
                                             "results": results}, indent=1))  # fmt: skip
    finally:
        if not args.warehouse_url:
            subprocess.run([sqwh, "warehouse", "stop"], env=env, capture_output=True)
        if temporary and not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
        else:
            print(f"\nwork folder kept: {args.work}")
    return 0


def _settle(url: str, limit_s: float = 1800) -> float:
    """Wait until autovacuum has no worker on the warehouse (at most ``limit_s``); returns the
    seconds waited. After a half year's first build autovacuum visits every new table (tens
    of GB of pages to mark all-visible), and a day started meanwhile would be timed against
    that I/O; in production the next day's files come a day later."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        while time.perf_counter() - started < limit_s:
            busy = conn.execute(
                """select count(*) from pg_stat_activity
                   where backend_type = 'autovacuum worker' and datname = current_database()"""
            ).fetchone()[0]  # type: ignore[index]
            if not busy:
                break
            time.sleep(5)
    return time.perf_counter() - started


def _summary(label: str, rows: list[dict]) -> None:
    seconds = sum(r["seconds"] for r in rows)
    wall = sum(r["wall"] for r in rows)
    peak = max(r["peak_total_mb"] for r in rows)
    print(f"{label}: {seconds:,.0f} s in the steps ({seconds / 60:.1f} min; "
          f"{wall:,.0f} s with process start-up), peak {peak:,.0f} MB", flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
