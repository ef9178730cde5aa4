"""Delivered files: names, control files, fingerprints, headers. No database here."""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import os
import time
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from sqwh.registry import FILE_NAME, Entity, Registry

CHUNK = 1 << 20
ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "gbk": "GBK", "gb18030": "GB18030"}


class RefusedFile(Exception):
    """A file that must not be loaded; the message is what the operator reads."""


class NotReady(Exception):
    """A file that may still be being written (no control file yet): try again later."""


# A data file without its control file is assumed to be still arriving for this long;
# after that it is refused (the sender forgot the .chk).
CONTROL_GRACE_SECONDS = int(os.environ.get("SQWH_CHK_GRACE_SECONDS", "600"))


@dataclass(frozen=True)
class Delivery:
    path: Path
    entity: Entity
    business_date: date

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def control_path(self) -> Path:
        return self.path.with_name(self.path.name + ".chk")

    @property
    def compressed(self) -> bool:
        return self.path.suffix == ".gz"


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    md5: str
    byte_size: int


@dataclass(frozen=True)
class ControlRecord:
    file_name: str
    byte_size: int
    record_count: int
    md5: str


def identify(path: Path, registry: Registry) -> Delivery:
    """Map a landing file to its entity and business date, or refuse it with the reason."""
    m = FILE_NAME.match(path.name)
    if not m:
        raise RefusedFile(
            f"{path}: file name does not follow <SYSTEM>_<ENTITY>_<YYYYMMDD>[_<seq>].csv[.gz]"
        )
    try:
        entity = registry.entity(m["entity"])
    except KeyError:
        raise RefusedFile(
            f"{path}: unknown entity {m['entity']!r}; declare it in plugins/sqwh/sources.yml"
        ) from None
    try:
        day = datetime.strptime(m["day"], "%Y%m%d").date()
    except ValueError:
        raise RefusedFile(f"{path}: {m['day']!r} in the file name is not a valid date") from None
    return Delivery(path=path, entity=entity, business_date=day)


def fingerprint(path: Path) -> Fingerprint:
    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return Fingerprint(sha256=sha.hexdigest(), md5=md5.hexdigest(), byte_size=size)


def read_control(delivery: Delivery) -> ControlRecord:
    path = delivery.control_path
    if not path.exists():
        age = time.time() - delivery.path.stat().st_mtime
        if age < CONTROL_GRACE_SECONDS:
            raise NotReady(
                f"{delivery.path}: no control file {path.name} yet (file is {age:.0f} s old; "
                f"waiting up to {CONTROL_GRACE_SECONDS} s for it)"
            )
        raise RefusedFile(f"{delivery.path}: control file {path.name} is missing")
    line = path.read_text(encoding="ascii", errors="replace").strip()
    parts = line.split("|")
    if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
        raise RefusedFile(
            f"{path}: expected one line 'file_name|byte_size|record_count|md5', got {line[:120]!r}"
        )
    return ControlRecord(parts[0], int(parts[1]), int(parts[2]), parts[3].lower())


def verify_control(delivery: Delivery, control: ControlRecord, byte_size: int) -> None:
    """Name and size must match the control file before a byte is loaded (the MD5 is
    computed while the file streams to COPY and checked, by ``verify_md5``, before commit)."""
    if control.file_name != delivery.name:
        raise RefusedFile(
            f"{delivery.path}: control file names {control.file_name!r}, not this file"
        )
    if control.byte_size != byte_size:
        raise RefusedFile(
            f"{delivery.path}: size is {byte_size} bytes but the control file says "
            f"{control.byte_size} (truncated or still being written?)"
        )


def verify_md5(delivery: Delivery, control: ControlRecord, fp: Fingerprint) -> None:
    verify_control(delivery, control, fp.byte_size)  # the file may have changed meanwhile
    if control.md5 != fp.md5:
        raise RefusedFile(
            f"{delivery.path}: MD5 is {fp.md5} but the control file says {control.md5}"
        )


