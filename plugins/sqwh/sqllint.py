"""sqlfluff over the dbt models with the dbt templater (dbt/.sqlfluff), against the warehouse.

The dbt templater compiles the project, and compiling needs a live connection (incremental
models ask whether their table exists), so this resolves the warehouse like every other
command (WAREHOUSE_URL, else the embedded one, started on demand) and hands it to dbt's
profiles.yml through DBT_PG_*. `make lint` and tests/integration/test_sql_lint.py run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from sqwh.config import settings


def lint(paths: Sequence[str] = ("models",), fix: bool = False) -> subprocess.CompletedProcess:
    """Run `sqlfluff lint` (or `fix`) in the dbt project; returns the finished process."""
    from sqwh.pipeline import prepare_warehouse
    from sqwh.transform import dbt_env

    env = {**os.environ, **dbt_env(prepare_warehouse())}
    sqlfluff = str(Path(sys.executable).with_name("sqlfluff"))
    # one process: the project is compiled once instead of once per worker
    cmd = [sqlfluff, "fix" if fix else "lint", *paths, "--processes", "1", "--disable-progress-bar"]
    return subprocess.run(
        cmd, cwd=settings().dbt_dir, env=env, capture_output=True, text=True, timeout=900
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    fix = "--fix" in args
    paths = [a for a in args if a != "--fix"] or ["models"]
    proc = lint(paths, fix=fix)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
