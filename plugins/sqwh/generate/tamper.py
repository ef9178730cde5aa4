"""Edit a delivered extract file after the writer closed it, keeping its ``.chk`` consistent.

File-level defects (bad rows, re-encoding, gzip, truncation, control-file mismatches, extra
deliveries) work on finished files rather than on the typed tables: that is where real
delivery faults happen, and it lets a defect put text into an integer column. Files are
small at the scales defects are used with, so whole-file reads are fine here.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqwh.generate.summary import FileRecord
from sqwh.generate.writer import FileFormat, control_line
from sqwh.registry import Entity


@dataclass
class DeliveredFile:
    """One data file and its control file in the landing folder, as a defect sees them."""

    path: Path
    entity: Entity
    day: date
    fmt: FileFormat
    rows: int  # records as the control file will declare them
    extra: list[FileRecord] = field(default_factory=list)  # further deliveries made by defects

    @property
    def chk_path(self) -> Path:
        return self.path.with_name(self.path.name + ".chk")

    @property
    def compressed(self) -> bool:
        return self.path.suffix == ".gz"

    def raw(self) -> bytes:
        """The bytes as delivered (compressed if the file is .gz)."""
        return self.path.read_bytes()

    def data(self) -> bytes:
        raw = self.raw()
        return gzip.decompress(raw) if self.compressed else raw

    def records(self) -> tuple[list[str], list[list[str]]]:
        reader = csv.reader(
            io.StringIO(self.data().decode(self.fmt.encoding), newline=""),
            delimiter=self.fmt.delimiter,
        )
        header = next(reader, [])
        return header, list(reader)

    def write_records(self, header: list[str], rows: list[list[str]]) -> None:
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, delimiter=self.fmt.delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        self.rows = len(rows)
        self.write_data(buf.getvalue().encode(self.fmt.encoding))

    def write_data(self, data: bytes) -> None:
        """Replace the (uncompressed) content; the control file follows."""
        # mtime=0: the same inputs must give the same bytes
        self.write_raw(gzip.compress(data, mtime=0) if self.compressed else data)

    def write_raw(self, raw: bytes) -> None:
        self.path.write_bytes(raw)
        self.write_control()

    def write_control(
        self, *, size: int | None = None, rows: int | None = None, md5: str | None = None
    ) -> None:
        """The control file as the sender would write it; overrides make it lie."""
        raw = self.raw()
        line = control_line(
            self.path.name,
            len(raw) if size is None else size,
            self.rows if rows is None else rows,
            hashlib.md5(raw).hexdigest() if md5 is None else md5,
        )
        self.chk_path.write_bytes(line.encode("ascii"))

    def rename(self, path: Path) -> None:
        """Move the delivery (and its control file) to another name, e.g. ``.csv.gz``."""
        self.chk_path.unlink(missing_ok=True)
        raw = self.raw()
        self.path.unlink()
        self.path = path
        self.path.write_bytes(raw)
        self.write_control()

    def next_delivery_path(self) -> Path:
        """``<ENTITY>_<YYYYMMDD>_<n>.csv[.gz]`` with the first free sequence number from 2."""
        suffix = ".csv.gz" if self.compressed else ".csv"
        base = f"{self.entity.name}_{self.day:%Y%m%d}"
        n = 2
        while (self.path.parent / f"{base}_{n}{suffix}").exists():
            n += 1
        return self.path.parent / f"{base}_{n}{suffix}"

    def deliver_copy(self, raw: bytes, rows: int) -> Path:
        """Another delivery of the same entity and day (with a correct control file)."""
        path = self.next_delivery_path()
        path.write_bytes(raw)
        chk = path.with_name(path.name + ".chk")
        chk.write_bytes(
            control_line(path.name, len(raw), rows, hashlib.md5(raw).hexdigest()).encode("ascii")
        )
        self.extra.append(FileRecord(path, self.entity.name, self.day, rows, len(raw)))
        return path

    def record(self) -> FileRecord:
        return FileRecord(self.path, self.entity.name, self.day, self.rows, len(self.raw()))
