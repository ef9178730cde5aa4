"""What a generator run wrote, for callers, tests and the CLI's closing message."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class FileRecord:
    """One data file (its ``.chk`` sits beside it as ``<path>.chk``)."""

    path: Path
    entity: str
    day: date  # business day in the file name
    rows: int  # records, header excluded
    bytes: int

    @property
    def chk_path(self) -> Path:
        return self.path.with_name(self.path.name + ".chk")


@dataclass
class GenerationSummary:
    out: Path
    period: str
    scale: float
    seed: int
    defects: tuple[str, ...] = ()
    files: list[FileRecord] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def rows_by_entity(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for f in self.files:
            counts[f.entity] += f.rows
        return dict(counts)

    def files_of(self, entity: str) -> list[FileRecord]:
        return [f for f in self.files if f.entity == entity]
