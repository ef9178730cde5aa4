"""A live Apache Superset on a published warehouse, connected as ``bi_reader`` (`make bi`).

One published half year (generated extracts, the real chain), then ``python -m sqwh.bi.cli up``
exactly as `make bi` runs it, on a free port. The expectations are computed here from
``reporting.half_year_indicators``, the catalogue seed file and the city dimension, read as
the superuser, never from the bundle's own definitions. Skipped, with the reason printed,
only when Superset cannot be installed (e.g. no package index reachable).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sqwh.bi.server import Superset
from sqwh.registry import load_registry
from tests.bi.client import SupersetClient
from tests.browser import chromium_or_skip
from tests.conftest import PROJECT, Sqwh, _state_env

pytestmark = pytest.mark.slow

PERIOD = "2019H1"
PREVIOUS = "2018H2"  # published first: the comparison chart then has real previous values
ADMIN = ("bi-admin", "bi-test-password-not-secret")
CATALOGUE = PROJECT / "dbt" / "seeds" / "indicator_catalogue.csv"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sqwh]:
    """A warehouse of its own (the e2e tests count loads on theirs) with 2018H2 and 2019H1
    published; the dashboard must show the latest."""
    home = Path(tmp_path_factory.mktemp("sqwh-bi"))
    sqwh = Sqwh(home=home, env=_state_env(home, None))
    for period in (PREVIOUS, PERIOD):
        landing = home / f"landing-{period}"
        sqwh("generate", "--period", period, "--scale", "XS", "--seed", "11", "--out", str(landing))
        sqwh("run", "--landing", str(landing), "--period", period)
    yield sqwh
    sqwh("warehouse", "stop", check=False)


@pytest.fixture(scope="module")
def superset(published: Sqwh) -> Iterator[tuple[SupersetClient, Superset]]:
    env = {**published.env, "SQWH_BI_PORT": str(_free_port()),
           "SUPERSET_ADMIN_USER": ADMIN[0], "SUPERSET_ADMIN_PASSWORD": ADMIN[1]}  # fmt: skip
    state = Superset(
        home=published.home / "bi",
        venv=PROJECT / ".bi" / "venv",
        port=int(env["SQWH_BI_PORT"]),
    )
    install = subprocess.run(
        [sys.executable, "-c", "from sqwh.bi.server import Superset; Superset.default().install()"],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if install.returncode != 0:
        reason = f"Superset cannot be installed here: {install.stderr.strip()[-800:]}"
        print(reason)
        pytest.skip(reason)
    try:
        up = subprocess.run([sys.executable, "-m", "sqwh.bi.cli", "up"], env=env,
                            capture_output=True, text=True, timeout=900)  # fmt: skip
        assert up.returncode == 0, f"make bi failed:\n{up.stdout}\n{up.stderr[-4000:]}"
        assert "bi_reader@/warehouse?host=" in up.stdout, up.stdout  # the unix-socket URL form
        yield SupersetClient(state.url, *ADMIN), state
    finally:
        down = subprocess.run([sys.executable, "-m", "sqwh.bi.cli", "down"], env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        pgid = _pid(state.pid_file)
        if pgid is not None:  # `down` failed to stop it: never leave a server behind
            os.killpg(pgid, signal.SIGKILL)
        assert down.returncode == 0, down.stderr


def _pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text())
        os.killpg(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


# --- expectations, straight from the warehouse and the catalogue file ---------------------
def _catalogue() -> dict[str, dict[str, str]]:
    with CATALOGUE.open(newline="", encoding="utf-8") as fh:
        return {r["indicator_code"]: r for r in csv.DictReader(fh)}


def _reporting(sqwh: Sqwh) -> list[dict[str, Any]]:
    with sqwh.connect() as conn:
        cur = conn.execute(
            """select h.*, c.city_name from reporting.half_year_indicators as h
               left join marts.dim_city as c using (city_code)
               where h.period = %s and h.breakdown_type is null""",
            (PERIOD,),
        )
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _num(v: Decimal | float | None) -> float | None:
    return None if v is None else round(float(v), 6)


def _expected_rows(chart: str, rows: list[dict[str, Any]], cat: dict) -> list[tuple]:
    def label(r: dict) -> str:
        return f"{cat[r['indicator_code']]['name_zh']} ({r['indicator_code']})"

    province = sorted((r for r in rows if r["geo_level"] == "PROVINCE"), key=lambda r: r["indicator_code"])  # fmt: skip
    if "Province summary" in chart:
        return [(label(r), _num(r["value"]), r["unit"], _num(r["target"]), r["comparison"],
                 r["meets_target"]) for r in province]  # fmt: skip
    if "Previous-period comparison" in chart:
        return [(label(r), _num(r["previous_value"]), _num(r["value"]), _num(r["change"]),
                 r["unit"]) for r in province]  # fmt: skip
    theme = re.search(r"(\w+) by city vs target", chart)
    assert theme, f"unexpected chart {chart!r} on the dashboard"
    city = sorted(
        (r for r in rows if r["geo_level"] == "CITY"
         and cat[r["indicator_code"]]["theme"] == theme.group(1)),
        key=lambda r: (r["indicator_code"], r["city_code"]),
    )  # fmt: skip
    return [(label(r), f"{r['city_name']} ({r['city_code']})", _num(r["value"]), r["unit"],
             _num(r["target"]), r["meets_target"]) for r in city]  # fmt: skip


def _chart_rows(client: SupersetClient, chart_id: int) -> tuple[str, list[tuple]]:
    chart = client.get(f"/api/v1/chart/{chart_id}")["result"]
    query = json.loads(chart["query_context"])
    query["datasource"] = {"id": chart["datasource_id"], "type": "table"}
    status, body = client.post("/api/v1/chart/data", query)
    assert status == 200, f"chart {chart['slice_name']}: {status} {body}"
    result = body["result"][0]
    cols = result["colnames"]
    numeric = {"value", "target", "previous_value", "change"}
    rows = [tuple(_num(r[c]) if c in numeric else r[c] for c in cols) for r in result["data"]]
    return chart["slice_name"], rows


def _dashboard_charts(client: SupersetClient) -> list[dict]:
    return client.get("/api/v1/dashboard/sqwh-indicators/charts")["result"]


# --- tests ------------------------------------------------------------------------------
def test_every_chart_equals_reporting_row_by_row(superset, published: Sqwh) -> None:
    client, _ = superset
    rows, cat = _reporting(published), _catalogue()
    assert rows, "the fixture published nothing"
    charts = _dashboard_charts(client)
    seen_city_rows = 0
    themes = set()
    for chart in charts:
        title, got = _chart_rows(client, chart["id"])
        expected = _expected_rows(title, rows, cat)
        assert expected, f"{title}: no published rows to compare with"
        assert got == expected, f"{title}: Superset's rows differ from reporting"
        if m := re.search(r"(\w+) by city vs target", title):
            themes.add(m.group(1))
            seen_city_rows += len(got)
    published_themes = {r["theme"] for r in cat.values() if r["is_published"] == "true"}
    assert themes == published_themes, f"themes without a chart: {published_themes - themes}"
    city_rows = [r for r in rows if r["geo_level"] == "CITY"]
    assert seen_city_rows == len(city_rows), "every city figure is on exactly one theme chart"
    titles = " | ".join(c["slice_name"] for c in charts)
    assert "Province summary" in titles and "Previous-period comparison" in titles, titles
    assert any(r["previous_value"] is not None for r in rows), "no previous values to compare"


def _sql_lab(client: SupersetClient, sql: str) -> tuple[int, Any]:
    """Run `sql` in SQL Lab on the database the dashboard's charts use."""
    chart = client.get(f"/api/v1/chart/{_dashboard_charts(client)[0]['id']}")["result"]
    dataset = client.get(f"/api/v1/dataset/{chart['datasource_id']}")["result"]
    body = {"database_id": dataset["database"]["id"], "sql": sql, "runAsync": False,
            "schema": "reporting"}  # fmt: skip
    return client.post("/api/v1/sqllab/execute/", body)


