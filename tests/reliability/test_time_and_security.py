"""Sections C and D of the fault catalogue: the half-year boundary whatever the server
TimeZone, no clock in the pipeline, a canary password that must leak nowhere, and no clear
personal data beyond ``raw``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from sqwh.ingest import load_file
from sqwh.transform import dbt_env
from sqwh.warehouse import connect
from tests.conftest import SERVER_ADMIN_URL, Sqwh, _state_env, server_available
from tests.reliability.faults import FAULT_HEADER, PROJECT

# -- C1: the half-year boundary ------------------------------------------------------------


def _deliver(landing: Path, day: str, stamp: str) -> Path:
    import hashlib

    name = f"BSS_FAULT_{day}.csv"
    data = (
        f"{FAULT_HEADER}\nT{day}|13500000000|FIXED|140100|140105|URBAN|{stamp}||LINE|10000\n"
    ).encode()
    path = landing / "bss" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    (path.parent / f"{name}.chk").write_text(
        f"{name}|{len(data)}|1|{hashlib.md5(data).hexdigest()}\n"
    )
    return path


def _compile(url: str, code: str, period: str, target: Path) -> str:
    """The product's dbt macros compiled for ``period`` (dbt compile --inline)."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(url))
    project = PROJECT / "dbt"
    result = dbtRunner().invoke(
        [
            "compile",
            "--inline",
            code,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
            "--vars",
            json.dumps({"period": period}),
            "--quiet",
        ]
    )
    assert result.success, result.exception
    return result.result.results[0].node.compiled_code


@pytest.mark.parametrize("server_tz", ["UTC", "Asia/Shanghai"])
def test_half_year_boundary_in_asia_shanghai(
    crashable: dict, tmp_path: Path, server_tz: str
) -> None:
    url = crashable["url"]
    with psycopg.connect(url, autocommit=True) as conn:
        db = conn.info.dbname
        conn.execute(
            sql.SQL("alter database {} set timezone = {}").format(
                sql.Identifier(db), sql.Literal(server_tz)
            )
        )
    last = _deliver(tmp_path, "20190630", "20190630235959")
    first = _deliver(tmp_path, "20190701", "20190701000000")
    with connect(url) as conn:
        assert conn.execute("show timezone").fetchone()[0] == server_tz
        for path in (last, first):
            assert load_file(conn, path, system="bss").status == "LOADED"
    code = (
        "select ticket_id, report_time >= {{ period_start() }} and report_time < {{ period_end() }}"
        " as in_period, {{ local_date('report_time') }} as local_day from raw.bss_fault"
    )
    verdict = {}
    for period in ("2019H1", "2019H2"):
        compiled = _compile(url, code, period, tmp_path / "target")
        with psycopg.connect(url) as conn:  # a new session: the database's TimeZone
            assert conn.execute("show timezone").fetchone()[0] == server_tz
            for ticket, in_period, day in conn.execute(compiled):
                verdict[(ticket, period)] = (in_period, day.isoformat())
    assert verdict == {
        ("T20190630", "2019H1"): (True, "2019-06-30"),
        ("T20190630", "2019H2"): (False, "2019-06-30"),
        ("T20190701", "2019H1"): (False, "2019-07-01"),
        ("T20190701", "2019H2"): (True, "2019-07-01"),
    }
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set timezone = 'Asia/Shanghai'")
        stamps = [
            r[0] for r in conn.execute("select report_time::text from raw.bss_fault order by 1")
        ]
    assert stamps == ["2019-06-30 23:59:59+08", "2019-07-01 00:00:00+08"]


# -- C3: wall clock ------------------------------------------------------------------------

