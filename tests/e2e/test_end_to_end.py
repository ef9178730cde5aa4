"""The whole chain on generated extracts, through the real CLI and the real Airflow DAGs,
against the embedded default and the server PostgreSQL. Published figures are compared with
the independent pandas oracle (tests/oracle) computed from the extract files themselves."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import Sqwh
from tests.oracle import compute_indicators

pytestmark = pytest.mark.slow

PERIOD = "2019H1"
SCALE = "XS"
SEED = "7"


@pytest.fixture(scope="module", params=["embedded", "server"])
def chain(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One warehouse per path, with 2019H1 generated and published once."""
    sqwh: Sqwh = request.getfixturevalue(f"{request.param}_sqwh")
    landing = Path(tmp_path_factory.mktemp(f"landing-{request.param}"))
    sqwh("generate", "--period", PERIOD, "--scale", SCALE, "--seed", SEED, "--out", str(landing))
    first = sqwh("run", "--landing", str(landing), "--period", PERIOD)
    return sqwh, landing, first


def published(sqwh: Sqwh, period: str) -> pd.DataFrame:
    with sqwh.connect() as conn:
        cur = conn.execute(
            """select geo_level, city_code, breakdown_type, breakdown, indicator_code, numerator, denominator,
                      value, publication_id
               from reporting.half_year_indicators where period = %s""",
            (period,),
        )
        cols = [d.name for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=cols)


def reporting_digest(sqwh: Sqwh) -> str:
    with sqwh.connect() as conn:
        rows = conn.execute(
            "select r::text from reporting.half_year_indicators as r order by r::text"
        ).fetchall()
    return hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()


def _blank(v):
    return (
        None if v is None or v is pd.NA or v == "" or (isinstance(v, float) and pd.isna(v)) else v
    )


def _key(row) -> tuple:
    return (
        row.indicator_code,
        row.geo_level,
        _blank(row.city_code),
        _blank(row.breakdown_type),
        _blank(row.breakdown),
    )


def _num(v) -> float | None:
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return None
    return float(v)


def _same(published_value, oracle_value) -> bool:
    """Values are rounded to 2 decimals on both sides; fractional numerators (averages of
    minutes, average subscribers) may differ in the last binary digit of the oracle's float."""
    a, b = _num(published_value), _num(oracle_value)
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def test_published_values_equal_the_independent_oracle(chain) -> None:
    sqwh, landing, _ = chain
    got = published(sqwh, PERIOD)
    codes = set(got.indicator_code)
    assert {
        "CH_OUTLETS",
        "CH_COVER_COUNTY",
        "CC_ANSWER_15S",
        "FT_REPAIR_ONTIME",
        "CP_ONTIME",
    } <= codes
    expected = compute_indicators(landing, PERIOD)
    expected = expected[expected.indicator_code.isin(codes)]
    got_by_key = {_key(r): r for r in got.itertuples()}
    exp_by_key = {_key(r): r for r in expected.itertuples()}
    assert set(got_by_key) == set(exp_by_key), (
        f"rows only published: {sorted(set(got_by_key) - set(exp_by_key), key=str)[:5]}; "
        f"rows only in oracle: {sorted(set(exp_by_key) - set(got_by_key), key=str)[:5]}"
    )
    mismatches = []
    for key, exp in exp_by_key.items():
        row = got_by_key[key]
        for field in ("numerator", "denominator", "value"):
            if not _same(getattr(row, field), getattr(exp, field)):
                mismatches.append((key, field, getattr(row, field), getattr(exp, field)))
    assert not mismatches, (
        f"{len(mismatches)} published figures differ from the oracle: {mismatches[:10]}"
    )
    # 11 cities + province for every published indicator
    headline = got[got.breakdown_type.isna()]
    assert (headline.groupby("indicator_code").size() == 12).all()