def test_sql_lab_connection_is_bi_reader_and_reads_reporting(superset) -> None:
    client, _ = superset
    chart = client.get(f"/api/v1/chart/{_dashboard_charts(client)[0]['id']}")["result"]
    dataset = client.get(f"/api/v1/dataset/{chart['datasource_id']}")["result"]
    connection = client.get(f"/api/v1/database/{dataset['database']['id']}/connection")["result"]
    assert connection["sqlalchemy_uri"].startswith(
        "postgresql+psycopg2://bi_reader@/warehouse?host="
    )
    # Superset refuses current_user in SQL Lab; the privilege functions answer for the session role
    status, body = _sql_lab(
        client,
        "select has_table_privilege('reporting.half_year_indicators', 'select') as reads_reporting,"
        " has_schema_privilege('raw', 'usage') as uses_raw,"
        " (select count(*) from reporting.half_year_indicators) as n",
    )
    assert status == 200, body
    assert body["data"] == [{"reads_reporting": True, "uses_raw": False, "n": body["data"][0]["n"]}]
    assert body["data"][0]["n"] > 0


def _personal_columns() -> list[tuple[str, str]]:
    return [(e.table, c) for e in load_registry().entities for c in e.personal_columns]


@pytest.mark.parametrize(
    "sql",
    [f"select {col} from raw.{table} limit 1" for table, col in _personal_columns()]
    + [
        "select * from raw.quarantine limit 1",
        "select caller_no_key from marts.fct_calls limit 1",
        "select * from staging.stg_crm__customers limit 1",
        "select * from audit.publication limit 1",
        "select * from private.pseudonym_key",
    ],
)
def test_sql_lab_refuses_raw_and_personal_data(superset, sql: str) -> None:
    client, _ = superset
    status, body = _sql_lab(client, sql)
    assert status != 200, f"bi_reader could run {sql!r}: {body}"
    assert "permission denied" in json.dumps(body), f"{sql!r} failed, but not on privileges: {body}"  # fmt: skip


