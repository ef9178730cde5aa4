"""The starter dashboard as a Superset export bundle (YAML in ``bi/bundle/``).

The bundle in the repository is what Superset imports; this module writes it (from the
indicator catalogue and the column types of a built warehouse, so that it cannot drift
from either) and renders it into the zip Superset reads, with the real ``bi_reader`` URL.

    python -m sqwh.bi.bundle          # rewrite bi/bundle/ from the catalogue and the warehouse
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sqwh.config import settings

BUNDLE_VERSION = "1.0.0"
NAMESPACE = uuid.UUID("6f1f3c52-8a4e-4c55-9a57-1d0f7f3e2b10")  # fixed: stable uuids across writes
DATABASE_NAME = "sqwh warehouse (bi_reader)"
# The committed URL is an example; render_zip() puts the real one in.
EXAMPLE_URI = "postgresql+psycopg2://bi_reader@localhost:5432/warehouse"
DASHBOARD_TITLE = "服务质量指标 Service quality indicators"
DASHBOARD_SLUG = "sqwh-indicators"
LABELLED = "bi_indicators"

THEMES_ZH = {
    "channels": "渠道服务",
    "hotline": "客服热线",
    "install_repair": "装机与修障",
    "billing": "计费",
    "complaints": "投诉与申诉",
    "care": "客户关怀",
}

# Physical tables BI may read (the role grants them; see sql/reporting.sql and dbt_project.yml).
PHYSICAL = (
    ("reporting", "half_year_indicators"),
    ("marts", "indicator_catalogue"),
    ("marts", "dim_city"),
    ("marts", "dim_area"),
    ("marts", "dim_date"),
    ("marts", "dim_outlet"),
    ("marts", "source_day_coverage"),
)

# The latest published half year with Chinese labels and English codes. Labels come from
# the catalogue and the city dimension, both readable by bi_reader.
LABELLED_SQL = """\
select
    h.period,
    h.geo_level,
    coalesce(h.city_code, 'PROVINCE') as city_code,
    coalesce(c.city_name, '全省') || ' (' || coalesce(h.city_code, 'PROVINCE') || ')' as city,
    k.theme,
    h.indicator_code,
    k.name_zh || ' (' || h.indicator_code || ')' as indicator,
    h.breakdown_type,
    h.breakdown,
    h.value,
    h.unit,
    h.target,
    h.comparison,
    h.meets_target,
    h.previous_value,
    h.change,
    h.publication_id
