"""Ingest benchmark: one large CC_CALL file loaded three ways, side by side, in one run.

1. raw COPY      : psycopg streams the file into a bare table with the same column types
                   (no checks, no manifest) - the ceiling;
2. sqwh loader   : this project's loader with every check (control file, encoding, contract,
                   quarantine, manifest, archive);
3. pandas        : read_csv + DataFrame.to_sql (the common peer approach).

Each runs in its own process so peak memory (max RSS) is its own. Prints rows/s, MB/s, peak
memory and ratios against raw COPY. Usage:
    python benchmarks/bench_ingest.py [--rows 2000000] [--skip-pandas] [--file CC_CALL_....csv]
                                      [--repeat 7]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve()
BENCH_DB = "sqwh_bench_ingest"


def build_file(rows: int, work: Path) -> tuple[Path, int]:
    """Concatenate generated daily CC_CALL files into one delivery of at least ``rows`` records."""
    from sqwh.generate import generate

    scale = max(0.005, rows / 30_000_000 * 1.05)  # CC_CALL is ~30 M rows per half year at scale 1
    landing = work / "gen"
    generate(landing, "2019H1", scale=scale, seed=11, progress=None)
    parts = sorted((landing / "cc").glob("CC_CALL_*.csv"))
    out = work / "landing" / "cc" / "CC_CALL_20190630_9.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("wb") as f:
        for i, part in enumerate(parts):
            with part.open("rb") as p:
                header = p.readline()
                if i == 0:
                    f.write(header)
                for line in p:
                    f.write(line)
                    count += 1
    data_md5 = hashlib.md5(out.read_bytes()).hexdigest()
    (out.parent / f"{out.name}.chk").write_text(
        f"{out.name}|{out.stat().st_size}|{count}|{data_md5}\n"
    )
    return out, count


def backend_cpu(conn) -> float | None:  # type: ignore[no-untyped-def]
    """CPU seconds (user + system) the connection's server process has used so far, when the
    server runs on this machine (the embedded warehouse does): less noisy than wall time on a
    shared box, and it is the server's work that a CPU-bound COPY is limited by."""
    pid = conn.execute("select pg_backend_pid()").fetchone()[0]
    conn.commit()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


BACKEND_CPU: list[float] = []  # this child's server CPU seconds, if measurable


def run_raw_copy(path: Path, url: str) -> None:
    import psycopg

    from sqwh.registry import load_registry

    entity = load_registry().entity("CC_CALL")
    cols = ", ".join(
        f"{c.name} {'timestamp' if c.type == 'timestamp' else c.pg_type}" for c in entity.columns
    )
    with psycopg.connect(url) as conn:
        conn.execute("drop table if exists public.bench_bare_cc_call")
        conn.execute(f"create table public.bench_bare_cc_call ({cols})")
        before = backend_cpu(conn)
        with conn.cursor() as cur, path.open("rb") as f:
            with cur.copy(
                "copy public.bench_bare_cc_call from stdin with (format csv, header true)"
            ) as copy:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
        conn.commit()
        after = backend_cpu(conn)
        if before is not None and after is not None:
            BACKEND_CPU.append(after - before)
        conn.execute("drop table public.bench_bare_cc_call")
        conn.commit()


def run_loader(path: Path, url: str) -> None:
    from sqwh.ingest import load_file
    from sqwh.schema import bootstrap
    from sqwh.warehouse import connect

    bootstrap(url)
    with connect(url) as conn:
        before = backend_cpu(conn)
        result = load_file(conn, path, system="cc", run_id="bench")
        assert result.status == "LOADED", result.reason
        after = backend_cpu(conn)
        if before is not None and after is not None:
            BACKEND_CPU.append(after - before)
        # the scratch database's own table: emptied whole, so the next round starts as this
        # one did (2 M deleted rows would bring autovacuum into the next round's timing)
        conn.execute("truncate raw.cc_call")
        conn.execute("delete from audit.load_manifest where load_id = %s", (result.load_id,))
        conn.commit()


def run_pandas(path: Path, url: str) -> None:
    import pandas as pd
    import sqlalchemy as sa

    from sqwh.warehouse import parse_url

    engine = sa.create_engine(parse_url(url).sqlalchemy_url())
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.to_sql(
        "bench_pandas_cc_call",
        engine,
        schema="public",
        if_exists="replace",
        index=False,
        chunksize=5_000,
        method="multi",
    )  # 12 columns x 5000 rows < 65535 parameters
    with engine.begin() as conn:
        conn.execute(sa.text("drop table public.bench_pandas_cc_call"))


WAYS = {"raw COPY": run_raw_copy, "sqwh loader": run_loader, "pandas to_sql": run_pandas}


