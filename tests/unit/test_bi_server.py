"""`make bi-stop` ends exactly the process group `make bi` started, children included."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqwh.bi.server import Superset
from sqwh.process_groups import group_alive


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    # a parent that starts a child, like `superset run` with its reloader/threads
    proc = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300; wait"], start_new_session=True)
    state = Superset(home=tmp_path, venv=tmp_path / "venv", port=1)
    state.pid_file.write_text(str(proc.pid))
    try:
        assert state.pid() == proc.pid
        assert state.stop(grace=10) is True
        proc.wait(timeout=10)
        assert not group_alive(proc.pid), "a process of the group survived"
        assert not state.pid_file.exists()
        assert state.stop() is False  # nothing left to stop
    finally:
        if group_alive(proc.pid):
            os.killpg(proc.pid, 9)


def test_stale_pid_file_is_not_running(tmp_path: Path) -> None:
    proc = subprocess.Popen(["true"], start_new_session=True)
    proc.wait()
    state = Superset(home=tmp_path, venv=tmp_path / "venv", port=1)
    state.pid_file.write_text(str(proc.pid))
    assert state.pid() is None