CLOCK = re.compile(
    r"\b(now\s*\(|current_date\b|current_timestamp\b|localtimestamp\b|clock_timestamp\s*\(|"
    r"statement_timestamp\s*\(|transaction_timestamp\s*\(|run_started_at\b|modules\.datetime)",
    re.IGNORECASE,
)
PY_CLOCK = re.compile(r"\b(datetime\.now|date\.today|time\.time\(\)|pendulum\.now|utcnow)\b")
# audit timestamps (when a load or publication happened) may use the clock; figures may not
# (file, text on the line): clock uses that stamp when something happened, not what is computed
AUDIT_STAMPS = {("quality.py", "render_suite_page(")}  # the validation page's "rendered at"
# the incremental models stamp the rows they (re)write, so that a downstream model reads only
# those; the stamp says when a row was built, never which period or figure it belongs to
SQL_AUDIT_STAMP = re.compile(r"^now\(\) as refreshed_at,?$")
PY_STEPS = ["pipeline.py", "transform.py", "publish.py", "quality.py", "period.py", "coverage.py"]


def test_period_never_comes_from_the_clock() -> None:
    found = []
    for path in sorted((PROJECT / "dbt").rglob("*.sql")):
        if "target" in path.parts or "dbt_packages" in path.parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if CLOCK.search(line) and not SQL_AUDIT_STAMP.match(line.strip()):
                found.append(f"{path.relative_to(PROJECT)}:{n}: {line.strip()}")
    for name in PY_STEPS:
        path = PROJECT / "plugins" / "sqwh" / name
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(f == name and text in line for f, text in AUDIT_STAMPS):
                continue
            if PY_CLOCK.search(line) or ("now()" in line and "select" in line.lower()):
                found.append(f"{path.relative_to(PROJECT)}:{n}: {line.strip()}")
    assert not found, "the clock decides what is computed:\n" + "\n".join(found)
    # the probes can fail: they see a clock where there is one
    assert CLOCK.search("where day < current_date") and PY_CLOCK.search("datetime.now(UTC)")
    assert not SQL_AUDIT_STAMP.match("now() as business_date")


# -- D4 / D5: secrets and personal data after a whole run on the server ---------------------

