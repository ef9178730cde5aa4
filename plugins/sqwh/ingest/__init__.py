"""Ingestion: verify delivered extract files and stream them into the ``raw`` schema."""

from sqwh.ingest.loader import LoadResult, load_file, load_landing

__all__ = ["LoadResult", "load_file", "load_landing"]
