"""The dbt models are sqlfluff-clean (dbt templater, dbt/.sqlfluff), as `make lint` checks.

Needs the warehouse: the dbt templater compiles the project. About 20 s of CPU, mostly
sqlfluff parsing the 55 models; the jinja templater is no faster here (it renders every
branch of the incremental models) and would lint SQL dbt never runs."""

from __future__ import annotations

import pytest

from tests.conftest import Sqwh


def test_dbt_models_are_sqlfluff_clean(
    embedded_sqwh: Sqwh, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqwh.sqllint import lint

    for key, value in embedded_sqwh.env.items():
        monkeypatch.setenv(key, value)
    proc = lint()
    assert "Project Compiled" in proc.stdout + proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 0, (
        f"sqlfluff found violations:\n{proc.stdout[-6000:]}{proc.stderr[-2000:]}"
    )
