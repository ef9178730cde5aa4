"""The gate blocks each defect class in the candidate with a precise message (and a clean
candidate passes). Runs on a warehouse where 2019H1 was built by the real chain."""

from __future__ import annotations

import pytest

from tests.e2e.test_end_to_end import PERIOD, chain  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.slow

TAMPER = {
    "numerator above denominator": (
        "update candidate.half_year_indicators set numerator = denominator + 1, value = 100 "
        "where indicator_code = 'CP_ONTIME' and city_code = '140100'",
        "numerator <= denominator",
    ),
    "value not recomputable": (
        "update candidate.half_year_indicators set value = value + 0.01 "
        "where indicator_code = 'CC_ANSWER_15S' and city_code = '140200' and breakdown_type is null",
        "value recomputed from numerator/denominator",
    ),
    "city row missing": (
        "delete from candidate.half_year_indicators where indicator_code = 'FT_REPAIR_ONTIME' and city_code = '140300' "
        "and breakdown_type is null",
        "completeness (city x indicator)",
    ),
    "share above 100 %": (
        "update candidate.half_year_indicators set value = 101 where indicator_code = 'CH_COVER_COUNTY' "
        "and geo_level = 'PROVINCE'",
        "value range",
    ),
    "province not from the cities' items": (
        "update candidate.half_year_indicators set numerator = numerator - 1, value = round(100 * (numerator - 1) / denominator, 2) "
        "where indicator_code = 'CC_ANSWER_15S' and geo_level = 'PROVINCE' and breakdown_type is null",
        "province = sum of cities",
    ),
}


@pytest.fixture
def gate_env(chain, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    sqwh, _, _ = chain
    for key in ("SQWH_HOME", "SQWH_PSEUDONYM_KEY", "WAREHOUSE_URL"):
        if key in sqwh.env:
            monkeypatch.setenv(key, sqwh.env[key])
        else:
            monkeypatch.delenv(key, raising=False)
    with sqwh.connect() as conn:
        conn.execute("drop table if exists candidate.gate_test_backup")
        conn.execute(
            "create table candidate.gate_test_backup as select * from candidate.half_year_indicators"
        )
    yield sqwh
    with sqwh.connect() as conn:
        conn.execute("delete from candidate.half_year_indicators")
        conn.execute(
            "insert into candidate.half_year_indicators select * from candidate.gate_test_backup"
        )
        conn.execute("drop table candidate.gate_test_backup")


def _gate(sqwh):
    from sqwh.quality import run_gate

    return run_gate(sqwh.url, PERIOD, "gate-test")


def test_clean_candidate_passes_every_blocking_check(gate_env) -> None:
    with gate_env.connect() as conn:
        periods = {
            r[0] for r in conn.execute("select distinct period from candidate.half_year_indicators")
        }
    if periods != {PERIOD}:
        pytest.skip(f"candidate holds {periods}; this test needs the {PERIOD} build")
    result = _gate(gate_env)
    assert result.success, result.failure_message()


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_gate_blocks_a_tampered_candidate(gate_env, case: str) -> None:
    statement, check = TAMPER[case]
    with gate_env.connect() as conn:
        periods = {
            r[0] for r in conn.execute("select distinct period from candidate.half_year_indicators")
        }
        if periods != {PERIOD}:
            pytest.skip(f"candidate holds {periods}; this test needs the {PERIOD} build")
        assert conn.execute(statement).rowcount >= 1
    result = _gate(gate_env)
    assert not result.success
    failed = {c.check for s in result.suites for c in s.checks if not c.success and c.blocking}
    assert check in failed, result.failure_message()
    message = result.failure_message()
    assert f"{check} (unexpected_rows_single_pass_expectation)" in message
    assert "e.g. {" in message  # example rows are shown


def test_gate_blocks_raw_codes_outside_their_sets(gate_env) -> None:
    """The raw value-set check reads each raw table once for all its coded columns: a row with
    two columns outside their sets is reported once per column, with the value."""
    with gate_env.connect() as conn:
        ctid, end_reason, hotline = conn.execute(
            "select ctid::text, end_reason, hotline from raw.cc_call limit 1"
        ).fetchone()
        ctid = conn.execute(
            """update raw.cc_call set end_reason = 'HUNG_UP', hotline = '12345'
               where ctid = %s::tid returning ctid::text""",
            (ctid,),
        ).fetchone()[0]
    try:
        result = _gate(gate_env)
    finally:
        with gate_env.connect() as conn:
            conn.execute(
                "update raw.cc_call set end_reason = %s, hotline = %s where ctid = %s::tid",
                (end_reason, hotline, ctid),
            )
    checks = {c.check: c for s in result.suites for c in s.checks}
    assert not result.success
    assert not checks["raw value sets"].success, result.failure_message()
    found = {(e["entity"], e["column_name"], e["value"]) for e in checks["raw value sets"].examples}
    assert found == {("CC_CALL", "end_reason", "HUNG_UP"), ("CC_CALL", "hotline", "12345")}