def child(way: str, path: str, url: str) -> None:
    if way == "sqwh loader":
        # not timed: a loader process imports its libraries once and the warehouse is
        # bootstrapped once, not per file (the scratch database starts empty)
        from sqwh.ingest import load_file  # noqa: F401
        from sqwh.schema import bootstrap

        bootstrap(url)
    started, cpu_started = time.perf_counter(), time.process_time()
    WAYS[way](Path(path), url)
    seconds = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_started  # every thread of this process
    # VmHWM is this process's own peak (ru_maxrss would carry the parent's over exec)
    status = Path("/proc/self/status").read_text()
    peak_mb = (
        int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmHWM:"))) / 1024
    )
    server = BACKEND_CPU[0] if BACKEND_CPU else None
    print(
        "RESULT"
        + json.dumps(
            {"seconds": seconds, "peak_mb": peak_mb, "server_cpu": server, "client_cpu": client_cpu}
        )
    )


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A database of its own on the warehouse's server, dropped afterwards: every way starts
    from empty tables (raw COPY's bare table is new too), and the bench never touches the
    warehouse's own raw tables."""
    import psycopg
    from psycopg import sql

    from sqwh.warehouse import ensure_database, parse_url

    dbname = parse_url(url).dbname
    bench = url.replace(f"/{dbname}", f"/{BENCH_DB}", 1)
    admin = url.replace(f"/{dbname}", "/postgres", 1)
    drop = sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(BENCH_DB))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(drop)
    ensure_database(bench, byte_order_collation=True)
    try:
        yield bench
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(drop)


def _settle(url: str) -> None:
    """Untimed, before each way: a checkpoint, and the page cache's dirty data written back,
    so that no way pays for the writes of the one before it (each writes ~1 GB: table, WAL,
    and the loader's archive copy)."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("checkpoint")
    except psycopg.errors.InsufficientPrivilege:
        pass  # a server where the bench's role may not: the ways then share its checkpoints
    os.sync()


def _run_child(way: str, path: Path, url: str) -> dict | None:
    _settle(url)
    proc = subprocess.run(
        [sys.executable, str(HERE), "--child", way, str(path), url],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if proc.returncode != 0 or line is None:
        print(proc.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(line[6:])


def _print_table(results: dict[str, dict], rows: int, mb: float, title: str) -> None:
    base = results["raw COPY"]["seconds"]
    base_cpu = results["raw COPY"].get("server_cpu")
    print(
        f"\n{title}\n{'way':<15}{'seconds':>9}{'rows/s':>12}{'MB/s':>8}{'peak MB':>9}"
        f"{'vs raw COPY':>13}{'server CPU s':>14}{'vs raw':>8}{'client CPU s':>14}"
    )
    for way, r in results.items():
        cpu = r.get("server_cpu")
        cpu_cols = (
            f"{cpu:>14.2f}{base_cpu / cpu:>8.0%}" if cpu and base_cpu else f"{'n/a':>14}{'':>8}"
        )
        print(
            f"{way:<15}{r['seconds']:>9.1f}{rows / r['seconds']:>12,.0f}{mb / r['seconds']:>8.1f}"
            f"{r['peak_mb']:>9.0f}{base / r['seconds']:>12.0%}{cpu_cols}{r['client_cpu']:>14.2f}",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument(
        "--file",
        type=Path,
        help="an existing CC_CALL delivery (with its .chk) instead of generating one",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds, each running every way once, back to back; each round is printed, then "
        "the medians and the rounds' ratios",
    )
    parser.add_argument("--child", nargs=3, metavar=("WAY", "PATH", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.child:
        child(*args.child)
        return 0

    from sqwh.warehouse import warehouse_url

    with (
        scratch_database(warehouse_url()) as url,
        tempfile.TemporaryDirectory(prefix="sqwh-bench-") as tmp,
    ):
        if args.file:
            path = args.file
            rows = int(Path(f"{path}.chk").read_text().split("|")[2])
        else:
            print(f"generating a CC_CALL delivery of >= {args.rows:,} rows ...", flush=True)
            path, rows = build_file(args.rows, Path(tmp))
        mb = path.stat().st_size / 1e6
        print(f"file: {rows:,} rows, {mb:,.0f} MB", flush=True)
        rounds: list[dict[str, dict]] = []
        for round_no in range(1, args.repeat + 1):
            results = {}
            for way in WAYS:
                if way == "pandas to_sql" and args.skip_pandas:
                    continue
                print(f"round {round_no}: running {way} ...", flush=True)
                result = _run_child(way, path, url)
                if result is None:
                    return 1
                results[way] = result
            rounds.append(results)
            if args.repeat > 1:
                _print_table(rounds[-1], rows, mb, f"round {round_no}")
    median = {
        way: {
            k: statistics.median(r[way][k] for r in rounds)
            if all(r[way].get(k) is not None for r in rounds)
            else None
            for k in rounds[0][way]
        }
        for way in rounds[0]
    }
    title = f"median of {args.repeat} rounds" if args.repeat > 1 else ""
    _print_table(median, rows, mb, title)
    if args.repeat > 1:
        # each round's ways ran back to back: their ratio is the paired comparison
        for way in median:
            if way != "raw COPY":
                ratios = [r["raw COPY"]["seconds"] / r[way]["seconds"] for r in rounds]
                print(
                    f"{way} vs raw COPY, round by round: "
                    + " ".join(f"{x:.0%}" for x in ratios)
                    + f"; median {statistics.median(ratios):.0%}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
