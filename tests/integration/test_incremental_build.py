"""Incremental dbt builds equal a full refresh, row for row.

Two loads into a scratch warehouse: days 1-20 of January 2019 (built from scratch), then days
21-24 plus corrected re-deliveries of earlier days, late-arriving items and a fault whose
lifecycle spans the two loads (built incrementally; one fact table is left as a build from
before the models were incremental, and must be rebuilt in place). The incremental result is then compared
with a `--full-refresh` build of the same raw data, and the hand-made items are checked for
the values the catalogue's rules give them.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import psycopg
import pytest

from sqwh.transform import INCREMENTAL_MODELS
from tests.conftest import Sqwh

pytestmark = pytest.mark.slow

PERIOD = "2019H1"
SCHEMA = {"stg": "staging", "int": "intermediate", "fct": "marts", "dim": "marts"}
SCHEMA["source"] = "marts"  # source_day_coverage
DAILY_PREFIXES = ("BSS_ORDER", "BSS_FAULT", "BSS_BILL_ADJ", "CRM_CARE", "CRM_COMPLAINT")
DAILY_PREFIXES += ("CRM_SURVEY", "CC_CALL", "CC_SURVEY", "CC_SPAM_REPORT")
LINE = "13900000001"  # the hand-made faults' line
CALLER = "13900000002"  # the hand-made calls' caller


def _table(model: str) -> str:
    return f"{SCHEMA[model.split('_', 1)[0]]}.{model}"


def _day(name: str) -> str | None:
    """Business day of a daily file (None for snapshots and monthly bills)."""
    stem = name.split(".", 1)[0]
    entity, _, rest = stem.rpartition("_")
    if rest.isdigit() and len(rest) == 8:
        base = entity
    else:  # a _<seq> suffix
        base, _, rest = entity.rpartition("_")
    return rest if base in DAILY_PREFIXES else None


def _copy(src: Path, dst: Path, keep) -> None:
    for path in sorted(src.rglob("*.csv")):
        if keep(_day(path.name)):
            target = dst / path.parent.name
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / path.name)
            shutil.copy(path.with_name(path.name + ".chk"), target / (path.name + ".chk"))


def _read(path: Path) -> tuple[str, list[str], list[list[str]]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:  # the CRM customer snapshot is delivered in GBK
        text = data.decode("gbk")
    lines = text.splitlines()
    delimiter = "|" if lines[0].count("|") > lines[0].count(",") else ","
    return delimiter, lines[0].split(delimiter), [ln.split(delimiter) for ln in lines[1:]]


def _write(path: Path, delimiter: str, header: list[str], rows: list[list[str]]) -> None:
    """A data file and its control file (name|bytes|records|md5), as the sources deliver."""
    data = "\n".join(delimiter.join(r) for r in [header, *rows]).encode() + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    chk = f"{path.name}|{len(data)}|{len(rows)}|{hashlib.md5(data).hexdigest()}\n"
    path.with_name(path.name + ".chk").write_text(chk, encoding="utf-8")


def _add_rows(src: Path, dst: Path, make) -> None:
    """Copy a generated file to `dst`, with rows changed/added by `make(header, rows)`."""
    delimiter, header, rows = _read(src)
    _write(dst, delimiter, header, make(header, rows))


def _row(header: list[str], **values: str) -> list[str]:
    return [values.get(h, "") for h in header]


def _fault(header: list[str], ticket: str, report: str, restore: str) -> list[str]:
    return _row(
        header,
        ticket_id=ticket,
        line_no=LINE,
        product="BROADBAND",
        city_code="140100",
        county_code="140105",
        area_type="URBAN",
        report_time=report,
        restore_time=restore,
        fault_class="NETWORK",
        source="10000",
    )


def _call(header: list[str], call_id: str, queue: str, answer: str, end: str) -> list[str]:
    return _row(
        header,
        call_id=call_id,
        hotline="10000",
        caller_no=CALLER,
        city_code="140100",
        call_start=queue,
        ivr_end=queue,
        queue_start=queue,
        answer_time=answer,
        call_end=end,
        skill_group="FIXED",
        agent_id="G010001" if answer else "",
        end_reason="ANSWERED" if answer else "ABANDONED",
    )


def _nonempty(generated: Path, system: str, entity: str, first_day: int) -> Path:
    """The first generated file of `entity` with rows, from January `first_day` (before day 20)."""
    for day in range(first_day, 20):
        path = generated / system / f"{entity}_201901{day:02d}.csv"
        if len(_read(path)[2]) > 1:
            return path
    raise AssertionError(f"no {entity} file with rows in days {first_day}-19 of {generated}")


def _redeliver(path: Path, landing: Path, make) -> None:
    """A corrected re-delivery of the day of `path` (same entity and day, sequence 2)."""
    _add_rows(path, landing / path.parent.name / f"{path.stem}_2.csv", make)


def _first_load(generated: Path, landing: Path) -> None:
    _copy(generated, landing, lambda day: day is None or day <= "20190120")
    bss, cc = landing / "bss", landing / "cc"
    # FX3 on day 18; FX1 reported on day 20 and still open when the day's file is cut
    _add_rows(
        bss / "BSS_FAULT_20190118.csv",
        bss / "BSS_FAULT_20190118.csv",
        lambda h, rows: [*rows, _fault(h, "FX3", "2019-01-18 09:00:00", "2019-01-18 15:00:00")],
    )
    _add_rows(
        bss / "BSS_FAULT_20190120.csv",
        bss / "BSS_FAULT_20190120.csv",
        lambda h, rows: [*rows, _fault(h, "FX1", "2019-01-20 08:00:00", "")],
    )
    # a survey of the call that day 10's corrected re-delivery will remove (_second_load)
    doomed = _nonempty(generated, "cc", "CC_CALL", 10)
    survey = cc / doomed.name.replace("CC_CALL", "CC_SURVEY")
    _add_rows(
        survey,
        survey,
        lambda h, rows: [
            *rows,
            _row(h, call_id=_read(doomed)[2][0][0], survey_time="2019-01-10 23:00:00", score="5"),
        ],
    )
    # CX1 answered on day 19; nobody calls back within 48 h yet
    _add_rows(
        cc / "CC_CALL_20190119.csv",
        cc / "CC_CALL_20190119.csv",
        lambda h, rows: [
            *rows,
            _call(h, "CX1", "2019-01-19 11:00:00", "2019-01-19 11:00:10", "2019-01-19 12:00:00"),
        ],
    )


def _second_load(generated: Path, landing: Path) -> dict[str, str]:
    """Days 21-24 plus corrections; returns the ids the corrections removed."""
    _copy(generated, landing, lambda day: day is not None and "20190121" <= day <= "20190124")
    bss, cc = landing / "bss", landing / "cc"
    # FX1 delivered again on day 21, now restored after 50 h: late for an URBAN fault (48 h);
    # FX4 arrives late (in day 22's file) and was restored on 5 Jan: FX3 becomes a repeat
    _add_rows(
        bss / "BSS_FAULT_20190121.csv",
        bss / "BSS_FAULT_20190121.csv",
        lambda h, rows: [*rows, _fault(h, "FX1", "2019-01-20 08:00:00", "2019-01-22 10:00:00")],
    )
    _add_rows(
        bss / "BSS_FAULT_20190122.csv",
        bss / "BSS_FAULT_20190122.csv",
        lambda h, rows: [*rows, _fault(h, "FX4", "2019-01-04 09:00:00", "2019-01-05 09:00:00")],
    )
    # CX2, a late-arriving call of the same caller queued 30 h after CX1 ended
    _add_rows(
        cc / "CC_CALL_20190121.csv",
        cc / "CC_CALL_20190121.csv",
        lambda h, rows: [*rows, _call(h, "CX2", "2019-01-20 18:00:00", "", "2019-01-20 18:01:00")],
    )
    removed: dict[str, str] = {}

    def drop_first(kind: str):
        def make(header: list[str], rows: list[list[str]]) -> list[list[str]]:
            removed[kind] = rows[0][0]
            return rows[1:]

        return make

    # corrected re-deliveries of earlier days (same entity and day: they replace the old load)
    _redeliver(_nonempty(generated, "bss", "BSS_FAULT", 10), landing, drop_first("fault"))
    _redeliver(_nonempty(generated, "cc", "CC_CALL", 10), landing, drop_first("call"))
    _redeliver(_nonempty(generated, "crm", "CRM_COMPLAINT", 12), landing, drop_first("complaint"))
    _redeliver(_nonempty(generated, "cc", "CC_SURVEY", 12), landing, drop_first("survey"))

    def cancel_first(header: list[str], rows: list[list[str]]) -> list[list[str]]:
        removed["cancelled_order"] = rows[0][0]
        rows[0][header.index("status")] = "CANCELLED"
        return rows

    _redeliver(_nonempty(generated, "bss", "BSS_ORDER", 12), landing, cancel_first)

    def move_first_customer(header: list[str], rows: list[list[str]]) -> list[list[str]]:
        removed["customer"] = rows[0][0]
        removed["moved_customer"] = rows[1][0]
        rows[1][header.index("segment")] = (
            "GOV_ENT" if rows[1][header.index("segment")] != "GOV_ENT" else "VIP"
        )
        return rows[1:]

    # a corrected customer snapshot: one customer fewer, another in a new segment
    snapshot = generated / "crm" / "CRM_CUSTOMER_20190630.csv"
    _redeliver(snapshot, landing, move_first_customer)
    return removed


def _ingest(landing: Path) -> None:
    from sqwh import pipeline

    for system in ("bss", "crm", "cc"):
        pipeline.ingest(system, landing)


def _build(url: str, *extra: str) -> None:
    from sqwh.transform import run_dbt

    outcome = run_dbt(url, ["build", *extra], period=PERIOD)
    assert outcome.success, "\n".join(outcome.failures)


def _contents(conn: psycopg.Connection, table: str) -> list[tuple]:
    cols = [
        r[0]
        for r in conn.execute(
            """select column_name from information_schema.columns
               where table_schema || '.' || table_name = %s and column_name <> 'refreshed_at'
               order by ordinal_position""",
            (table,),
        ).fetchall()
    ]
    select = ", ".join(f'"{c}"' for c in cols)
    return conn.execute(f"select {select} from {table} order by {select}").fetchall()


@pytest.fixture(scope="module")
def generated(embedded_sqwh: Sqwh, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = Path(tmp_path_factory.mktemp("generated"))
    embedded_sqwh(
        "generate", "--period", PERIOD, "--scale", "XS", "--seed", "11", "--out", str(out)
    )
    return out


def test_incremental_build_equals_full_refresh_row_for_row(
    scratch_db: str, generated: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _first_load(generated, first)
    _ingest(first)
    _build(scratch_db)
    removed = _second_load(generated, second)
    _ingest(second)
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        before = conn.execute("select max(refreshed_at) from staging.stg_cc__calls").fetchone()[0]
        replaced = conn.execute(
            "select count(*) from audit.load_manifest where status = 'REPLACED'"
        ).fetchone()[0]
        assert replaced == 6, "the six corrected days must replace their first delivery"
        # fct_complaints as a table built before the model was incremental, with a key that is
        # no longer delivered: the next build must rebuild it in place
        conn.execute(
            "alter table marts.fct_complaints drop column load_id, drop column refreshed_at"
        )
        conn.execute(
            """insert into marts.fct_complaints (complaint_id, city_code, source, handling_limit)
               values ('LEGACY1', '140100', 'HOTLINE', interval '48 hours')"""
        )
    _build(scratch_db)

    with psycopg.connect(scratch_db, autocommit=True) as conn:
        # about a day's rows: staging rewrote exactly the call keys of the second load
        rewritten = conn.execute(
            "select count(*) from staging.stg_cc__calls where refreshed_at > %s", (before,)
        ).fetchone()[0]
        delivered = conn.execute(
            """select count(distinct call_id) from raw.cc_call where _load_id in (
                   select load_id from audit.load_manifest
                   where entity = 'CC_CALL' and status = 'LOADED' and started_at > %s)""",
            (before,),
        ).fetchone()[0]
        total = conn.execute("select count(*) from staging.stg_cc__calls").fetchone()[0]
        assert rewritten == delivered, (rewritten, delivered)
        assert rewritten < total / 3, f"{rewritten} of {total} calls rewritten: not incremental"

        faults = {
            r[0]: r[1:]
            for r in conn.execute(
                """select ticket_id, restore_time is not null, is_repeat_fault,
                          restore_time - report_time <= repair_limit
                   from marts.fct_faults where ticket_id like 'FX%'"""
            ).fetchall()
        }
        # FX1: restored in its second delivery (50 h, late), a repeat of FX3 (restored 18 Jan);
        # FX3: now a repeat of the late-arriving FX4 (restored 5 Jan)
        assert faults == {
            "FX1": (True, True, False),
            "FX3": (True, True, True),
            "FX4": (True, False, True),
        }
        fcr = conn.execute(
            "select is_first_call_resolved from marts.fct_calls where call_id = 'CX1'"
        ).fetchone()
        assert fcr == (False,), "CX2 queued 30 h after CX1 ended: CX1 was not resolved"
        gone = [
            ("marts.fct_faults", "ticket_id", removed["fault"]),
            ("marts.fct_calls", "call_id", removed["call"]),
            ("marts.fct_complaints", "complaint_id", removed["complaint"]),
            ("marts.fct_complaints", "complaint_id", "LEGACY1"),
            ("marts.dim_customer", "customer_id", removed["customer"]),
            ("marts.fct_call_surveys", "call_id", removed["survey"]),
            ("marts.fct_call_surveys", "call_id", removed["call"]),
            ("staging.stg_crm__customers", "customer_id", removed["customer"]),
        ]
        for table, key, value in gone:
            n = conn.execute(f"select count(*) from {table} where {key} = %s", (value,)).fetchone()
            assert n == (0,), f"{value} was removed by a corrected re-delivery but is in {table}"
        segment = conn.execute(
            "select segment from marts.dim_customer where customer_id = %s",
            (removed["moved_customer"],),
        ).fetchone()
        assert segment is not None and segment[0] in ("GOV_ENT", "VIP"), segment
        order = conn.execute(
            "select status, is_countable from marts.fct_orders where order_id = %s",
            (removed["cancelled_order"],),
        ).fetchone()
        assert order == ("CANCELLED", False)

        incremental = {m: _contents(conn, _table(m)) for m in INCREMENTAL_MODELS}
        indicators = _contents(conn, "candidate.half_year_indicators")

    _build(scratch_db, "--full-refresh")
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        for model in INCREMENTAL_MODELS:
            full = _contents(conn, _table(model))
            inc = incremental[model]
            assert len(full) > 0
            assert inc == full, (
                f"{model}: incremental and full refresh differ: "
                f"only incremental {sorted(set(inc) - set(full), key=str)[:3]}, "
                f"only full {sorted(set(full) - set(inc), key=str)[:3]}"
            )
        assert _contents(conn, "candidate.half_year_indicators") == indicators

    _coverage_recounts_only_the_new_days(scratch_db, generated, tmp_path / "third")
    _tables_enforce_their_column_tests(scratch_db)


def _coverage_recounts_only_the_new_days(url: str, generated: Path, landing: Path) -> None:
    """A day without corrections: source_day_coverage rewrites that day's rows only (the
    second load's corrections made it recount everything) and its counts equal a count of
    staging's items per local day and city, computed here."""
    _copy(generated, landing, lambda day: day == "20190125")
    _ingest(landing)
    _build(url, "--select", "+source_day_coverage")
    with psycopg.connect(url, autocommit=True) as conn:
        written = conn.execute(
            """select count(*), count(*) filter (where refreshed_at = (
                   select max(refreshed_at) from marts.source_day_coverage))
               from marts.source_day_coverage"""
        ).fetchone()
        assert 0 < written[1] < written[0] / 5, f"rewrote {written[1]} of {written[0]} rows"
        expected = conn.execute(
            """select entity, day, city_code, count(*) from (
                   select 'CC_CALL' as entity, call_start as t, city_code
                   from staging.stg_cc__calls
                   union all
                   select 'BSS_ORDER', accept_time, city_code from staging.stg_bss__orders
               ) as items
               cross join lateral (select (t at time zone 'Asia/Shanghai')::date as day) as d
               group by 1, 2, 3 order by 1, 2, 3"""
        ).fetchall()
        held = conn.execute(
            """select entity, business_date, city_code, item_count from marts.source_day_coverage
               order by 1, 2, 3"""
        ).fetchall()
        assert held == expected


