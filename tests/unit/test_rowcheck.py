"""The client-side row check of the direct COPY path, on hand-made bytes (no database)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sqwh.ingest.rowcheck import RowChecker, _hash_values
from sqwh.registry import load_registry

CALL = load_registry().entity("CC_CALL")
HEADER = CALL.column_names


def row(call_id: str = "CA1", start: str = "2019-03-01 10:00:00", **cells: str) -> str:
    values = {
        "call_id": call_id,
        "hotline": "10000",
        "caller_no": "15300001111",
        "city_code": "140100",
        "call_start": start,
        "ivr_end": "",
        "queue_start": "",
        "answer_time": "",
        "call_end": "2019-03-01 10:05:00",
        "skill_group": "",
        "agent_id": "",
        "end_reason": "IVR_DONE",
        **cells,
    }
    return ",".join(values[h] for h in HEADER)


@pytest.fixture(params=[0, 100, 1 << 30], ids=["threaded", "thread-later", "inline"])
def thread_from(request) -> int:
    """Every way the loader runs the checker: a thread from the first chunk, a thread that
    starts once 100 bytes have come (the held chunks handed over), all in finish()."""
    return request.param


def check(rows: list[str], chunk: int = 7, *, thread_from: int = 0):
    data = ("\n".join([",".join(HEADER), *rows]) + "\n").encode()
    checker = RowChecker(CALL, HEADER, ",", thread_from=thread_from)
    for i in range(0, len(data), chunk):  # chunk borders anywhere, even inside a record
        checker.feed(data[i : i + chunk])
    return checker.finish()


def test_clean_rows_are_vouched_for_and_counted_as_records(thread_from: int) -> None:
    rows = [row(f"CA{i}") for i in range(50)]
    rows[3] = row("CA3", caller_no='"1530\n0001111"')  # a quoted line break: one record
    rows[4] = row("CA4", start="2020-02-29 23:59:59")  # a leap day
    result = check(rows, thread_from=thread_from)
    assert (result.rows, result.problem, result.repeated_hash) == (50, None, False)


def test_a_repeated_key_is_noticed(thread_from: int) -> None:
    result = check([row("CA1"), row("CA22"), row("CA1")], thread_from=thread_from)
    assert (result.problem, result.repeated_hash) == (None, True)


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ({"start": "2019-02-29 10:00:00"}, "call_start"),  # not a leap year
        ({"start": "2019-04-31 10:00:00"}, "call_start"),
        ({"start": "1899-12-31 23:59:59"}, "call_start"),
        ({"start": "2019-03-01T10:00:00"}, "call_start"),
        ({"start": "20190301100000"}, "call_start"),  # compact: the staging path converts it
        ({"start": "2019-03-01 10:60:00"}, "call_start"),
        ({"call_end": ""}, "call_end"),  # required
        ({"hotline": "10002"}, "hotline"),
        ({"skill_group": '""'}, "skill_group"),  # quoted empty: '' is not one of the codes
        ({"city_code": "240100"}, "city_code"),
        ({"city_code": "1401000"}, "city_code"),
    ],
)
def test_a_row_breaking_the_contract_is_not_vouched_for(
    cells: dict, problem: str, thread_from: int
) -> None:
    result = check([row("CA1"), row("CA2", **cells), row("CA3")], thread_from=thread_from)
    assert result.problem is not None and problem in result.problem, result.problem


def test_key_hashes_do_not_depend_on_the_batch_layout() -> None:
    def horner(value: bytes) -> int:  # the documented hash, written out
        h = 0
        for b in value:
            h = (h * 0x100000001B3 + b) % 2**64
        return h ^ len(value)

    keys = [b"CA0001", b"CA0002", b"CA0003"]
    uniform = pa.array(keys, pa.binary())[1:]  # one width (the fast path), an offset slice
    mixed = pa.array([b"X", *keys, b"CA12345"], pa.binary())[1:]  # mixed widths
    assert list(_hash_values(uniform)) == [horner(k) for k in keys[1:]]
    assert list(_hash_values(mixed)) == [horner(k) for k in [*keys, b"CA12345"]]


def test_past_the_hash_budget_the_server_counts_repeated_keys(monkeypatch) -> None:
    import sqwh.ingest.rowcheck as rowcheck

    monkeypatch.setattr(rowcheck, "MAX_HASHED_ROWS", 10)
    data = ("\n".join([",".join(HEADER), *(row(f"CA{i % 30}") for i in range(40))]) + "\n").encode()
    checker = RowChecker(CALL, HEADER, ",")
    assert checker.hash_keys
    checker.feed(data)
    result = checker.finish()
    # still vouched for, but no longer hashing: the loader asks the server for the count
    assert (result.rows, result.problem, checker.hash_keys) == (40, None, False)
    assert result._hashes == []


def check_compact(starts: list[str]):
    data = "\n".join([",".join(HEADER), *(row(f"CA{i}", s) for i, s in enumerate(starts))]) + "\n"
    checker = RowChecker(CALL, HEADER, ",", compact_times=True)
    checker.feed(data.encode())
    return checker.finish()


def test_with_the_compact_rewrite_a_real_compact_timestamp_is_vouched_for() -> None:
    result = check_compact(["20190301100000", "20200229235959", "21991231000000"])
    assert (result.rows, result.problem) == (3, None)


@pytest.mark.parametrize(
    "start",
    [
        "20190229100000",  # not a leap year
        "20190431100000",
        "18991231235959",
        "20190301240000",
        "20190301106000",
        "2019030110000X",
        "2019030110000",  # 13 digits
        "20190301",  # a compact date in a timestamp column: the staging path converts it
    ],
)
def test_with_the_compact_rewrite_a_bad_compact_timestamp_is_not_vouched_for(start: str) -> None:
    result = check_compact(["20190301100000", start])
    assert result.problem is not None and "call_start" in result.problem, result.problem


def test_compact_and_iso_values_in_one_column_are_not_vouched_for() -> None:
    result = check_compact(["20190301100000", "2019-03-01 10:00:00"])
    assert "call_start: not every value is in one form" in result.problem
