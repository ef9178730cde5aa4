"""Record numbers written into the COPY stream by the client, so the server need not count.

A clean file COPYs straight into ``raw.<entity>``, and ``_record_no`` is each record's
position in the file. A column default (``nextval`` of a per-file sequence) gives it too,
but costs the server a sequence lookup and permission check for every row, about a sixth of
a bare COPY's work. The client sees the bytes anyway: :class:`RecordNumberer` puts
``0000000042|`` (fixed width, the file's delimiter) in front of each record as the chunks
stream, with numpy, and the COPY names ``_record_no`` as its first column.

Records are split exactly as PostgreSQL's CSV reader splits lines (``CopyReadLineText``
with QUOTE = ESCAPE = ``"``): a line break ends a record unless an odd number of quote
characters precedes it in the record. The header line gets number 0 and is skipped by COPY's
HEADER option. Any disagreement with the server (a line ending the client does not see, a
file with bare CR line endings) leaves a record without its number or with one the server
cannot read as bigint, or makes the counts differ; the loader then rolls the COPY back and
takes the staging path, so a wrong number is never loaded.
"""

from __future__ import annotations

import numpy as np
from psycopg.abc import Buffer

from sqwh.ingest.splice import Splicer

WIDTH = 10  # digits: record numbers up to 9,999,999,999
# the digits of 0000..9999: a number's ten digits are three lookups (2 + 4 + 4), not ten
# divisions per record
_DIGITS4 = np.array([list(b"%04d" % i) for i in range(10_000)], dtype=np.uint8)
_DIGITS2 = _DIGITS4[:100, 2:]
_NEWLINE, _QUOTE = 10, 34


class RecordNumberer(Splicer):
    """Prefix every record of a CSV stream with its number; feed it the chunks in order."""

    def __init__(self, delimiter: str) -> None:
        super().__init__()
        self._delimiter = ord(delimiter)
        self._next = 0  # the header line is record 0
        self._at_start = True  # the next byte begins a record
        self._in_quote = False

    @property
    def records(self) -> int:
        """Data records numbered so far (the header not counted)."""
        return max(self._next - 1, 0)

    def __call__(self, chunk: bytes) -> Buffer:
        data = np.frombuffer(chunk, dtype=np.uint8)
        ends = np.flatnonzero(np.equal(data, _NEWLINE, out=self.scratch(len(data))))
        if self._in_quote or b'"' in chunk:
            quotes = np.flatnonzero(data == _QUOTE)
            before = np.searchsorted(quotes, ends) + self._in_quote
            ends = ends[before % 2 == 0]  # a line break inside quotes is data
            self._in_quote = bool((len(quotes) + self._in_quote) % 2)
        starts = ends + 1
        if len(starts) and starts[-1] == len(data):
            starts = starts[:-1]
            at_end = True
        else:
            at_end = False
        if self._at_start:
            starts = np.concatenate((np.zeros(1, dtype=starts.dtype), starts))
        self._at_start = at_end
        count = len(starts)
        if not count:
            return chunk
        if self._next + count > 10**WIDTH:
            raise ValueError(f"more than {10**WIDTH - 1:,} records: too many to number")
        numbers = np.arange(self._next, self._next + count, dtype=np.int64)
        self._next += count
        prefix = np.empty((count, WIDTH + 1), dtype=np.uint8)
        high, low = np.divmod(numbers, 10_000)
        top, middle = np.divmod(high, 10_000)
        prefix[:, 0:2] = _DIGITS2[top]
        prefix[:, 2:6] = _DIGITS4[middle]
        prefix[:, 6:10] = _DIGITS4[low]
        prefix[:, WIDTH] = self._delimiter
        out = self.insert(data, starts, prefix)
        return out.data  # a buffer psycopg sends as is: no copy into a bytes object
