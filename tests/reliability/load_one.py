"""`python -m tests.reliability.load_one URL FILE SYSTEM`: load one file, print the result as
JSON and the peak RSS in KiB. A process of its own, so a test can SIGKILL it mid-COPY."""

from __future__ import annotations

import dataclasses
import json
import logging
import resource
import sys
from pathlib import Path

import psycopg

from sqwh.ingest import load_file
from tests.reliability.faults import LOADER_APP


def peak_rss_kib() -> int:
    """This process's own peak RSS. VmHWM, not ru_maxrss: Linux keeps ru_maxrss across
    execve, so it would report the (large) test process that forked us."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(url: str, file: str, system: str) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    conn = psycopg.connect(url, application_name=LOADER_APP)
    if conn.execute("select 1 from pg_roles where rolname = 'etl_writer'").fetchone():
        conn.execute("set role etl_writer")
    conn.commit()
    with conn:
        result = load_file(conn, Path(file), system=system)
    out = dataclasses.asdict(result)
    out["max_rss_kib"] = peak_rss_kib()
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main(*sys.argv[1:4])
