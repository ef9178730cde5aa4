"""Section B of the fault catalogue with real faults: the server crashed mid `dbt build`, and
two publications of one period at the same time."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sqwh.publish import PublishRefused, candidate_digest, publish
from sqwh.warehouse import connect
from tests.reliability.faults import PROJECT, ScratchServer, env_for, loaded_warehouse, wait_for

pytestmark = pytest.mark.slow
PERIOD = "2019H1"
BUILT = ("staging", "intermediate", "marts", "candidate", "reporting")


@pytest.fixture(scope="module")
def built(
    scratch_server: ScratchServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict]:
    """XS extracts of 2019H1 loaded, built by dbt and published once, on the scratch server."""
    from sqwh.transform import build

    home = Path(tmp_path_factory.mktemp("publish-faults"))
    admin = scratch_server.start()
    url = scratch_server.new_database(admin)
    with loaded_warehouse(home, url, [PERIOD], seed=7):
        build(url, PERIOD)
        with connect(url) as conn:
            digest = candidate_digest(conn)
        first = publish(url, PERIOD, "fixture", [], digest)
        yield {
            "server": scratch_server,
            "admin": admin,
            "url": url,
            "home": home,
            "digest": digest,
            "first": first,
        }


def reporting_hash(url: str) -> str:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select r::text from reporting.half_year_indicators as r order by 1"
        ).fetchall()
    return hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()


def relations(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {
            f"{s}.{r}"
            for s, r in conn.execute(
                "select table_schema, table_name from information_schema.tables"
                " where table_schema = any(%s)",
                (list(BUILT),),
            )
        }


def test_warehouse_crash_mid_dbt_build(built: dict) -> None:
    url, server = built["url"], built["server"]
    before_hash, before_relations = reporting_hash(url), relations(url)
    with psycopg.connect(url) as conn:
        views = {
            f"{s}.{v}"
            for s, v in conn.execute(
                "select table_schema, table_name from information_schema.views"
                " where table_schema = any(%s)",
                (list(BUILT),),
            )
        }
    # a file, not a pipe: dbt logs far more than a pipe buffer holds, and a full pipe that
    # nobody reads would stall the build before it ever reaches the models
    log_path = Path(built["home"]) / "dbt-crash.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", f"from sqwh.transform import build; build({url!r}, {PERIOD!r})"],
            env=env_for(built["home"], url),
            cwd=PROJECT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )

    def mid_build() -> bool:
        if proc.poll() is not None:
            raise AssertionError(
                f"dbt build ended before the crash:\n{log_path.read_text()[-3000:]}"
            )
        # well into the build: several models already swapped in, many still to come
        return log_path.read_text().count("OK created sql") >= 10

    wait_for("dbt to be building models", mid_build, timeout=300)
    server.crash()
    proc.wait(timeout=120)
    out = log_path.read_text()
    print(f"\ncrashed the server after {out.count('OK created sql')} models of the build")
    assert proc.returncode != 0, out[-2000:]
    server.start()
    # readers find every model, old or new: a swap is one transaction. dbt drops the old copy
    # (`<model>__dbt_backup`) only after that commit, so a crash in between can leave one
    # behind; the next build of that model drops it (below)
    after = relations(url)
    vanished = before_relations - after
    # nothing vanishes: a table swap is one transaction, and views are replaced in place
    # (dbt's own view swap dropped the old view with CASCADE, taking the views built on it
    # along until the run recreated them: dbt/macros/materializations/view_in_place.sql)
    assert not vanished, (
        f"relations missing after the crash: {sorted(vanished)} "
        f"(views among them: {sorted(vanished & views)})"
    )
    strays = sorted(after - before_relations)
    assert all(r.endswith(("__dbt_backup", "__dbt_tmp")) for r in strays), strays
    assert reporting_hash(url) == before_hash, "reporting changed although nothing was published"
    from sqwh.transform import build

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SQWH_HOME", str(built["home"]))
        build(url, PERIOD)  # the rerun converges
    with psycopg.connect(url) as conn:
        leftovers = conn.execute(
            "select n.nspname || '.' || c.relname from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where c.relname like '%%\\_\\_dbt\\_tmp%%' or c.relname like '%%\\_\\_dbt\\_backup%%'"
        ).fetchall()
    print(f"left by the crash, removed by the rerun: {strays}")
    assert leftovers == [], f"temporary or backup relations left after the rerun: {leftovers}"
    assert relations(url) == before_relations
    with connect(url) as conn:
        assert candidate_digest(conn) == built["digest"]


def test_two_publications_of_one_period_at_once(built: dict) -> None:
    url, digest = built["url"], built["digest"]
    with psycopg.connect(url) as conn:
        publications = conn.execute(
            "select count(*) from audit.publication where period = %s", (PERIOD,)
        ).fetchone()[0]
        rows = conn.execute("select count(*) from candidate.half_year_indicators").fetchone()[0]
    # a reader's lock keeps the first publication inside its transaction, after it took the
    # period's advisory lock, so the second one really runs while the first is in flight
    holder = psycopg.connect(url)
    holder.execute("lock table reporting.half_year_indicators in exclusive mode")
    outcome: dict = {}

    def first() -> None:
        try:
            outcome["first"] = publish(url, PERIOD, "run-dag", [], digest)
        except Exception as exc:  # reported by the assertions below
            outcome["first"] = exc

    thread = threading.Thread(target=first)
    thread.start()
    try:
        wait_for(
            "the first publication to hold the period lock and wait for the reader",
            lambda: _advisory_held_and_waiting(url),
            timeout=60,
        )
        with pytest.raises(PublishRefused) as refused:
            publish(url, PERIOD, "run-cli", [], digest)
    finally:
        holder.rollback()
        holder.close()
        thread.join(timeout=120)
    print(f"\nsecond publication: {refused.value}")
    assert str(refused.value).startswith(
        f"another run is publishing {PERIOD} right now; this one stops without publishing."
    )
    assert isinstance(outcome["first"], int), outcome
    with psycopg.connect(url) as conn:
        after = conn.execute(
            "select count(*), max(publication_id), bool_and(run_id <> 'run-cli')"
            " from audit.publication where period = %s",
            (PERIOD,),
        ).fetchone()
        published = conn.execute(
            "select count(*), count(distinct (indicator_code, geo_level, city_code, breakdown_type,"
            " breakdown)), min(publication_id), max(publication_id)"
            " from reporting.half_year_indicators where period = %s",
            (PERIOD,),
        ).fetchone()
    assert after == (publications + 1, outcome["first"], True)
    assert published == (rows, rows, outcome["first"], outcome["first"])


def _advisory_held_and_waiting(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        held = conn.execute(
            "select count(*) from pg_locks where locktype = 'advisory' and granted"
            " and classid = hashtext('sqwh.publish')::oid and objid = hashtext(%s)::oid",
            (PERIOD,),
        ).fetchone()[0]
        waiting = conn.execute(
            "select count(*) from pg_stat_activity where datname = current_database()"
            " and wait_event_type = 'Lock' and query ilike 'delete from reporting%%'"
        ).fetchone()[0]
    return held == 1 and waiting == 1
