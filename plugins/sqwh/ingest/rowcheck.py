"""The row contract checked in the client, on the bytes streamed to COPY, in a thread.

A clean file COPYs straight into ``raw.<entity>``; the server then does little more than a
bare COPY (it converts the values and fills the stamping defaults). Everything else that
decides whether a row may go there without the staging checks is done here, on the other
core, while the COPY runs: the same chunks that go to the server are parsed by pyarrow's
streaming CSV reader (C++, releases the GIL) and every row is held against the entity
contract with vectorised pyarrow / numpy operations:

- required columns: a non-empty value; typed, coded and patterned columns: no quoted empty
  value (the server would read it as '' and fail or keep it);
- enumerations and patterns (as in ``checks.column_rules``);
- int / bigint / month: the staging path's forms (``^-?[0-9]{1,9}$`` ...);
- timestamps and dates: the ISO forms ``YYYY-MM-DD HH:MM:SS`` / ``YYYY-MM-DD`` with a real
  calendar day and a year 1900-2199 (the staging path's ``private.is_ts``); with
  ``compact_times`` (the loader then rewrites them for the server, ``sqwh.ingest.compact``)
  also ``YYYYMMDDHHMMSS``; other compact forms are not vouched for here (those files take the
  staging path), nor are mixed forms within one parsed block (across blocks they are harmless:
  the server reads each of these forms as ``norm_ts`` does).

The checker is deliberately no more lenient than the staging checks: when it cannot vouch for
every row (a bad value, a form it does not handle, a record the CSV reader splits differently
from the server), the loader rolls the COPY back and the staging path decides, row by row,
with its own messages. It also counts repeated business keys: a 64-bit hash per row (8 bytes
a row, the only state that grows with the file, up to ``MAX_HASHED_ROWS``; bigger files leave
the count to the server); equal hashes send the exact count back to the server, so the figure
in the manifest is always exact.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from queue import Queue

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from sqwh.registry import Column, Entity

BLOCK = 1 << 20  # pyarrow parses 1 MiB of the file at a time: memory stays flat
QUEUE_CHUNKS = 8  # chunks handed over but not yet parsed (each at most loader.CHUNK)
# key hashes are the one state that grows with the file (8 bytes a row, twice that while
# sorted): past this many rows the server counts repeated keys instead, so memory stays flat
MAX_HASHED_ROWS = 4_000_000

INT_FORMS = {
    "int": r"^-?[0-9]{1,9}$",
    "bigint": r"^-?[0-9]{1,18}$",
    "month": r"^[0-9]{4}(0[1-9]|1[0-2])$",
}
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int16)
_HASH_MULT = np.uint64(0x100000001B3)  # FNV prime: a polynomial hash mod 2**64 of a key's bytes
_POWERS = np.concatenate(  # 1, p, p^2, ... (mod 2**64: numpy wraps unsigned products)
    [np.ones(1, dtype=np.uint64), np.cumprod(np.full(255, _HASH_MULT, dtype=np.uint64))]
)


class NotVouched(Exception):
    """A row (or the file's structure) the client cannot vouch for; the message says which."""


@dataclass
class CheckResult:
    rows: int = 0
    problem: str | None = None  # None: every row satisfies the contract
    repeated_hash: bool = False  # two rows share a key hash: count repeated keys exactly
    _hashes: list[np.ndarray] = field(default_factory=list, repr=False)


def _rules_apply(column: Column) -> bool:
    return bool(column.required or column.enum or column.pattern or column.type != "text")


class _ChunkPipe(io.RawIOBase):
    """A read-only file fed chunk by chunk from the COPY loop (a bounded queue)."""

    def __init__(self) -> None:
        self.queue: Queue[bytes | None] = Queue(maxsize=QUEUE_CHUNKS)
        self._pending = memoryview(b"")
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        # fills the buffer unless the file ends: pyarrow takes a short read for the end
        view, filled = memoryview(buffer).cast("B"), 0
        while filled < len(view):
            if not self._pending:
                if self._eof:
                    break
                chunk = self.queue.get()
                if chunk is None:
                    self._eof = True
                    continue
                self._pending = memoryview(chunk)
            n = min(len(view) - filled, len(self._pending))
            view[filled : filled + n] = self._pending[:n]
            self._pending = self._pending[n:]
            filled += n
        return filled


class RowChecker:
    """Checks the rows of the chunks handed to :meth:`feed`, in its own thread while they
    stream. With ``thread_from`` (bytes), the chunks are held until that much has come and
    the thread starts only then: a small file is checked all at once in :meth:`finish`,
    where a thread and its hand-overs would cost more than they overlap. Counted in the
    uncompressed bytes, so what is held never exceeds ``thread_from`` plus one chunk."""

    def __init__(
        self,
        entity: Entity,
        header: list[str],
        delimiter: str,
        *,
        thread_from: int = 0,
        compact_times: bool = False,
    ) -> None:
        self.entity = entity
        self._time_widths = {
            "timestamp": (19, 10, 14) if compact_times else (19, 10),
            "date": (10,),
        }
        self.header = header
        known = set(entity.column_names)
        self.columns = [entity.column(h) for h in header if h in known]
        self.checked = [c for c in self.columns if _rules_apply(c)]
        # typed keys (an int 7 and '07' are one key in the table) are counted by the server
        self.hash_keys = all(
            k in header and entity.column(k).type in ("text", "month") for k in entity.key
        )
        wanted = {c.name for c in self.checked} | (set(entity.key) if self.hash_keys else set())
        self._pipe = _ChunkPipe()
        self._options = (
            pacsv.ReadOptions(
                column_names=header, skip_rows=1, block_size=BLOCK, use_threads=False
            ),
            pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,  # record numbers count records, not lines
                ignore_empty_lines=False,  # COPY does not skip them either
            ),
            pacsv.ConvertOptions(
                column_types={h: pa.binary() for h in header},
                include_columns=[h for h in header if h in wanted],
                # as COPY (format csv): an unquoted empty field is NULL, a quoted one is ''
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=False,
            ),
        )
        self.result = CheckResult()
        self._stop = threading.Event()
        self._thread_from = thread_from
        self._held: list[bytes] | None = []
        self._held_bytes = 0
        self._thread: threading.Thread | None = None
        if thread_from <= 0:
            self._start_thread()

    def _start_thread(self) -> None:
        held, self._held = self._held or [], None
        self._thread = threading.Thread(target=self._run, name="sqwh-rowcheck", daemon=True)
        self._thread.start()
        for chunk in held:
            self._pipe.queue.put(chunk)

    @property
    def failed(self) -> bool:
        return self.result.problem is not None

    def feed(self, chunk: bytes) -> None:
        """Hand over the next chunk of the file (blocks while the checker is behind)."""
        if self._held is not None:
            self._held.append(bytes(chunk))
            self._held_bytes += len(chunk)
            if self._held_bytes >= self._thread_from:
                self._start_thread()
        elif not self._stop.is_set():
            self._pipe.queue.put(bytes(chunk))

    def finish(self) -> CheckResult:
        """End of the file: wait for the last rows, decide on repeated keys."""
        if self._held is not None:
            held, self._held = self._held, None
            self._run(io.BytesIO(b"".join(held)))
        else:
            self._close()
            self._join()
        result = self.result
        if result.problem is None and result._hashes:
            hashes = np.concatenate(result._hashes)
            result._hashes = []  # one copy of the hashes at a time: 8 bytes a row
            hashes.sort()
            result.repeated_hash = bool(np.any(hashes[1:] == hashes[:-1]))
        result._hashes = []
        return result

    def abort(self) -> None:
        self._stop.set()
        self._held = None
        self._close()
        self._join()

    def _close(self) -> None:
        # never blocks for long: the thread drains the queue until it sees the end
        if self._thread is not None:
            self._pipe.queue.put(None)

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _run(self, source: io.BytesIO | None = None) -> None:
        try:
            reader = pacsv.open_csv(
                source if source is not None else pa.PythonFile(self._pipe, mode="r"),
                read_options=self._options[0],
                parse_options=self._options[1],
                convert_options=self._options[2],
            )
            for batch in reader:
                if self._stop.is_set():
                    break
                self._check(batch)
                self.result.rows += batch.num_rows
        except NotVouched as exc:
            self.result.problem = str(exc)
        except (pa.ArrowException, ValueError) as exc:
            self.result.problem = f"the CSV reader: {str(exc).splitlines()[0]}"
        except Exception as exc:  # noqa: BLE001 - whatever it was, this file is not vouched for
            self.result.problem = f"the client check stopped: {exc!r}"
        finally:
            self._stop.set()
            # let the COPY loop finish its puts: drain until the end marker
            if source is None and not self._pipe._eof:
                while self._pipe.queue.get() is not None:
                    pass
                self._pipe._eof = True

    def _check(self, batch: pa.RecordBatch) -> None:
        first = self.result.rows + 1
        for column in self.checked:
            values = batch.column(column.name)
            _check_column(column, values, first, self._time_widths.get(column.type, ()))
        if self.hash_keys and self.result.rows + batch.num_rows > MAX_HASHED_ROWS:
            self.hash_keys = False  # the loader then asks the server for the exact count
            self.result._hashes = []
        if self.hash_keys and batch.num_rows:
            h = np.zeros(batch.num_rows, dtype=np.uint64)
            for k in self.entity.key:
                h = h * _HASH_MULT + _hash_values(batch.column(k))
            self.result._hashes.append(h)


