"""Compact timestamps (``YYYYMMDDHHMMSS``, as the BSS extracts write them) made readable for
COPY on the way to the server, so those files take the direct path too.

PostgreSQL reads ``20190101T123456`` (ISO 8601 basic format) as a timestamp, but not
``20190101123456``. :class:`CompactTimes` puts a ``T`` after the eight date digits of every
value of 14 ASCII digits in the given columns as the chunks stream (numpy, like the record
numbers); the row checker vouches for the values themselves (14 digits, a real calendar day
and time of 1900-2199), so the server stores what the staging path's ``private.norm_ts``
would make of them. The file's own bytes (hashed, archived) are not changed.

Only plain files are rewritten: a quote character anywhere (a field that may hold the
delimiter or a line break), or a record with another number of fields than the header,
stops the stream with :class:`NotPlain`, and the loader takes the staging path, which reads
any CSV. Whole records are handed on: the part of a record that a chunk cuts off waits for
the next chunk (at most :data:`MAX_RECORD` bytes).
"""

from __future__ import annotations

import numpy as np

from sqwh.ingest.splice import Splicer

MAX_RECORD = 1 << 20  # a "record" longer than this is not a plain delimited file
_NEWLINE, _CR, _T = 10, 13, ord("T")
COMPACT_WIDTH, DATE_DIGITS = 14, 8


class NotPlain(Exception):
    """The stream is not a plain delimited file this rewrite can follow; the message says why."""


class CompactTimes(Splicer):
    """Rewrite the compact values of the timestamp ``columns`` in a stream of chunks (other
    values are left as they are: the checker decides on them); feed the chunks in order,
    then hand on what :meth:`finish` returns (the last record, if it has no line break)."""

    def __init__(self, header: list[str], delimiter: str, columns: list[str]) -> None:
        super().__init__()
        self._delimiter = ord(delimiter)
        self._separators = len(header) - 1
        self._columns = sorted(header.index(c) for c in columns)
        self._tail = b""
        self._header_seen = False

    def __call__(self, chunk: bytes) -> bytes:
        block = self._tail + chunk if self._tail else chunk
        cut = block.rfind(b"\n") + 1
        self._tail = block[cut:]
        if len(self._tail) > MAX_RECORD:
            raise NotPlain(f"a record longer than {MAX_RECORD:,} bytes")
        return self._rewrite(block[:cut]) if cut else b""

    def finish(self) -> bytes:
        tail, self._tail = self._tail, b""
        return self._rewrite(tail) if tail else b""

    def _rewrite(self, block: bytes) -> bytes:
        if b'"' in block:
            raise NotPlain("a quoted field")
        data = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(np.equal(data, _NEWLINE, out=self.scratch(len(data))))
        if data[-1] != _NEWLINE:  # the file's last record, without a line break
            ends = np.append(ends, len(data))
        records = len(ends)
        delimiters = np.flatnonzero(np.equal(data, self._delimiter, out=self.scratch(len(data))))
        owners = np.searchsorted(ends, delimiters)  # the record each delimiter is in
        if len(delimiters) != records * self._separators or not np.array_equal(
            owners, np.repeat(np.arange(records), self._separators)
        ):
            raise NotPlain(f"a record without exactly {self._separators + 1} fields")
        grid = delimiters.reshape(records, self._separators)
        starts = np.concatenate(([0], ends[:-1] + 1))
        # the last field ends before an optional CR of a CRLF line break
        line_ends = ends - (data[np.maximum(ends - 1, 0)] == _CR)
        skip = 0 if self._header_seen else 1  # the header line is not data
        self._header_seen = True
        inserts = []
        for k in self._columns:
            begin = starts if k == 0 else grid[:, k - 1] + 1
            end = grid[:, k] if k < self._separators else line_ends
            compact = end - begin == COMPACT_WIDTH
            compact[:skip] = False
            first = begin[compact]
            # 14 ASCII digits only: 14 bytes of other text (say, '12月1日10点' in UTF-8) stay
            # whole, so a 'T' never splits a multibyte character; the checker rejects them
            window = data[first[:, None] + np.arange(COMPACT_WIDTH)] - ord("0")
            inserts.append(first[(window <= 9).all(axis=1)] + DATE_DIGITS)
        at = np.sort(np.concatenate(inserts))
        if not len(at):
            return block
        return self.insert(data, at, np.full((len(at), 1), _T, dtype=np.uint8)).tobytes()
