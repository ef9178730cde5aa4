"""Bytes inserted into a chunk of the COPY stream at given offsets, with numpy: a few passes
over the chunk, no Python loop per record (the record numbers, the compact-time rewrite)."""

from __future__ import annotations

import numpy as np


class Splicer:
    """Inserts rows of bytes into chunks; keeps one scratch array from chunk to chunk (fresh
    arrays of a chunk's size would cost page faults on every chunk)."""

    def __init__(self) -> None:
        self._flags = np.empty(0, dtype=bool)

    def scratch(self, size: int) -> np.ndarray:
        """A boolean array of ``size`` to overwrite; valid until the next call."""
        if len(self._flags) < size:
            self._flags = np.empty(size, dtype=bool)
        return self._flags[:size]

    def insert(self, data: np.ndarray, before: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``data`` with ``rows[j]`` (a row of ``width`` bytes) placed in front of
        ``data[before[j]]``; ``before`` ascending (``len(data)`` appends)."""
        count, width = rows.shape
        out = np.empty(len(data) + rows.size, dtype=np.uint8)
        # row j lands where its byte was, shifted by the j rows inserted before it
        at = (before + width * np.arange(count))[:, None] + np.arange(width)
        out[at] = rows
        keep = self.scratch(len(out))
        keep.fill(True)
        keep[at] = False
        out[keep] = data
        return out
