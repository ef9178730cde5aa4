"""dbt inside Airflow: the pre-built manifest, per-model tasks (astronomer-cosmos) and
per-layer tasks, with one rule for retries: connection trouble is retried, a failing model
or dbt test (the data or the SQL is wrong) is not.

The manifest is built with ``dbt parse`` by :func:`ensure_manifest` (``make dbt-manifest``,
``sqwh run`` and the local Airflow stack call it when it is missing or older than the dbt
project), never while a DAG file is parsed: the DAG file only reads it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqwh.config import settings

log = logging.getLogger(__name__)

POOL = "sqwh_dbt"
# The pool has 2 slots: per-model tasks take 1 each (two models at a time), a per-layer
# build takes both, so a layer build and a model build never touch the same table at once.
POOL_SLOTS = 2

# dbt selections of the per-layer tasks, in build order (seeds feed the marts). The
# intermediate layer builds alone: built together with the marts (one dbt build, dbt running
# marts beside it) it was 12 % faster at scale 0.3 but slower at scale 1, where the fault
# and repeat-call window sorts and the fact tables' sorts competed for the two cores and the
# disk (the repeat-call model, since folded into fct_calls, took 346 s against 155 s alone;
# docs/benchmarks.md).
LAYERS: dict[str, list[str]] = {
    "staging": ["path:models/staging"],
    "intermediate": ["path:models/intermediate"],
    "marts": ["path:seeds", "path:models/marts"],
    "indicators": ["path:models/indicators"],
}

TRANSIENT = re.compile(
    r"could not connect|connection refused|server closed the connection|terminating connection"
    r"|connection (timed out|reset|already closed)|could not receive data|ssl syscall"
    r"|the database system is (starting up|shutting down|in recovery mode)|failedtoconnect"
    r"|lock timeout|deadlock detected|could not serialize access|too many clients"
    r"|no connection to the server|broken pipe",
    re.IGNORECASE,
)


def looks_transient(text: str) -> bool:
    return bool(TRANSIENT.search(text or ""))


# -- manifest -------------------------------------------------------------------------------


def manifest_path() -> Path:
    default = settings().dbt_dir / "target" / "cosmos" / "manifest.json"
    return Path(os.environ.get("SQWH_DBT_MANIFEST", default))


def _project_files() -> list[Path]:
    dbt = settings().dbt_dir
    files = [dbt / "dbt_project.yml", dbt / "profiles.yml"]
    for sub in ("models", "macros", "seeds", "tests", "snapshots", "analyses"):
        if (dbt / sub).is_dir():
            files += [p for p in (dbt / sub).rglob("*") if p.is_file()]
    return [p for p in files if p.exists()]


def manifest_outdated() -> bool:
    path = manifest_path()
    if not path.exists():
        return True
    built = path.stat().st_mtime
    return any(p.stat().st_mtime > built for p in _project_files())


def ensure_manifest(force: bool = False) -> Path:
    """Build the manifest with `dbt parse` if it is missing or older than the project."""
    path = manifest_path()
    if not force and not manifest_outdated():
        return path
    import fasteners

    path.parent.mkdir(parents=True, exist_ok=True)
    with fasteners.InterProcessLock(str(path.parent / ".build.lock")):
        if not force and not manifest_outdated():
            return path
        dbt = settings().dbt_dir
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            env = {
                **os.environ,
                # parse renders the profile but never connects: any host will do
                "DBT_PG_HOST": os.environ.get("DBT_PG_HOST", "localhost"),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            }
            cmd = [
                str(Path(sys.executable).with_name("dbt")),
                "parse",
                "--project-dir",
                str(dbt),
                "--profiles-dir",
                str(dbt),
                "--target-path",
                tmp,
                "--log-path",
                str(Path(tmp) / "logs"),
                "--quiet",
            ]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
            built = Path(tmp) / "manifest.json"
            if proc.returncode != 0 or not built.exists():
                raise RuntimeError(
                    f"`dbt parse` failed (exit {proc.returncode}); fix the dbt project:\n"
                    + (proc.stdout + proc.stderr)[-3000:]
                )
            os.replace(built, path)
    log.info("dbt manifest built: %s", path)
    return path


# -- per-layer tasks (the half-year DAG) ----------------------------------------------------


def build_layer(layer: str, period: str) -> dict[str, int]:
    """`dbt build` (models, seeds, tests) of one layer for one period, as a task step."""
    from sqwh.airflow_tasks import run_step

    return run_step(_build_layer, layer, period)


def _build_layer(layer: str, period: str) -> dict[str, int]:
    from sqwh.pipeline import DataContractError, prepare_warehouse
    from sqwh.transform import run_dbt

    # buildable: a test runs in the layer where the last of its parents is built (a test
    # between a seed and an indicator runs with the indicators, not before they exist)
    args = ["build", "--select", *LAYERS[layer], "--indirect-selection", "buildable"]
    outcome = run_dbt(prepare_warehouse(), args, period=period)
    if not outcome.success:
        text = (
            f"dbt build of the {layer} layer failed for {period}:\n  "
            + "\n  ".join(outcome.failures or ["see dbt log"])
            + f"\nLogs: {settings().logs_dir / 'dbt'}"
        )
        if looks_transient(text):
            raise RuntimeError(f"dbt lost the warehouse; retrying. {text}")
        raise DataContractError(text)
    log.info("layer %s for %s: %s", layer, period, outcome.counts)
    return outcome.counts


# -- per-model tasks (astronomer-cosmos) ----------------------------------------------------


def _dbt_interceptor(context: Any, operator: Any) -> None:
    """Before each cosmos dbt call: the warehouse (socket or TCP, same resolution as every
    other task) goes to profiles.yml through DBT_PG_*; the period through --vars."""
    from sqwh.airflow_tasks import warehouse_url_for_task
    from sqwh.transform import dbt_env

    operator.env = {**(operator.env or {}), **dbt_env(warehouse_url_for_task())}
    period = context["ti"].xcom_pull(task_ids="resolve_period")
    if period:
        operator.vars = {**(operator.vars or {}), "period": period}


def _fail_fast_on_data_errors(project_dir: str, context: Any = None, **_: Any) -> None:
    """After each cosmos dbt call: a failed model or test that is not a connection problem
    fails the task without retries (AirflowFailException); the rest is left to retries."""
    from airflow.sdk.exceptions import AirflowFailException

    path = Path(project_dir) / "target" / "run_results.json"
    if not path.exists():
        return
    results = json.loads(path.read_text(encoding="utf-8")).get("results", [])
    bad = [r for r in results if r.get("status") in ("error", "fail", "runtime error")]
    if not bad:
        return
    text = "\n".join(f"{r.get('unique_id')}: {r.get('status')}: {r.get('message')}" for r in bad)
    if looks_transient(text):
        return
    raise AirflowFailException(f"dbt found a data or model error (not retried):\n{text[:4000]}")


def model_task_group(group_id: str, exclude: list[str]) -> Any:
    """One Airflow task per dbt model/seed (`dbt build --select <node>`: the model and its
    tests), grouped by folder, read from the pre-built manifest (fast to parse)."""
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    manifest = manifest_path()
    if not manifest.exists():
        raise FileNotFoundError(
            f"dbt manifest {manifest} is missing: build it with `make dbt-manifest` "
            "(or any `sqwh run`); DAG parsing never runs dbt"
        )
    dbt = settings().dbt_dir
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=dbt, manifest_path=manifest, partial_parse=True
        ),
        profile_config=ProfileConfig(
            profile_name="warehouse", target_name="dev", profiles_yml_filepath=dbt / "profiles.yml"
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            exclude=exclude,
            test_behavior=TestBehavior.BUILD,
            group_nodes_by_folder=True,
            # asset URIs from a unix-socket host are invalid (stack-notes 6); the
            # entity assets of the ingest DAGs carry the lineage instead
            emit_datasets=False,
        ),
        operator_args={
            "install_deps": False,
            "indirect_selection": "buildable",
            "interceptors": [_dbt_interceptor],
            "callback": _fail_fast_on_data_errors,
            "full_refresh": "{{ params.full_refresh }}",
            "pool": POOL,
            "pool_slots": 1,
        },
    )
