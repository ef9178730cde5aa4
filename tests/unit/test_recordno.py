"""Record numbers written into the COPY stream: every record (not line) gets its number,
wherever the chunk borders fall."""

from __future__ import annotations

import csv
import io
import random

import pytest

from sqwh.ingest.recordno import RecordNumberer


def numbered(data: bytes, chunk: int, delimiter: str = "|") -> tuple[bytes, int]:
    numberer = RecordNumberer(delimiter)
    out = b"".join(bytes(numberer(data[i : i + chunk])) for i in range(0, len(data), chunk))
    return out, numberer.records


def records_of(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


SAMPLE = (
    "call_id|note|city\n"
    "C1|plain|0351\n"
    'C2|"two\nlines"|0352\n'
    'C3|"a ""quoted"" word|and a bar"|0353\r\n'
    'C4|"""\n"""|0354\n'
    "C5|last, no line break|0355"
)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 11, 64, 1 << 20])
def test_each_record_gets_its_number_in_front(chunk: int) -> None:
    out, count = numbered(SAMPLE.encode(), chunk)
    rows = records_of(out.decode(), "|")
    assert count == 5
    # the numbers are a new first column; every other value is exactly what it was
    assert [r[0] for r in rows] == [f"{n:010d}" for n in range(6)]
    assert [r[1:] for r in rows] == records_of(SAMPLE, "|")


def test_random_files_and_chunk_borders_agree_with_a_csv_reader() -> None:
    rng = random.Random(7)
    pieces = ["x", "中文", '""', "\n", ",", "a b", "\r\n"]
    for _ in range(200):
        rows = [
            [
                '"'
                + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4))).replace('"', '""')
                + '"'
                if rng.random() < 0.5
                else "".join(rng.choice("abc123") for _ in range(rng.randint(1, 5)))
                for _ in range(3)
            ]
            for _ in range(rng.randint(1, 30))
        ]
        text = "h1,h2,h3\n" + "\n".join(",".join(r) for r in rows) + rng.choice(["", "\n"])
        out, count = numbered(text.encode(), rng.randint(1, 40), ",")
        expected = records_of(text, ",")
        got = records_of(out.decode(), ",")
        assert count == len(expected) - 1
        assert [r[1:] for r in got] == expected
        assert [int(r[0]) for r in got] == list(range(len(expected)))


def test_a_header_only_file_has_no_records() -> None:
    assert numbered(b"a|b\n", 3)[1] == 0
    assert numbered(b"a|b", 3)[1] == 0


def test_numbers_of_every_width_are_written_digit_for_digit() -> None:
    # the digits come from lookup tables in groups of 2 + 4 + 4: cross every group border
    for first in (9_998, 99_999_998, 1_234_567_890, 9_999_999_997):
        numberer = RecordNumberer("|")
        numberer._next = first
        out = bytes(numberer(b"a\nb\nc\n"))
        assert out == b"".join(
            b"%010d|%s\n" % (first + i, v) for i, v in enumerate([b"a", b"b", b"c"])
        )
