"""The local Airflow stack's executor option: which components start, with what settings,
and the refusal of a CeleryExecutor on SQLite metadata (no process is started then)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqwh.airflow_stack import WORKER, Celery, Stack, main


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQWH_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://nobody@127.0.0.1:1/none")  # never used
    for name in (
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE",
    ):
        monkeypatch.delenv(name, raising=False)


def test_local_stack_has_no_worker_and_the_local_executor(tmp_path: Path) -> None:
    stack = Stack(home=tmp_path / "af")
    assert list(stack.components) == ["api-server", "scheduler", "dag-processor", "triggerer"]
    env = stack.env()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert "AIRFLOW__CELERY__BROKER_URL" not in env
    assert "AIRFLOW__OPERATORS__DEFAULT_QUEUE" not in env


def test_celery_stack_adds_a_worker_on_its_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = "postgresql+psycopg://airflow@db.example:5432/meta"
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", meta)
    stack = Stack(home=tmp_path / "af", celery=Celery("redis://broker.example:6379/7", "heavy", 3))
    assert stack.components[WORKER] == [
        "celery", "worker", "--queues", "heavy", "--concurrency", "3",
    ]  # fmt: skip
    env = stack.env()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://broker.example:6379/7"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+" + meta
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "3"
    assert env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] == "heavy"


def test_celery_on_sqlite_metadata_is_refused_before_anything_starts(tmp_path: Path) -> None:
    stack = Stack(home=tmp_path / "af", celery=Celery())
    with pytest.raises(RuntimeError, match="CeleryExecutor needs a PostgreSQL metadata"):
        stack.start(timeout=5)
    assert stack.pids() == {}
    assert not stack.run_dir.exists()


def test_cli_env_prints_the_celery_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SQWH_AIRFLOW_STACK_HOME", str(tmp_path / "af"))
    assert main(["env", "--executor", "celery", "--broker", "redis://r.example:6379/2"]) == 0
    out = capsys.readouterr().out
    assert "export AIRFLOW__CORE__EXECUTOR=CeleryExecutor" in out
    assert "export AIRFLOW__CELERY__BROKER_URL=redis://r.example:6379/2" in out
    assert main(["env"]) == 0
    assert "export AIRFLOW__CORE__EXECUTOR=LocalExecutor" in capsys.readouterr().out