def test_rerun_loads_nothing_twice_and_publishes_identical_numbers(chain) -> None:
    sqwh, landing, _ = chain
    with sqwh.connect() as conn:
        before_rows = conn.execute("select count(*) from raw.cc_call").fetchone()[0]
        loads_before = conn.execute(
            "select count(*) from audit.load_manifest where status = 'LOADED'"
        ).fetchone()[0]
    first = published(sqwh, PERIOD).drop(columns="publication_id")
    sqwh("run", "--landing", str(landing), "--period", PERIOD)
    with sqwh.connect() as conn:
        assert conn.execute("select count(*) from raw.cc_call").fetchone()[0] == before_rows
        assert (
            conn.execute(
                "select count(*) from audit.load_manifest where status = 'LOADED'"
            ).fetchone()[0]
            == loads_before
        )
        dup = conn.execute(
            "select count(*) from (select sha256 from audit.load_manifest where status = 'LOADED' and declared_records > 0 group by sha256 having count(*) > 1) d"
        ).fetchone()[0]
        assert dup == 0
        pubs = conn.execute(
            "select count(*) from audit.publication where period = %s", (PERIOD,)
        ).fetchone()[0]
        assert pubs >= 2
    second = published(sqwh, PERIOD).drop(columns="publication_id")
    cols = list(first.columns)
    pd.testing.assert_frame_equal(
        first.sort_values(cols[:5], na_position="first").reset_index(drop=True),
        second.sort_values(cols[:5], na_position="first").reset_index(drop=True),
    )


def test_export_csv_holds_every_published_figure(chain, tmp_path: Path) -> None:
    import csv
    from decimal import Decimal

    sqwh, _, _ = chain
    target = tmp_path / "figures.csv"
    out = sqwh("export", "--period", PERIOD, "--out", str(target)).stdout
    frame = published(sqwh, PERIOD)
    assert f"({len(frame)} rows)" in out
    with target.open(encoding="utf-8-sig", newline="") as f:
        exported = list(csv.DictReader(f))
    assert len(exported) == len(frame)
    assert {r["publication_id"] for r in exported} == {str(frame.publication_id.iloc[0])}

    def key(r) -> tuple:
        return (r["indicator_code"], r["geo_level"], r["city_code"] or None,
                r["breakdown_type"] or None, r["breakdown"] or None)  # fmt: skip

    by_key = {key(r): r for r in exported}
    for row in frame.itertuples():
        r = by_key[_key(row)]
        for column in ("numerator", "denominator", "value"):
            got, want = r[column], getattr(row, column)
            assert (Decimal(got) if got else None) == (None if pd.isna(want) else Decimal(want))
    assert {r["city_name"] for r in exported if r["city_code"]} >= {"太原市"}


def test_missing_city_calls_fail_the_gate_and_leave_reporting_untouched(
    chain, tmp_path: Path
) -> None:
    sqwh, _, _ = chain
    before = reporting_digest(sqwh)
    landing = tmp_path / "landing"
    sqwh(
        "generate",
        "--period",
        "2019H2",
        "--scale",
        SCALE,
        "--seed",
        SEED,
        "--out",
        str(landing),
        "--defect",
        "drop-city:CC_CALL:140300",
    )
    proc = sqwh("run", "--landing", str(landing), "--period", "2019H2", check=False)
    assert proc.returncode != 0
    assert "city-days covered" in proc.stderr
    assert "140300" in proc.stderr
    assert "Nothing was published" in proc.stderr
    assert reporting_digest(sqwh) == before
    with sqwh.connect() as conn:
        assert (
            conn.execute(
                "select count(*) from reporting.half_year_indicators where period = '2019H2'"
            ).fetchone()[0]
            == 0
        )


def test_reproduction_is_exact_and_detects_a_tampered_input(chain) -> None:
    sqwh, _, _ = chain
    with sqwh.connect() as conn:
        pub = conn.execute(
            "select max(publication_id) from audit.publication where period = %s", (PERIOD,)
        ).fetchone()[0]
        archived = Path(
            conn.execute(
                """select archive_path from audit.load_manifest
                   where entity = 'CC_CALL' and status = 'LOADED' and rows_loaded > 0 order by load_id limit 1"""
            ).fetchone()[0]
        )
    ok = sqwh("reproduce", "--publication", str(pub))
    assert f"publication {pub} ({PERIOD}) reproduced exactly" in ok.stdout
    assert "0 differences" in ok.stdout
    original = archived.read_bytes()
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    archived.write_bytes(bytes(flipped))
    try:
        bad = sqwh("reproduce", "--publication", str(pub), check=False)
    finally:
        archived.write_bytes(original)
    assert bad.returncode == 1
    assert "cannot be reproduced: archived inputs do not match what was published" in bad.stderr
    assert f"archived copy {archived} has sha256" in bad.stderr