def _tables_enforce_their_column_tests(url: str) -> None:
    """not_null / accepted_values tests of a table model are constraints of its table
    (dbt/macros/enforced_tests.sql): a bad row is refused when written, and the dbt tests,
    which then read the catalog, still scan and fail once a constraint is gone."""
    from sqwh.transform import run_dbt

    calls = "staging.stg_cc__calls"
    with psycopg.connect(url, autocommit=True) as conn:
        call_id = conn.execute(f"select min(call_id) from {calls}").fetchone()[0]
        with pytest.raises(psycopg.errors.CheckViolation, match="accepted__end_reason__"):
            conn.execute(
                f"update {calls} set end_reason = 'HUNG_UP' where call_id = %s", (call_id,)
            )
        with pytest.raises(psycopg.errors.NotNullViolation, match="city_code"):
            conn.execute(f"update {calls} set city_code = null where call_id = %s", (call_id,))
        check = conn.execute(
            """select conname from pg_constraint
               where conrelid = %s::regclass and conname like 'accepted\\_\\_end\\_reason\\_\\_%%'""",
            (calls,),
        ).fetchone()[0]
        conn.execute(f'alter table {calls} drop constraint "{check}"')
        conn.execute(f"alter table {calls} alter column city_code drop not null")
        conn.execute(
            f"update {calls} set end_reason = 'HUNG_UP', city_code = null where call_id = %s",
            (call_id,),
        )
    outcome = run_dbt(url, ["test", "--select", "stg_cc__calls"], period=PERIOD)
    failed = {f.split(":", 1)[0] for f in outcome.failures}
    assert not outcome.success
    assert "test not_null_stg_cc__calls_city_code" in failed, outcome.failures
    assert any(f.startswith("test accepted_values_stg_cc__calls_") for f in failed), failed
    assert len(failed) == 2, failed