from reporting.half_year_indicators as h
inner join marts.indicator_catalogue as k on k.indicator_code = h.indicator_code
left join marts.dim_city as c on c.city_code = h.city_code
where h.period = (select max(period) from reporting.half_year_indicators)
"""


@dataclass(frozen=True)
class ChartSpec:
    """One table chart of the dashboard: which rows of ``bi_indicators``, which columns."""

    key: str
    title: str
    where: str
    columns: tuple[str, ...]
    order_by: tuple[str, ...]
    width: int = 12
    height: int = 60


def chart_specs(catalogue: Path | None = None) -> list[ChartSpec]:
    """Province summary, previous-period comparison, then one chart per catalogue theme."""
    themes = _themes(catalogue or settings().dbt_dir / "seeds" / "indicator_catalogue.csv")
    province = "geo_level = 'PROVINCE' and breakdown_type is null"
    specs = [
        ChartSpec(
            key="province_summary",
            title="全省指标与目标 Province summary",
            where=province,
            columns=("indicator", "value", "unit", "target", "comparison", "meets_target"),
            order_by=("indicator_code",),
            width=7,
        ),
        ChartSpec(
            key="previous_period",
            title="与上期比较 Previous-period comparison",
            where=province,
            columns=("indicator", "previous_value", "value", "change", "unit"),
            order_by=("indicator_code",),
            width=5,
        ),
    ]
    for theme in themes:
        specs.append(
            ChartSpec(
                key=f"theme_{theme}",
                title=f"{THEMES_ZH.get(theme, theme)}：各市指标与目标 {theme} by city vs target",
                where=f"geo_level = 'CITY' and breakdown_type is null and theme = '{theme}'",
                columns=("indicator", "city", "value", "unit", "target", "meets_target"),
                order_by=("indicator_code", "city_code"),
            )
        )
    return specs


def _themes(catalogue: Path) -> list[str]:
    with catalogue.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["is_published"].strip().lower() == "true"]
    return list(dict.fromkeys(r["theme"] for r in rows))


def _uuid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def _column(name: str, sql_type: str) -> dict[str, Any]:
    return {
        "column_name": name,
        "verbose_name": None,
        "is_dttm": sql_type.startswith(("DATE", "TIMESTAMP")),
        "is_active": True,
        "type": sql_type,
        "groupby": True,
        "filterable": True,
        "expression": None,
        "description": None,
        "python_date_format": None,
        "extra": None,
    }


def _dataset(schema: str, table: str, columns: list[tuple[str, str]], sql: str | None) -> dict:
    return {
        "table_name": table,
        "main_dttm_col": None,
        "description": None,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "schema": schema,
        "catalog": None,
        "sql": sql,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": _uuid(f"dataset:{schema}.{table}"),
        "metrics": [
            {
                "metric_name": "count",
                "verbose_name": "COUNT(*)",
                "metric_type": "count",
                "expression": "COUNT(*)",
                "description": None,
                "d3format": None,
                "currency": None,
                "extra": None,
                "warning_text": None,
            }
        ],
        "columns": [_column(n, t) for n, t in columns],
        "version": BUNDLE_VERSION,
        "database_uuid": _uuid("database"),
    }


def chart_query(spec: ChartSpec, dataset_id: int | None = None) -> dict[str, Any]:
    """The `/api/v1/chart/data` payload of a chart (Superset keeps it as `query_context`)."""
    return {
        "datasource": {"id": dataset_id, "type": "table"},
        "force": False,
        "queries": [
            {
                "columns": list(spec.columns),
                "filters": [],
                "extras": {"where": f"({spec.where})", "having": ""},
                "orderby": [[c, True] for c in spec.order_by],
                "row_limit": 10000,
                # no metrics at all (not an empty list): a raw query without GROUP BY
                "annotation_layers": [],
                "url_params": {},
                "custom_params": {},
                "custom_form_data": {},
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }


def _chart_params(spec: ChartSpec) -> dict[str, Any]:
    return {
        "viz_type": "table",
        "query_mode": "raw",
        "all_columns": list(spec.columns),
        "groupby": [],
        "metrics": [],
        "percent_metrics": [],
        "order_by_cols": [json.dumps([c, True]) for c in spec.order_by],
        "adhoc_filters": [
            {
                "expressionType": "SQL",
                "clause": "WHERE",
                "sqlExpression": spec.where,
                "subject": None,
                "operator": None,
                "comparator": None,
                "filterOptionName": f"filter_{spec.key}",
                "isExtra": False,
                "isNew": False,
            }
        ],
        "row_limit": 10000,
        "server_page_length": 10,
        "server_pagination": False,
        "include_search": False,
        "show_cell_bars": False,
        "color_pn": True,
        "table_timestamp_format": "smart_date",
        "extra_form_data": {},
        "dashboards": [],
    }


def _chart(spec: ChartSpec) -> dict[str, Any]:
    params = _chart_params(spec)
    query = chart_query(spec)
    query["form_data"] = params
    return {
        "slice_name": spec.title,
        "description": None,
        "certified_by": None,
        "certification_details": None,
        "viz_type": "table",
        "params": params,
        "query_context": json.dumps(query, ensure_ascii=False),
        "cache_timeout": None,
        "uuid": _uuid(f"chart:{spec.key}"),
        "version": BUNDLE_VERSION,
        "dataset_uuid": _uuid(f"dataset:reporting.{LABELLED}"),
    }


def _dashboard(specs: list[ChartSpec]) -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": DASHBOARD_TITLE}},
    }
    rows: list[list[ChartSpec]] = [specs[:2], *[[s] for s in specs[2:]]]
    for n, row in enumerate(rows):
        row_id = f"ROW-{n}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for spec in row:
            chart_id = f"CHART-{spec.key}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "type": "CHART",
                "id": chart_id,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {
                    # the importer remaps chartId to the new chart's id; it must be present
                    "chartId": len(position),
                    "width": spec.width,
                    "height": spec.height,
                    "sliceName": spec.title,
                    "uuid": _uuid(f"chart:{spec.key}"),
                },
            }
    return {
        "dashboard_title": DASHBOARD_TITLE,
        "description": None,
        "css": "",
        "slug": DASHBOARD_SLUG,
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": _uuid("dashboard"),
        "position": position,
        "metadata": {
            "color_scheme": "",
            "refresh_frequency": 0,
            "expanded_slices": {},
            "label_colors": {},
            "timed_refresh_immune_slices": [],
            "cross_filters_enabled": False,
            "default_filters": "{}",
            "native_filter_configuration": [],
        },
        "version": BUNDLE_VERSION,
    }


def _database() -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": EXAMPLE_URI,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "extra": {"allows_virtual_table_explore": True},
        "uuid": _uuid("database"),
        "version": BUNDLE_VERSION,
    }


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() and ch.isascii() else "_" for ch in text).strip("_")


def build(column_types: dict[str, list[tuple[str, str]]]) -> dict[str, dict[str, Any]]:
    """Every file of the bundle, keyed by its path inside the bundle.

    ``column_types`` maps ``schema.table`` (and ``reporting.bi_indicators`` for the labelled
    query) to its ``(column, SQL type)`` list, as read from a built warehouse.
    """
    specs = chart_specs()
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {"version": BUNDLE_VERSION, "type": "Dashboard", "timestamp": "2026-01-01T00:00:00+00:00"},
        "databases/sqwh_warehouse.yaml": _database(),
    }  # fmt: skip
    for schema, table in (*PHYSICAL, ("reporting", LABELLED)):
        sql = LABELLED_SQL if table == LABELLED else None
        cols = column_types[f"{schema}.{table}"]
        files[f"datasets/sqwh_warehouse/{schema}.{table}.yaml"] = _dataset(schema, table, cols, sql)
    for spec in specs:
        files[f"charts/{_slug(spec.key)}.yaml"] = _chart(spec)
    files["dashboards/sqwh_indicators.yaml"] = _dashboard(specs)
    return files


def read_column_types(url: str) -> dict[str, list[tuple[str, str]]]:
    """Column names and types of the datasets, from a warehouse where the marts are built."""
    import psycopg

    types: dict[str, list[tuple[str, str]]] = {}
    with psycopg.connect(url) as conn:
        for schema, table in PHYSICAL:
            rows = conn.execute(
                """select column_name, upper(data_type) from information_schema.columns
                   where table_schema = %s and table_name = %s order by ordinal_position""",
                (schema, table),
            ).fetchall()
            if not rows:
                raise RuntimeError(f"{schema}.{table} not found in {url}: build the marts first")
            types[f"{schema}.{table}"] = [(r[0], r[1]) for r in rows]
        cur = conn.execute(f"select * from ({LABELLED_SQL}) as q limit 0")
        names = {r[0]: r[1] for r in conn.execute("select oid, upper(typname) from pg_type")}
        types[f"reporting.{LABELLED}"] = [(d.name, names[d.type_code]) for d in cur.description]
    return types


def bundle_dir() -> Path:
    return settings().project_dir / "bi" / "bundle"


def write(files: dict[str, dict[str, Any]], target: Path) -> None:
    for rel, content in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(content), encoding="utf-8")


def dump(content: dict[str, Any]) -> str:
    return yaml.safe_dump(content, allow_unicode=True, sort_keys=False, width=100)


def load(source: Path) -> dict[str, dict[str, Any]]:
    """The committed bundle, keyed by path inside it."""
    return {
        p.relative_to(source).as_posix(): yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted(source.rglob("*.yaml"))
    }


def render_zip(source: Path, sqlalchemy_uri: str, out: Path) -> Path:
    """The bundle as Superset's import zip, with the real connection URL (it may carry the
    reader's password, so the zip is written owner-only and should be removed after use)."""
    files = load(source)
    # Superset's assets importer (overwrites; see import_assets.py) wants this type
    files["metadata.yaml"]["type"] = "assets"
    for rel, content in files.items():
        if rel.startswith("databases/"):
            content["sqlalchemy_uri"] = sqlalchemy_uri
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel, content in files.items():
            zf.writestr(f"sqwh_bundle/{rel}", dump(content))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(mode=0o600)
    out.write_bytes(buf.getvalue())
    return out


def main() -> int:
    from sqwh.warehouse import warehouse_url

    target = bundle_dir()
    write(build(read_column_types(warehouse_url())), target)
    print(f"bundle written to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
