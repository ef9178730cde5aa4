"""C2, thresholds at the edge, in the product itself: the dbt models fed with hand-made edge
rows (the project's dbt unit tests), run on their own against a fresh warehouse."""

from __future__ import annotations

from sqwh.config import settings
from sqwh.transform import dbt_env
from tests.unit.test_dbt_project import EDGE_RULE_UNIT_TESTS

PERIOD = "2019H1"


def _dbt(args: list[str]):
    from dbt.cli.main import dbtRunner

    s = settings()
    return dbtRunner().invoke(
        [
            *args,
            "--project-dir",
            str(s.dbt_dir),
            "--profiles-dir",
            str(s.dbt_dir),
            "--target-path",
            str(s.dbt_target_dir),
            "--log-path",
            str(s.logs_dir / "dbt"),
            "--vars",
            f'{{"period": "{PERIOD}"}}',
        ]
    )


def test_each_edge_rule_passes_its_dbt_unit_test(scratch_db: str, monkeypatch) -> None:
    for key, value in dbt_env(scratch_db).items():
        monkeypatch.setenv(key, value)
    # unit tests read their input models' columns from the warehouse: build the seeds and
    # models over the bootstrapped (empty) raw tables, without any test (`--empty` cannot
    # wrap this project's aliased sources)
    prepared = _dbt(["build", "--exclude", "test_type:unit", "test_type:data"])
    assert prepared.success, f"could not prepare the empty models: {prepared.exception}"

    result = _dbt(["test", "--select", "test_type:unit"])

    outcomes = {r.node.name: (str(r.status), r.message) for r in result.result.results}
    assert EDGE_RULE_UNIT_TESTS <= set(outcomes), (
        f"edge unit tests that did not run: {sorted(EDGE_RULE_UNIT_TESTS - set(outcomes))}"
    )
    failed = {n: o for n, o in outcomes.items() if o[0] != "pass"}
    assert not failed, f"dbt unit tests failed: {failed}"
    assert result.success