def test_browser_logs_in_and_the_dashboard_renders(superset, tmp_path: Path) -> None:
    from PIL import Image

    from tests.bi.cdp import Browser

    client, state = superset
    expected_rows = [_chart_rows(client, c["id"])[1] for c in _dashboard_charts(client)]
    browser = Browser(chromium_or_skip(), width=1400, height=600 + 500 * len(expected_rows))
    try:
        browser.goto(f"{state.url}/login/")
        landed = browser.evaluate(
            f"""(async () => {{
                const body = new URLSearchParams({{username: {json.dumps(ADMIN[0])},
                    password: {json.dumps(ADMIN[1])},
                    csrf_token: document.getElementById('csrf_token').value}});
                const r = await fetch('/login/', {{method: 'POST', body, credentials: 'same-origin'}});
                return r.url; }})()"""
        )
        assert "/login" not in landed, f"login refused, landed on {landed}"
        browser.goto(f"{state.url}/superset/dashboard/sqwh-indicators/?standalone=1")
        rendered = browser.wait_for(
            f"document.querySelectorAll('.dashboard-chart').length === {len(expected_rows)}"
            " && Array.from(document.querySelectorAll('.dashboard-chart'))"
            ".every(e => e.querySelectorAll('tbody tr').length > 0)",
            timeout=120,
        )
        boxes = browser.evaluate(
            "Array.from(document.querySelectorAll('.dashboard-chart')).map(e => {"
            " const r = e.getBoundingClientRect();"
            " return [r.x, r.y, r.width, r.height, e.querySelectorAll('tbody tr').length]; })"
        )
        png = browser.screenshot()
    finally:
        browser.close()
    (tmp_path / "dashboard.png").write_bytes(png)  # kept for a look when the test fails
    assert rendered, f"charts did not render: {boxes}; see {tmp_path / 'dashboard.png'}"
    assert sorted(b[4] for b in boxes) == sorted(len(r) for r in expected_rows)
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size[0] == 1400 and len(png) > 50_000, (image.size, len(png))
    for x, y, w, h, _ in boxes:
        crop = image.crop((int(x), int(y), int(x + w), int(y + h)))
        pixels = list(crop.tobytes())  # mode L: one byte per pixel
        dark = sum(p < 110 for p in pixels) / len(pixels)
        # table text (Chinese labels, figures): a blank or error box has almost no dark pixels
        assert 0.01 < dark < 0.5, f"chart at ({x:.0f}, {y:.0f}) is not a rendered table: {dark:.3f} dark"  # fmt: skip
        assert len(set(pixels)) > 30, f"chart at ({x:.0f}, {y:.0f}) is nearly uniform"
