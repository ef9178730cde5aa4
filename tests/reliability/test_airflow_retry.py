"""Retries by Airflow itself (issue 6): the real ingest DAG under dag.test() with the project's
retry policy; a dropped warehouse connection is retried, a contract failure is not, and a
task that dies after its commit is retried without duplicating a row."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.reliability.faults import PROJECT, count, env_for, write_fault_file

pytestmark = pytest.mark.slow
N = 300_000


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Airflow metadata database for the module: `airflow db migrate` costs ~20 s."""
    return Path(tmp_path_factory.mktemp("airflow-home"))


def probe(mode: str, crashable: dict, landing: Path, airflow_home: Path) -> dict:
    env = env_for(crashable["home"], crashable["url"])
    env["SQWH_LANDING"] = str(landing)
    env["AIRFLOW_HOME"] = str(airflow_home)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.reliability.airflow_probe",
            mode,
            str(landing),
            crashable["admin"],
        ],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]) | {"log": proc.stderr}


def ledger(url: str, status: str) -> int:
    return count(url, "select count(*) from audit.load_manifest where status = %s", status)


def test_connection_drop_is_retried_and_contract_failure_is_not(
    crashable: dict, tmp_path: Path, airflow_home: Path
) -> None:
    url = crashable["url"]
    landing = tmp_path / "landing"
    write_fault_file(landing, date(2019, 1, 1), N)
    out = probe("drop", crashable, landing, airflow_home)
    print(f"\ndrop: {out['state']} after try {out['try_number']}; policy {out['policy']}")
    assert "terminated backend" in out["log"]
    assert out["policy"]["retries"] >= 1 and out["policy"]["exponential_backoff"] is True
    assert (out["run_state"], out["state"], out["try_number"]) == ("success", "success", 2)
    assert count(url, "select count(*) from raw.bss_fault") == N
    assert count(url, "select count(distinct ticket_id) from raw.bss_fault") == N
    assert ledger(url, "LOADED") == 1

    # a file that breaks its contract (MD5 in the .chk is wrong): failed at once, no retry
    bad = write_fault_file(landing, date(2019, 1, 2), 10)
    chk = bad.with_name(bad.name + ".chk")
    chk.write_text(chk.read_text().rsplit("|", 1)[0] + "|" + "0" * 32 + "\n")
    out = probe("contract", crashable, landing, airflow_home)
    print(f"contract: {out['state']} after try {out['try_number']}")
    assert (out["run_state"], out["state"], out["try_number"]) == ("failed", "failed", 1)
    assert ledger(url, "REFUSED") == 1
    assert count(url, "select count(*) from raw.bss_fault") == N
    assert (
        count(
            url,
            "select count(*) from audit.alert where task_id = 'load_bss_fault' and run_id = %s"
            " and kind = 'data_contract' and message like %s",
            out["run_id"],
            "%MD5 is % but the control file says 00000000000000000000000000000000%Not retried%",
        )
        == 1
    )


def test_task_dying_after_commit_is_retried_idempotently(
    crashable: dict, tmp_path: Path, airflow_home: Path
) -> None:
    url = crashable["url"]
    landing = tmp_path / "landing"
    write_fault_file(landing, date(2019, 1, 1), 20_000)
    out = probe("die-after-commit", crashable, landing, airflow_home)
    print(f"\ndie-after-commit: {out['state']} after try {out['try_number']}")
    assert (out["run_state"], out["state"], out["try_number"]) == ("success", "success", 2)
    assert count(url, "select count(*) from raw.bss_fault") == 20_000
    assert count(url, "select count(distinct ticket_id) from raw.bss_fault") == 20_000
    assert ledger(url, "LOADED") == 1
