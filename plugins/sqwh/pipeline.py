"""The steps of the pipeline as plain functions: what an Airflow task (or a person) runs.

DAG files only wire these together; each step takes its slice (a landing folder and source
system, or a period) from its arguments, never from the clock, so a retry repeats the same work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqwh.period import Period
from sqwh.warehouse import warehouse_url

log = logging.getLogger(__name__)
T = TypeVar("T")


class DataContractError(Exception):
    """Input that breaks its contract: retrying will not help, fixing the input will."""


class LoadFailed(RuntimeError):
    """The warehouse failed while loading valid files: transient, left to the retries."""


def as_task(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a step inside an Airflow task: contract failures fail at once (no retry),
    anything else (a dropped connection, a lock timeout) is left to the task's retries."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        return fn(*args, **kwargs)
    except DataContractError as exc:
        raise AirflowFailException(str(exc)) from exc


def prepare_warehouse() -> str:
    from sqwh.schema import bootstrap

    url = warehouse_url()
    bootstrap(url)
    return url


def ingest(
    system: str, landing: str | Path, entity: str | None = None, run_id: str | None = None
) -> dict[str, Any]:
    """Load every new file of one source system (or one entity of it) from the landing folder."""
    from sqwh.ingest import load_landing
    from sqwh.warehouse import connect

    url = prepare_warehouse()
    with connect(url) as conn:
        results = load_landing(
            conn, Path(landing), system, [entity] if entity else None, run_id=run_id
        )
    summary = {
        "files": len(results),
        "loaded": sum(r.status == "LOADED" for r in results),
        "skipped": sum(r.status in ("SKIPPED", "DUPLICATE") for r in results),
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_rejected": sum(r.rows_rejected for r in results),
        "waiting": sum(r.status == "WAITING" for r in results),
    }
    log.info("%s%s: %s", system, f"/{entity}" if entity else "", summary)
    refused = [r for r in results if r.status == "REFUSED"]
    failed = [r for r in results if r.status == "FAILED"]
    listing = "\n".join(f"  {r.status} {r.file}: {r.reason}" for r in refused + failed)
    if refused:
        raise DataContractError(
            f"{len(refused) + len(failed)} file(s) of {system} were refused or failed "
            f"(recorded in audit.load_manifest):\n{listing}"
            "\nFix or re-deliver these files (with their .chk), then run again."
        )
    if failed:
        # the warehouse, not the file, failed (a lock timeout, a full disk): worth a retry
        raise LoadFailed(
            f"{len(failed)} file(s) of {system} could not be loaded because of the warehouse "
            f"(recorded in audit.load_manifest; nothing of them was committed):\n{listing}"
        )
    return summary


def transform(period: str) -> dict[str, Any]:
    from sqwh.transform import TransformFailed, build

    try:
        outcome = build(prepare_warehouse(), Period.parse(period).code)
    except TransformFailed as exc:
        raise DataContractError(str(exc)) from exc
    return outcome.counts


def validate(period: str, run_id: str) -> dict[str, Any]:
    """Run the gate on the candidate; raises with the failed expectations if it blocks."""
    from sqwh.publish import candidate_digest
    from sqwh.quality import run_gate
    from sqwh.warehouse import connect

    url = prepare_warehouse()
    with connect(url) as conn:
        digest = candidate_digest(conn)
    gate = run_gate(url, Period.parse(period).code, run_id)
    if not gate.success:
        raise DataContractError(gate.failure_message())
    return {
        "validation_ids": [s.validation_id for s in gate.suites],
        "digest": digest,
        "pages": [str(s.page) for s in gate.suites],
    }


def publish(period: str, run_id: str, validation: dict[str, Any], reason: str | None = None) -> int:
    """Publish the validated candidate; ``reason`` says why a published period is redone."""
    from sqwh.publish import publish as publish_candidate

    return publish_candidate(
        prepare_warehouse(),
        Period.parse(period).code,
        run_id,
        validation["validation_ids"],
        validation["digest"],
        reason,
    )
