"""Background services (Airflow components, Superset) run in process groups of their own, so
stopping one ends every process it started, and nothing is left behind by PID."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def group_alive(pgid: int) -> bool:
    # not os.killpg(pgid, 0): it also succeeds for a group of zombies, which is finished
    return bool(group_members(pgid))


def stop_group(pgid: int, grace: float, poll: float = 0.3) -> bool:
    """SIGTERM the group, SIGKILL what is left after ``grace`` seconds; False if it was gone."""
    if not group_alive(pgid):
        return False
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and group_alive(pgid):
        time.sleep(poll)
    if group_alive(pgid):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return True