def _first(mask: pa.Array, first: int) -> int:
    """Record number of the first True in ``mask``."""
    return first + int(pc.index(mask, True).as_py())


def _binary_array(values: tuple[str, ...]) -> pa.Array:
    """An Arrow binary array built from its buffers: ``pa.array`` would import pandas (2 s
    and 50 MB in a loader process that never needs it)."""
    data = [v.encode() for v in values]
    offsets = np.cumsum([0, *map(len, data)], dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(),
        len(data),
        [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(data))],
    )


def _check_column(
    column: Column, values: pa.Array, first: int, time_widths: tuple[int, ...]
) -> None:
    name = column.name
    nulls = values.null_count
    if nulls and column.required:
        raise NotVouched(f"record {_first(values.is_null(), first)}: {name} is empty (required)")
    present = values.drop_null() if nulls else values
    if not len(present):
        return
    offsets = np.frombuffer(present.buffers()[1], dtype=np.int32)[
        present.offset : present.offset + len(present) + 1
    ]
    lengths = np.diff(offsets)
    if not lengths.all():  # '' quoted: not a value of a typed, coded or required column
        raise NotVouched(f"{name}: a quoted empty value")
    rules: list[tuple[str, str]] = []
    if column.type in INT_FORMS:
        rules.append((INT_FORMS[column.type], f"a {column.type}"))
    if column.pattern:
        rules.append((column.pattern, f"a code matching {column.pattern}"))
    for pattern, expected in rules:
        ok = pc.match_substring_regex(present, pattern)
        if not pc.all(ok).as_py():
            raise NotVouched(f"{name}: a value is not {expected}")
    if column.enum:
        allowed = _binary_array(column.enum)
        if not pc.all(pc.is_in(present, value_set=allowed)).as_py():
            raise NotVouched(f"{name}: a value is not one of {', '.join(column.enum)}")
    if column.type in ("timestamp", "date"):
        data = np.frombuffer(present.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        _check_times(column, data, lengths, time_widths)


# where the digits Y Y Y Y M M D D h h m m s s are in each form the checker vouches for, by
# width: 'YYYY-MM-DD HH:MM:SS', 'YYYY-MM-DD', 'YYYYMMDDHHMMSS'
_ISO_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
_DIGITS = {19: _ISO_DIGITS, 10: _ISO_DIGITS[:8], 14: np.arange(14)}
_SEPARATORS = {19: {4: ord("-"), 7: ord("-"), 10: ord(" "), 13: ord(":"), 16: ord(":")}}
_SEPARATORS[10] = {pos: char for pos, char in _SEPARATORS[19].items() if pos < 10}


def _check_times(
    column: Column, data: np.ndarray, lengths: np.ndarray, widths: tuple[int, ...]
) -> None:
    """Every value is a timestamp (or date) in one of the forms of ``widths``, of a real
    calendar day and time, year 1900-2199; the server reads these forms (a compact one after
    the loader's rewrite) as the staging path's ``private.norm_ts`` would."""
    width = int(lengths[0])
    if width not in widths or not (lengths == width).all():
        raise NotVouched(f"{column.name}: not every value is in one form the client checks")
    grid = data.reshape(-1, width)
    digits = grid[:, _DIGITS[width]] - ord("0")  # uint8: a non-digit wraps above 9
    if not (digits <= 9).all():
        raise NotVouched(f"{column.name}: a value is not a {column.type} of digits")
    for pos, char in _SEPARATORS.get(width, {}).items():
        if not (grid[:, pos] == char).all():
            raise NotVouched(f"{column.name}: a value is not a {column.type} YYYY-MM-DD")
    d = digits.astype(np.int16)
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 4] * 10 + d[:, 5]
    day = d[:, 6] * 10 + d[:, 7]
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    last = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    ok = (year >= 1900) & (year <= 2199) & month_ok & (day >= 1) & (day <= last)
    if width != 10:
        ok &= (d[:, 8] * 10 + d[:, 9] <= 23) & (d[:, 10] <= 5) & (d[:, 12] <= 5)
    if not ok.all():
        raise NotVouched(f"{column.name}: a value is not a real {column.type} of 1900-2199")


def _hash_values(values: pa.Array) -> np.ndarray:
    """A 64-bit polynomial hash of each value's bytes (NULL hashes like '', which a key,
    being required, never is in a vouched file)."""
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
        values.offset : values.offset + n + 1
    ]
    lengths = np.diff(offsets).astype(np.int64)
    if lengths.max(initial=0) > len(_POWERS) or not lengths.all():
        raise NotVouched("a key value is empty or too long to hash")
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    width = int(lengths[0])
    if (lengths == width).all():  # the usual case (fixed-width ids): one pass per character
        grid = data.reshape(n, width)
        h = np.zeros(n, dtype=np.uint64)
        for j in range(width):
            h = h * _HASH_MULT + grid[:, j]
        return h ^ np.uint64(width)
    starts = (offsets[:-1] - offsets[0]).astype(np.int64)
    # Horner order, as above: the last character has weight 1
    position = np.repeat(starts + lengths - 1, lengths) - np.arange(len(data), dtype=np.int64)
    weighted = data.astype(np.uint64) * _POWERS[position]
    return np.add.reduceat(weighted, starts) ^ lengths.astype(np.uint64)