class HashingReader(io.RawIOBase):
    """Reads a file once for everything: what passes through feeds sha256, MD5 and the size,
    so the fingerprint costs no pass of its own (it is computed while COPY consumes the data)."""

    def __init__(self, raw: BinaryIO, sink: BinaryIO | None = None) -> None:
        self._raw = raw
        self._sink = sink  # gets every byte read: the archive copy costs no read of its own
        self._sha, self._md5, self._size = hashlib.sha256(), hashlib.md5(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = self._raw.readinto(buffer)
        if n:
            view = memoryview(buffer)[:n]
            self._sha.update(view)
            self._md5.update(view)
            self._size += n
            if self._sink is not None:
                self._sink.write(view)
        return n or 0

    def close(self) -> None:
        self._raw.close()
        if self._sink is not None:
            self._sink.close()
        super().close()

    def finish(self) -> Fingerprint:
        """Hash whatever the consumer left unread (e.g. bytes after a gzip stream's end)."""
        while chunk := self._raw.read(CHUNK):
            self._sha.update(chunk)
            self._md5.update(chunk)
            self._size += len(chunk)
            if self._sink is not None:
                self._sink.write(chunk)
        if self._sink is not None:
            self._sink.flush()
        return Fingerprint(self._sha.hexdigest(), self._md5.hexdigest(), self._size)


def open_hashed(delivery: Delivery, copy_to: Path | None = None) -> tuple[BinaryIO, HashingReader]:
    """The uncompressed data, and the reader that fingerprints the file's bytes under it (and,
    with ``copy_to``, writes them there: the very bytes hashed and loaded)."""
    sink = copy_to.open("wb") if copy_to is not None else None
    hashed = HashingReader(delivery.path.open("rb"), sink)  # type: ignore[arg-type]
    buffered = io.BufferedReader(hashed, CHUNK)
    data = gzip.GzipFile(fileobj=buffered) if delivery.compressed else buffered
    return data, hashed  # type: ignore[return-value]


def open_data(delivery: Delivery) -> BinaryIO:
    raw = delivery.path.open("rb")
    return gzip.GzipFile(fileobj=raw) if delivery.compressed else raw  # type: ignore[return-value]


def read_header(delivery: Delivery, encoding: str) -> tuple[list[str], str]:
    """The header's column names and the delimiter (``|`` or ``,``, whichever the header uses)."""
    with open_data(delivery) as f:
        first = f.readline(1 << 16)
    text = first.decode(encoding, errors="replace").lstrip("\ufeff").rstrip("\r\n")
    if not text.strip():
        raise RefusedFile(
            f"{delivery.path}: empty file, not even a header line (a day without events "
            "is delivered as a header-only file)"
        )
    delimiter = "|" if text.count("|") > text.count(",") else ","
    return [c.strip().strip('"') for c in text.split(delimiter)], delimiter


def first_record(delivery: Delivery, encoding: str, delimiter: str) -> list[str] | None:
    """The first data record (from the first 64 KiB), or None for a header-only file."""
    with open_data(delivery) as f:
        head = f.read(1 << 16)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader, None)
    try:
        return next(reader, None)
    except csv.Error:
        return None


def _first_bad_byte(delivery: Delivery, codec: str) -> int | None:
    """Offset (in the uncompressed data) of the first byte that is not valid ``codec``, or None."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    offset = 0
    try:
        with open_data(delivery) as f:
            while chunk := f.read(CHUNK):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    return offset + exc.start
                offset += len(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset
    except (EOFError, OSError, zlib.error) as exc:
        raise RefusedFile(
            f"{delivery.path}: cannot be read to the end ({exc}); truncated or corrupt"
        ) from None
    return None


def detect_encoding(delivery: Delivery) -> str:
    """UTF-8 (with or without BOM) if the whole file is valid UTF-8, else GB18030 (a superset
    of GBK) if valid, unless the registry pins an encoding. Refuses naming the first bad byte."""
    declared = delivery.entity.encoding.lower()
    if declared != "auto":
        bad = _first_bad_byte(delivery, declared)
        if bad is not None:
            raise RefusedFile(
                f"{delivery.path}: not valid {declared} (declared for {delivery.entity.name}) "
                f"at byte offset {bad}; re-export it in {declared}"
            )
        return declared
    bad_utf8 = _first_bad_byte(delivery, "utf-8")
    if bad_utf8 is None:
        return "utf-8"
    if _first_bad_byte(delivery, "gb18030") is None:
        return "gb18030"
    raise RefusedFile(
        f"{delivery.path}: encoding is neither UTF-8 nor GBK/GB18030 (first byte that is not UTF-8 "
        f"at offset {bad_utf8}); re-export it in UTF-8 or GBK, or declare the encoding in sources.yml"
    )


def guess_encoding(delivery: Delivery) -> str:
    """The encoding to COPY with, judged from the first MiB: PostgreSQL validates every byte
    while it loads, and only when it objects does ``detect_encoding`` read the whole file."""
    declared = delivery.entity.encoding.lower()
    if declared != "auto":
        return declared
    try:
        with open_data(delivery) as f:
            head = f.read(CHUNK)
    except (EOFError, OSError, zlib.error) as exc:
        raise RefusedFile(
            f"{delivery.path}: cannot be read to the end ({exc}); truncated or corrupt"
        ) from None
    for codec in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(codec)(errors="strict").decode(head, final=False)
            return codec
        except UnicodeDecodeError:
            continue
    return detect_encoding(delivery)  # refuses, naming the first bad byte


def pg_encoding(encoding: str) -> str:
    return ENCODINGS[encoding.lower()]


def stream_chunks(delivery: Delivery) -> io.BufferedIOBase:
    return open_data(delivery)  # type: ignore[return-value]
