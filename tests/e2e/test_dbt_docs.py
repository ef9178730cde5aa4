"""`dbt docs generate` works on a warehouse the real chain built, and its catalog (the
columns the warehouse really has) is documented column by column."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_end_to_end import PERIOD, chain  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.slow


def test_docs_generate_writes_a_catalog_of_every_model_all_columns_described(
    chain,  # noqa: F811
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
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
