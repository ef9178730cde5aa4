"""Compact timestamps made readable for COPY in the stream: a 'T' after the date digits of
every 14-character value of the timestamp columns, wherever the chunk borders fall; anything
that is not a plain delimited file stops the rewrite."""

from __future__ import annotations

import random
import re

import pytest

from sqwh.ingest.compact import CompactTimes, NotPlain

HEADER = ["id", "start", "note", "end"]
TIMES = ["start", "end"]


def rewritten(data: bytes, chunk: int, times: list[str] = TIMES) -> bytes:
    rewriter = CompactTimes(HEADER, "|", times)
    out = [rewriter(data[i : i + chunk]) for i in range(0, len(data), chunk)]
    return b"".join([*out, rewriter.finish()])


def expected(text: str, times: list[str] = TIMES) -> str:
    """Written without numpy: split each line, rewrite the fields by hand."""
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        body, cr = (line[:-1], "\r") if line.endswith("\r") else (line, "")
        fields = body.split("|") if body else []
        for name in times:
            i = HEADER.index(name)
            if i < len(fields) and re.fullmatch(r"[0-9]{14}", fields[i], re.ASCII):
                fields[i] = fields[i][:8] + "T" + fields[i][8:]
        out.append("|".join(fields) + cr)
    return "\n".join(out)


SAMPLE = (
    "id|start|note|end\n"
    "1|20190301100000|plain|20190301100500\n"
    "2|20190301100000||\n"  # an empty end: NULL, left alone
    "3|2019-03-01 10:00:00|iso|20190301100500\r\n"  # ISO stays; CRLF
    "4|20190301100000|a 14-char note|20190301100500"  # no line break at the end
)


@pytest.mark.parametrize("chunk", [1, 2, 5, 13, 64, 1 << 20])
def test_compact_values_get_their_t_wherever_the_chunks_are_cut(chunk: int) -> None:
    out = rewritten(SAMPLE.encode(), chunk).decode()
    assert out == expected(SAMPLE)
    assert "1|20190301T100000|plain|20190301T100500\n" in out
    assert "|a 14-char note|" in out  # not a timestamp column: untouched
    assert out.startswith("id|start|note|end\n")  # the header is not data


def test_fourteen_bytes_that_are_not_digits_are_left_whole() -> None:
    value = "12月1日10点".encode()
    assert len(value) == 14
    data = b"id|start|note|end\n1|" + value + b"||20190301100500\n"
    out = rewritten(data, 3)
    assert out == b"id|start|note|end\n1|" + value + b"||20190301T100500\n"
    out.decode("utf-8")  # still valid UTF-8: no character was split


def test_a_header_name_of_fourteen_characters_is_not_rewritten() -> None:
    header = "id|start_time_xx|note|end\n"  # 'start_time_xx' + 1 = 14 characters
    data = (header.replace("start_time_xx", "start_time_xyz") + "1|20190301100000|n|\n").encode()
    rewriter = CompactTimes(["id", "start_time_xyz", "note", "end"], "|", ["start_time_xyz"])
    out = rewriter(data) + rewriter.finish()
    assert out == b"id|start_time_xyz|note|end\n1|20190301T100000|n|\n"


def test_random_files_agree_with_a_line_by_line_rewrite() -> None:
    rng = random.Random(11)
    values = [
        "",
        "20190301100000",
        "2019-03-01 10:00:00",
        "x",
        "12345678901234",
        "1234567890123X",
        "12月1日10点",  # 14 bytes in UTF-8: never split by a 'T'
        "中文十四个字符中文十四个字符",
    ]
    for _ in range(200):
        rows = ["|".join(rng.choice(values) for _ in HEADER) for _ in range(rng.randint(0, 20))]
        ending = rng.choice(["\n", "\r\n"])
        text = ending.join(["|".join(HEADER), *rows]) + rng.choice(["", ending])
        out = rewritten(text.encode(), rng.randint(1, 50)).decode()
        assert out == expected(text)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'id|start|note|end\n1|20190301100000|"a|b"|\n', "a quoted field"),
        (b"id|start|note|end\n1|20190301100000|extra|x|y\n", "a record without exactly 4 fields"),
        (b"id|start|note|end\n\n1|20190301100000|n|\n", "a record without exactly 4 fields"),
    ],
    ids=["quotes", "extra-field", "empty-line"],
)
def test_what_is_not_a_plain_file_stops_the_rewrite(data: bytes, reason: str) -> None:
    with pytest.raises(NotPlain, match=reason):
        rewritten(data, 7)


def test_a_record_without_end_stops_the_rewrite_before_memory_grows(monkeypatch) -> None:
    import sqwh.ingest.compact as compact

    monkeypatch.setattr(compact, "MAX_RECORD", 100)
    rewriter = CompactTimes(HEADER, "|", TIMES)
    with pytest.raises(NotPlain, match="a record longer than 100 bytes"):
        for _ in range(50):
            rewriter(b"x" * 10)
