"""The dbt project's own rules, read from its manifest (`dbt parse`, no database): every
model and column described, every model tested, contracts on marts and indicators, the
exposures of the report and the BI dashboard, a unit test for each edge rule."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from sqwh.transform import INCREMENTAL_MODELS

ROOT = Path(__file__).resolve().parents[2]

EDGE_RULE_UNIT_TESTS = {
    "call_short_abandon_5s_and_answer_15s_inclusive",  # 5 s abandon, 15 s answer
    "fault_restored_at_exact_limit_and_period_by_report",  # exact limit, 30 Jun 23:59:59
    "fault_reported_1_july_midnight_is_h2",  # 1 Jul 00:00:00
    "complaint_open_across_period_end",
    "duplicated_order_once_latest_delivery_wins",
    "test_and_cancelled_orders_never_count",
    "city_without_faults_null_with_reason",
}


@cache
def manifest() -> dict[str, Any]:
    from sqwh.dbt_tasks import ensure_manifest

    return json.loads(ensure_manifest().read_text(encoding="utf-8"))


def _nodes(*kinds: str) -> list[dict[str, Any]]:
    return [n for n in manifest()["nodes"].values() if n["resource_type"] in kinds]


def _where(node: dict[str, Any]) -> str:
    return f"{node['name']} ({node['original_file_path']})"


def test_every_model_seed_and_column_is_described() -> None:
    missing = [
        _where(n) for n in _nodes("model", "seed", "snapshot") if not n["description"].strip()
    ]
    assert not missing, f"models without description: {missing}"
    columns = [
        f"{_where(n)}: column {c}"
        for n in _nodes("model", "seed")
        for c, spec in n["columns"].items()
        if not (spec.get("description") or "").strip()
    ]
    assert not columns, f"columns without description: {columns}"


def test_every_model_has_data_tests() -> None:
    tested: set[str] = set()
    for test in _nodes("test"):
        tested.update(test["depends_on"]["nodes"])
    untested = [_where(n) for n in _nodes("model", "seed") if n["unique_id"] not in tested]
    assert not untested, f"models without a dbt data test: {untested}"


@pytest.mark.parametrize("layer", ["marts", "indicators"])
def test_marts_and_indicators_have_enforced_contracts(layer: str) -> None:
    models = [n for n in _nodes("model") if n["fqn"][1] == layer]
    assert models
    loose = [_where(n) for n in models if not n["config"]["contract"]["enforced"]]
    assert not loose, f"{layer} models without an enforced contract: {loose}"
    untyped = [
        f"{_where(n)}: {c}" for n in models for c, s in n["columns"].items() if not s["data_type"]
    ]
    assert not untyped, f"contract columns without data_type: {untyped}"


def test_exposures_name_the_report_and_the_dashboard() -> None:
    exposures = {e["name"]: e for e in manifest()["exposures"].values()}
    indicators = "model.sqwh.half_year_indicators"
    assert indicators in exposures["half_year_report"]["depends_on"]["nodes"]
    dashboard = exposures["service_quality_dashboard"]
    assert dashboard["type"] == "dashboard"
    # the exposure names the dashboard the repository ships (bi/bundle), by title and slug
    bundle = yaml.safe_load(next((ROOT / "bi/bundle/dashboards").glob("*.yaml")).read_text())
    assert dashboard["label"] == bundle["dashboard_title"]
    assert dashboard["url"].endswith(f"/superset/dashboard/{bundle['slug']}/")
    assert indicators in dashboard["depends_on"]["nodes"]


def test_each_edge_rule_has_a_dbt_unit_test() -> None:
    names = {u["name"] for u in manifest()["unit_tests"].values()}
    assert EDGE_RULE_UNIT_TESTS <= names, f"missing: {sorted(EDGE_RULE_UNIT_TESTS - names)}"


def test_large_entities_build_incrementally() -> None:
    by_name = {n["name"]: n for n in _nodes("model")}
    for name in INCREMENTAL_MODELS:
        config = by_name[name]["config"]
        assert config["materialized"] == "incremental", name
        assert config["incremental_strategy"] == "delete+insert", name


def test_views_read_only_relations_that_keep_their_identity() -> None:
    """PostgreSQL binds a view to the relations it reads. Views are replaced in place
    (dbt/macros/materializations/view_in_place.sql), but a table model is rebuilt by a swap
    whose drop CASCADEs to every view on the old table: such a view would vanish until the run
    recreated it (reliability case B2). So a view may read sources, seeds (reloaded in place)
    and other views only."""
    nodes = manifest()["nodes"]
    materialized = {uid: n["config"].get("materialized") for uid, n in nodes.items()}
    offending = [
        f"{_where(n)} reads {nodes[dep]['name']} ({materialized[dep]})"
        for n in _nodes("model")
        if materialized[n["unique_id"]] == "view"
        for dep in n["depends_on"]["nodes"]
        if dep in nodes
        and nodes[dep]["resource_type"] == "model"
        and materialized[dep] not in ("view", "ephemeral")
    ]
    assert not offending, f"views built on swapped tables: {offending}"
    overrides = manifest()["macros"]
    assert "macro.sqwh.materialization_view_postgres" in overrides, sorted(
        m for m in overrides if "materialization_view" in m
    )
