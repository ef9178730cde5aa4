"""Run dbt (in-process, dbtRunner) against the resolved warehouse for one period."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqwh.config import settings
from sqwh.warehouse import parse_url

# The large models that build incrementally (a new day reads about a day's rows); the
# dbt project test holds the project to this list, the incremental test and bench use it.
INCREMENTAL_MODELS = (
    "stg_cc__calls",
    "stg_bss__orders",
    "stg_bss__faults",
    "stg_crm__complaints",
    "stg_crm__customers",
    "stg_cc__surveys",
    "int_faults_with_previous_restore",
    "fct_calls",
    "fct_orders",
    "fct_faults",
    "fct_complaints",
    "dim_customer",
    "fct_call_surveys",
    "source_day_coverage",
)

log = logging.getLogger(__name__)


class TransformFailed(Exception):
    pass


@dataclass
class DbtOutcome:
    success: bool
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def dbt_env(url: str) -> dict[str, str]:
    """Environment for dbt's profiles.yml (the connection comes only from here)."""
    info = parse_url(url)
    return {
        "DBT_PG_HOST": info.host,
        "DBT_PG_PORT": str(info.port),
        "DBT_PG_USER": info.user,
        "DBT_PG_PASSWORD": info.password,
        "DBT_PG_DBNAME": info.dbname,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_PROFILES_DIR": str(settings().dbt_dir),
    }


def run_dbt(url: str, args: Sequence[str], period: str | None = None) -> DbtOutcome:
    """Invoke dbt with the project's paths; returns which nodes failed, never raises on them."""
    from dbt.cli.main import dbtRunner

    s = settings()
    os.environ.update(dbt_env(url))
    cli = [
        *args,
        "--project-dir",
        str(s.dbt_dir),
        "--profiles-dir",
        str(s.dbt_dir),
        "--target-path",
        str(s.dbt_target_dir),
        "--log-path",
        str(s.logs_dir / "dbt"),
    ]
    if period:
        cli += ["--vars", json.dumps({"period": period})]
    log.info("dbt %s", " ".join(args))
    result = dbtRunner().invoke(cli)
    outcome = DbtOutcome(success=bool(result.success))
    if result.exception is not None:
        outcome.failures.append(f"dbt {' '.join(args)} could not run: {result.exception}")
        return outcome
    for r in getattr(result.result, "results", None) or []:
        status = str(r.status)
        outcome.counts[status] = outcome.counts.get(status, 0) + 1
        if status in ("error", "fail"):
            outcome.failures.append(f"{r.node.resource_type} {r.node.name}: {status}: {r.message}")
    return outcome


def build(url: str, period: str, select: Sequence[str] = ()) -> DbtOutcome:
    """`dbt build` (seeds, models, tests) for one period; raises with every failed node."""
    args = ["build"] + (["--select", *select] if select else [])
    outcome = run_dbt(url, args, period=period)
    if not outcome.success:
        raise TransformFailed(
            "dbt build failed for "
            + period
            + ":\n  "
            + "\n  ".join(outcome.failures or ["see dbt log"])
            + f"\nLogs: {settings().logs_dir / 'dbt'}"
        )
    return outcome