PHONE = r"(^|[^0-9A-Za-z])1[3-9][0-9]{9}([^0-9A-Za-z]|$)"
ID_NUMBER = (
    r"(^|[^0-9A-Za-z])[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
    r"[0-9]{3}[0-9Xx]([^0-9A-Za-z]|$)"
)
SKIP_DIRS = {"pgdata", "archive", "landing", "run"}  # raw input copies and the database itself


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`sqwh run` on the server PostgreSQL as a role of its own with a canary password."""
    if not server_available():
        pytest.skip(f"no server PostgreSQL answers at {SERVER_ADMIN_URL}")
    tag = uuid.uuid4().hex[:8]
    role, db = f"sqwh_canary_{tag}", f"sqwh_canary_{tag}"
    canary = f"Canary{uuid.uuid4().hex}"
    with psycopg.connect(SERVER_ADMIN_URL, autocommit=True) as conn:
        # superuser: bootstrap creates the cluster-wide roles and grants them
        conn.execute(
            sql.SQL("create role {} login superuser password {}").format(
                sql.Identifier(role), sql.Literal(canary)
            )
        )
        conn.execute(
            sql.SQL("create database {} owner {}").format(sql.Identifier(db), sql.Identifier(role))
        )
    home = Path(tmp_path_factory.mktemp("canary"))
    host = SERVER_ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql://{role}:{canary}@{host}/{db}"
    runner = Sqwh(home=home, env=_state_env(home, url))
    landing = home / "landing"
    try:
        gen = runner(
            "generate", "--period", "2019H1", "--scale", "XS", "--seed", "7", "--out", str(landing)
        )
        run = runner("run", "--landing", str(landing), "--period", "2019H1", check=False)
        yield {"home": home, "url": url, "canary": canary, "outputs": [gen, run], "run": run}
    finally:
        with psycopg.connect(SERVER_ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db))
            )
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def _files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and not (set(path.relative_to(root).parts[:1]) & SKIP_DIRS):
            yield path


@pytest.mark.slow
@pytest.mark.server
def test_canary_password_leaks_nowhere(canary_run: dict) -> None:
    run, canary = canary_run["run"], canary_run["canary"]
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    needle = canary.encode()
    scanned, leaks = 0, []
    for path in _files(canary_run["home"]):
        scanned += 1
        if needle in path.read_bytes():
            leaks.append(str(path.relative_to(canary_run["home"])))
    for root in (PROJECT / "dbt" / "target", PROJECT / "dbt" / "logs", PROJECT / "logs"):
        if root.exists():
            for path in root.rglob("*"):
                scanned += 1
                if path.is_file() and needle in path.read_bytes():
                    leaks.append(str(path))
    for proc in canary_run["outputs"]:
        if canary in proc.stdout + proc.stderr:
            leaks.append(f"output of {' '.join(proc.args[1:3])}")
    tracked = subprocess.run(
        ["git", "-C", str(PROJECT), "grep", "-l", "-F", canary], capture_output=True, text=True
    )
    assert tracked.returncode == 1, f"git grep: {tracked.stdout}{tracked.stderr}"
    print(f"\nscanned {scanned} files, the run's output and the tracked tree")
    assert scanned > 50 and any(canary_run["home"].glob("reports/**/*.html"))
    assert not leaks, f"canary password found in: {leaks}"


def _relations(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    return conn.execute(
        """select n.nspname, c.relname, a.attname
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
           where c.relkind in ('r', 'v', 'm', 'p')
             and n.nspname not in ('pg_catalog', 'information_schema', 'raw')
             and n.nspname not like 'pg\\_%'
           order by 1, 2, 3"""
    ).fetchall()


def _hits(conn: psycopg.Connection, schema: str, table: str, column: str, pattern: str) -> int:
    return conn.execute(
        sql.SQL("select count(*) from {} where {}::text ~ %s").format(
            sql.Identifier(schema, table), sql.Identifier(column)
        ),
        (pattern,),
    ).fetchone()[0]


@pytest.mark.slow
@pytest.mark.server
def test_no_clear_personal_data_beyond_raw(canary_run: dict) -> None:
    assert canary_run["run"].returncode == 0, canary_run["run"].stderr[-4000:]
    found = []
    with psycopg.connect(canary_run["url"], autocommit=True) as conn:
        # the probes can fail: raw holds clear numbers by design
        assert _hits(conn, "raw", "cc_call", "caller_no", PHONE) > 0
        assert _hits(conn, "raw", "crm_customer", "id_no", ID_NUMBER) > 0
        columns = _relations(conn)
        schemas = sorted({s for s, _, _ in columns})
        for schema, table, column in columns:
            for label, pattern in (("phone", PHONE), ("ID number", ID_NUMBER)):
                n = _hits(conn, schema, table, column, pattern)
                if n:
                    found.append(f"{schema}.{table}.{column}: {n} {label}(s)")
    scanned: dict[str, int] = {"page": 0, "log": 0, "other": 0}
    phone, id_no = re.compile(PHONE), re.compile(ID_NUMBER)
    for path in _files(canary_run["home"]):
        if path.suffix in (".html", ".log", ".json", ".txt", ".md") or "logs" in path.parts:
            kind = "page" if path.suffix == ".html" else "log" if "logs" in path.parts else "other"
            scanned[kind] += 1
            text = path.read_text(encoding="utf-8", errors="replace")
            for label, rx in (("phone", phone), ("ID number", id_no)):
                m = rx.search(text)
                if m:
                    found.append(
                        f"{path.relative_to(canary_run['home'])}: {label} {m.group(0).strip()}"
                    )
    for proc in canary_run["outputs"]:  # what `sqwh run` printed: the task logs of dag.test()
        scanned["log"] += 1
        for label, rx in (("phone", phone), ("ID number", id_no)):
            m = rx.search(proc.stdout + proc.stderr)
            if m:
                found.append(f"output of sqwh {proc.args[1]}: {label} {m.group(0).strip()}")
    print(f"\nscanned {len(columns)} columns in {schemas} and files {scanned}")
    # the report, the publication page and the validation pages; dbt's and the run's logs
    assert "marts" in schemas and "reporting" in schemas
    assert scanned["page"] >= 3 and scanned["log"] >= 1, scanned
    assert not found, "clear personal data beyond raw:\n" + "\n".join(found)
