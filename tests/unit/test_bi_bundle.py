"""The committed Superset bundle (bi/bundle/) agrees with the catalogue, reads only what
bi_reader may read, and renders into an importable zip with the real connection URL."""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path

import yaml

from sqwh.bi import bundle
from sqwh.bi.reader import reader_url

COMMITTED = bundle.load(bundle.bundle_dir())


def test_every_chart_is_generated_from_the_current_catalogue() -> None:
    specs = bundle.chart_specs()
    charts = {rel: c for rel, c in COMMITTED.items() if rel.startswith("charts/")}
    assert len(charts) == len(specs), "bi/bundle is stale: run `python -m sqwh.bi.bundle`"
    for spec in specs:
        assert charts[f"charts/{spec.key}.yaml"] == yaml.safe_load(bundle.dump(bundle._chart(spec))), (
            f"charts/{spec.key}.yaml differs from the catalogue: run `python -m sqwh.bi.bundle`"
        )  # fmt: skip


def test_dashboard_places_every_chart() -> None:
    dashboard = COMMITTED["dashboards/sqwh_indicators.yaml"]
    placed = {
        v["meta"]["uuid"] for v in dashboard["position"].values()
        if isinstance(v, dict) and v.get("type") == "CHART"
    }  # fmt: skip
    charts = {c["uuid"] for rel, c in COMMITTED.items() if rel.startswith("charts/")}
    assert placed == charts


def test_datasets_read_only_reporting_and_granted_marts() -> None:
    datasets = [c for rel, c in COMMITTED.items() if rel.startswith("datasets/")]
    assert {(d["schema"], d["table_name"]) for d in datasets if not d["sql"]} == set(
        bundle.PHYSICAL
    )
    for d in datasets:
        assert d["schema"] in {"reporting", "marts"}, d["table_name"]
        if d["sql"]:
            tables = re.findall(r"\b(?:from|join)\s+([a-z_]+)\.([a-z_]+)", d["sql"])
            assert tables and set(tables) <= set(bundle.PHYSICAL), tables
    database = COMMITTED["databases/sqwh_warehouse.yaml"]
    assert database["sqlalchemy_uri"].startswith("postgresql+psycopg2://bi_reader@")
    assert not database["allow_dml"] and not database["allow_file_upload"]


def test_render_zip_puts_the_real_url_in_an_owner_only_assets_bundle(tmp_path: Path) -> None:
    url = "postgresql+psycopg2://bi_reader:s3cret@db.example:5432/warehouse"
    out = bundle.render_zip(bundle.bundle_dir(), url, tmp_path / "b.zip")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert "sqwh_bundle/metadata.yaml" in names
        assert yaml.safe_load(zf.read("sqwh_bundle/metadata.yaml"))["type"] == "assets"
        db = yaml.safe_load(zf.read("sqwh_bundle/databases/sqwh_warehouse.yaml"))
    assert db["sqlalchemy_uri"] == url
    assert len(names) == len(COMMITTED)


def test_reader_url_uses_the_socket_directory_or_tcp() -> None:
    embedded = "postgresql://postgres:@/warehouse?host=/tmp/x/pgdata"
    assert reader_url(embedded, password="") == (
        "postgresql+psycopg2://bi_reader@/warehouse?host=/tmp/x/pgdata&port=5432"
    )
    server = "postgresql://postgres:admin-pw@10.0.0.5:5433/dwh"
    assert reader_url(server, password="p@ss/word") == (
        "postgresql+psycopg2://bi_reader:p%40ss%2Fword@10.0.0.5:5433/dwh"
    )