def _assert_oracle_agrees(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got_by_key = {_key(r): r for r in got.itertuples()}
    exp_by_key = {_key(r): r for r in expected.itertuples()}
    assert set(got_by_key) == set(exp_by_key), (
        f"rows only published: {sorted(set(got_by_key) - set(exp_by_key), key=str)[:5]}; "
        f"rows only in oracle: {sorted(set(exp_by_key) - set(got_by_key), key=str)[:5]}"
    )
    mismatches = [
        (key, field, getattr(got_by_key[key], field), getattr(exp, field))
        for key, exp in exp_by_key.items()
        for field in ("numerator", "denominator", "value")
        if not _same(getattr(got_by_key[key], field), getattr(exp, field))
    ]
    assert not mismatches, f"{len(mismatches)} figures differ from the oracle: {mismatches[:10]}"


def test_second_half_year_publishes_with_previous_value_and_change(
    chain, request: pytest.FixtureRequest
) -> None:
    """2019H2 of the same seed into the same landing (the H1 files stay: windows such as
    repeat faults reach back into H1); runs after the failed H2 of the drop-city test, so its
    complete files are corrected re-deliveries of those days (incremental builds)."""
    if request.node.callspec.params["chain"] != "embedded":
        pytest.skip("the second half year runs once, on the embedded warehouse (runtime)")
    sqwh, landing, _ = chain
    sqwh("generate", "--period", "2019H2", "--scale", SCALE, "--seed", SEED, "--out", str(landing))
    sqwh("run", "--landing", str(landing), "--period", "2019H2")
    got = published(sqwh, "2019H2")
    expected = compute_indicators(landing, "2019H2")
    _assert_oracle_agrees(got, expected)
    assert set(got.indicator_code) == set(expected.indicator_code)
    assert len(set(got.indicator_code)) == 24

    with sqwh.connect() as conn:
        rows = conn.execute(
            """select h2.value, h2.previous_value, h2.change, h1.value
               from reporting.half_year_indicators as h2
               left join reporting.half_year_indicators as h1
                   on h1.period = '2019H1' and h1.indicator_code = h2.indicator_code
                   and h1.geo_level = h2.geo_level
                   and h1.city_code is not distinct from h2.city_code
                   and h1.breakdown_type is not distinct from h2.breakdown_type
                   and h1.breakdown is not distinct from h2.breakdown
               where h2.period = '2019H2'"""
        ).fetchall()
    assert all(prev == h1 for _, prev, _, h1 in rows), "previous_value must be the H1 value"
    filled = [
        (v, prev, change) for v, prev, change, _ in rows if v is not None and prev is not None
    ]
    assert len(filled) > 0.9 * len(rows)
    assert all(change == v - prev for v, prev, change in filled)


def test_docs_generate_writes_a_catalog_of_every_model_all_columns_described(
    chain,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    """`dbt docs generate` works on the warehouse the chain built; its catalog (the columns
    the warehouse really has) covers every model, and every column is described."""
    if request.node.callspec.params["chain"] != "embedded":
        pytest.skip("docs are the same on both warehouses; generated once, on the embedded one")
    from sqwh.config import settings
    from sqwh.transform import dbt_env

    sqwh, _, _ = chain
    dbt_dir = settings().dbt_dir
    env = {**os.environ, **sqwh.env, **dbt_env(sqwh.url)}
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "docs",
            "generate",
            "--project-dir",
            str(dbt_dir),
            "--profiles-dir",
            str(dbt_dir),
            "--target-path",
            str(tmp_path),
            "--log-path",
            str(tmp_path / "logs"),
            "--vars",
            json.dumps({"period": PERIOD}),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    catalog = json.loads((tmp_path / "catalog.json").read_text(encoding="utf-8"))
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert (tmp_path / "index.html").exists()
    models = {u: n for u, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    assert set(models) <= set(catalog["nodes"]), (
        f"models missing from catalog.json: {sorted(set(models) - set(catalog['nodes']))}"
    )
    assert "model.sqwh.half_year_indicators" in catalog["nodes"]
    undocumented = [
        f"{models[u]['name']}.{column.lower()}"
        for u in models
        for column in catalog["nodes"][u]["columns"]
        if not (models[u]["columns"].get(column.lower(), {}).get("description") or "").strip()
    ]
    assert not undocumented, f"warehouse columns without a description: {undocumented}"
