"""Section A of the fault catalogue, with real faults: a loader killed with SIGKILL mid-COPY,
the server crashed mid-COPY, a file-size limit hit mid-load (the disk-full stand-in)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import psycopg
import pytest

from sqwh.ingest import load_file
from sqwh.warehouse import connect
from tests.reliability.faults import (
    ScratchServer,
    count,
    dbname,
    finish_loader,
    kill9,
    loader_sessions,
    sha256,
    start_loader,
    wait_for,
    wait_for_copy,
    write_fault_file,
)

BIG = 400_000  # ~45 MB: COPY runs long enough on 2 cores to be caught in progress
DAY1, DAY2 = date(2019, 1, 1), date(2019, 1, 2)


def loaded(url: str) -> int:
    return count(url, "select count(*) from raw.bss_fault")


def distinct_tickets(url: str) -> int:
    return count(url, "select count(distinct ticket_id) from raw.bss_fault")


def manifest_rows(url: str, file: str, status: str) -> int:
    return count(
        url,
        "select count(*) from audit.load_manifest where file_name = %s and status = %s",
        file,
        status,
    )


def reconciles(url: str, file: str, rows_in_file: int) -> None:
    """rows in file = rows loaded + rows quarantined, from the ledger and the tables."""
    with psycopg.connect(url, autocommit=True) as conn:
        load_id, read, ok, bad = conn.execute(
            "select load_id, rows_read, rows_loaded, rows_rejected from audit.load_manifest"
            " where file_name = %s and status = 'LOADED'",
            (file,),
        ).fetchone()  # type: ignore[misc]
        in_table = conn.execute(
            "select count(*) from raw.bss_fault where _load_id = %s", (load_id,)
        ).fetchone()[0]  # type: ignore[index]
        quarantined = conn.execute(
            "select count(*) from raw.quarantine where load_id = %s", (load_id,)
        ).fetchone()[0]  # type: ignore[index]
    assert (read, ok, bad) == (rows_in_file, in_table, quarantined)
    assert rows_in_file == in_table + quarantined


def test_loader_killed_mid_copy(crashable: dict, tmp_path: Path) -> None:
    url, admin = crashable["url"], crashable["admin"]
    path = write_fault_file(tmp_path / "landing", DAY1, BIG)
    before = sha256(path)
    proc = start_loader(crashable["home"], url, path)
    seen = wait_for_copy(admin, dbname(url), proc)
    kill9(proc)
    print(f"killed the loader (pid {proc.pid}) with SIGKILL after {seen:,} rows were COPYed")
    # the server notices the dead client and aborts its transaction
    wait_for("the killed loader's session to end", lambda: loader_sessions(admin, dbname(url)) == 0)
    assert loaded(url) == 0, "rows of a killed load are visible"
    assert count(url, "select count(*) from audit.load_manifest") == 0, "killed load in the ledger"
    assert sha256(path) == before
    retry = finish_loader(start_loader(crashable["home"], url, path))
    assert (retry["status"], retry["rows_loaded"], retry["rows_rejected"]) == ("LOADED", BIG, 0)
    assert loaded(url) == distinct_tickets(url) == BIG
    reconciles(url, path.name, BIG)


def test_server_stopped_immediate_mid_copy(crashable: dict, tmp_path: Path) -> None:
    url, admin, server = crashable["url"], crashable["admin"], crashable["server"]
    small = write_fault_file(tmp_path / "landing", DAY1, 1_000)
    first = finish_loader(start_loader(crashable["home"], url, small))
    assert first["status"] == "LOADED"
    big = write_fault_file(tmp_path / "landing", DAY2, BIG)
    proc = start_loader(crashable["home"], url, big)
    seen = wait_for_copy(admin, dbname(url), proc)
    server.crash()
    print(f"stopped the server (-m immediate) after {seen:,} rows were COPYed")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0, f"loader claims success after a crash: {out}"
    # one message, whichever of psycopg's threads saw the connection go first
    assert f"{big.name}: the connection to the warehouse was lost during the load (" in err, err[
        -2000:
    ]
    assert "nothing of this file is committed" in err
    server.start()  # crash recovery replays the WAL
    assert loaded(url) == 1_000, "the earlier, committed load is not intact after recovery"
    assert manifest_rows(url, small.name, "LOADED") == 1
    assert manifest_rows(url, big.name, "LOADED") == 0
    assert count(url, "select count(*) from raw.bss_fault where _business_date = %s", DAY2) == 0
    retry = finish_loader(start_loader(crashable["home"], url, big))
    assert (retry["status"], retry["rows_loaded"]) == ("LOADED", BIG)
    assert loaded(url) == distinct_tickets(url) == 1_000 + BIG
    reconciles(url, small.name, 1_000)
    reconciles(url, big.name, BIG)


def test_disk_full_during_a_load(tmp_path: Path, monkeypatch) -> None:
    """Stand-in for a full disk: a server of its own runs with RLIMIT_FSIZE, so extending a
    table file past the limit fails inside PostgreSQL (EFBIG, "could not extend file") exactly
    where ENOSPC would; the write error, rollback and retry paths are the real ones. Not
    covered: a full WAL volume (PANIC and restart: the crash case) and a full landing or
    archive disk."""
    server = ScratchServer(tmp_path / "server")
    admin = server.start(file_size_limit=24 * 1024 * 1024)  # > one 16 MB WAL segment
    try:
        url = server.new_database(admin)
        monkeypatch.setenv("SQWH_HOME", str(tmp_path / "home"))
        path = write_fault_file(tmp_path / "landing", DAY1, BIG)  # ~45 MB table > the limit
        before = sha256(path)
        with connect(url) as conn:
            result = load_file(conn, path, system="bss")
        print(f"{result.status}: {result.reason}")
        assert result.status == "FAILED"
        assert "could not extend file" in (result.reason or "")
        assert loaded(url) == 0
        assert manifest_rows(url, path.name, "FAILED") == 1
        assert manifest_rows(url, path.name, "LOADED") == 0
        assert sha256(path) == before, "the landing file changed"
        server.stop()
        server.start()  # space freed
        with connect(url) as conn:
            retry = load_file(conn, path, system="bss")
        assert (retry.status, retry.rows_loaded) == ("LOADED", BIG)
        reconciles(url, path.name, BIG)
    finally:
        server.stop()


def test_lock_held_by_someone_else(crashable: dict, tmp_path: Path, monkeypatch) -> None:
    url = crashable["url"]
    monkeypatch.setenv("SQWH_LOCK_TIMEOUT", "2s")
    path = write_fault_file(tmp_path / "landing", DAY1, 500)
    holder = psycopg.connect(url)
    holder.execute("lock table raw.bss_fault in access exclusive mode")
    started = time.monotonic()
    try:
        with connect(url) as conn:
            result = load_file(conn, path, system="bss")
    finally:
        holder.rollback()
        holder.close()
    print(f"failed after {time.monotonic() - started:.1f} s: {result.reason}")
    assert result.status == "FAILED"
    assert result.reason is not None
    assert result.reason.startswith(f"{path}: waited 2s for a lock")
    assert "another session holds a conflicting lock" in result.reason
    assert "nothing was loaded; retry" in result.reason
    assert loaded(url) == 0
    assert manifest_rows(url, path.name, "FAILED") == 1
    with connect(url) as conn:
        retry = load_file(conn, path, system="bss")
    assert (retry.status, retry.rows_loaded) == ("LOADED", 500)


@pytest.mark.slow
def test_file_larger_than_memory_streams(crashable: dict, tmp_path: Path) -> None:
    """Peak RSS of the loader process at 1x and 4x the file size: flat, not proportional."""
    url, rss = crashable["url"], {}
    for factor, day in ((1, DAY1), (4, DAY2)):
        path = write_fault_file(tmp_path / "landing", day, 150_000 * factor)
        result = finish_loader(start_loader(crashable["home"], url, path))
        assert (result["status"], result["rows_loaded"]) == ("LOADED", 150_000 * factor)
        rss[factor] = (path.stat().st_size, result["max_rss_kib"])
    for factor, (size, kib) in rss.items():
        print(f"{factor}x: file {size / 2**20:.0f} MiB, loader peak RSS {kib / 1024:.0f} MiB")
    file_growth = rss[4][0] - rss[1][0]
    rss_growth = (rss[4][1] - rss[1][1]) * 1024
    # generous: a loader holding the file in memory would grow by at least the file's growth
    assert rss_growth < file_growth / 2, rss
