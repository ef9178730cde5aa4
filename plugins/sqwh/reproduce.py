"""Reproduce a publication from its archived input files and diff it against what was published.

The archive is content-addressed (``archive/<sha[:2]>/<sha256>.csv[.gz]``). Reproduction
verifies every archived file against the sha256 the publication recorded (a tampered or
missing file is reported, not silently used), loads them through the normal loader into a
scratch database on the same server (so the published warehouse is never touched), builds
the period with the same dbt project, and compares every figure to the last digit.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from sqwh.ingest import load_file
from sqwh.schema import bootstrap
from sqwh.transform import build
from sqwh.warehouse import connect, parse_url

log = logging.getLogger(__name__)

FIGURE = ("indicator_code", "geo_level", "city_code", "breakdown_type", "breakdown")
VALUES = ("numerator", "denominator", "value")


@dataclass
class Reproduction:
    publication_id: int
    period: str
    files: int
    tampered: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not self.tampered and not self.differences


def _scratch_url(url: str, name: str) -> str:
    info = parse_url(url)
    return url.replace(f"/{info.dbname}", f"/{name}", 1)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _stage_archive(conn: psycopg.Connection, files: list[dict], landing: Path) -> list[str]:
    """Lay the archived files out as a landing folder again (original names, fresh .chk)."""
    tampered = []
    for f in files:
        row = conn.execute(
            """select system, file_name, archive_path, md5, byte_size, declared_records
               from audit.load_manifest where sha256 = %s and archive_path is not null
               order by load_id limit 1""",
            (f["sha256"],),
        ).fetchone()
        if row is None:
            tampered.append(f"{f['file']}: no archived copy recorded for sha256 {f['sha256']}")
            continue
        system, name, archive, md5, size, records = row
        archived = Path(archive)
        if not archived.exists():
            tampered.append(f"{name}: archived copy {archived} is missing")
            continue
        actual = _sha256(archived)
        if actual != f["sha256"]:
            tampered.append(
                f"{name}: archived copy {archived} has sha256 {actual}, published from {f['sha256']}"
            )
            continue
        target = landing / system / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(archived, target)
        (target.parent / f"{name}.chk").write_text(f"{name}|{size}|{records}|{md5}\n")
    return tampered


def _figures(conn: psycopg.Connection, query: sql.Composable, params: tuple) -> dict[tuple, tuple]:
    return {tuple(r[:5]): tuple(r[5:]) for r in conn.execute(query, params)}


def reproduce(url: str, publication_id: int, keep: bool = False) -> Reproduction:
    with connect(url) as conn:
        pub = conn.execute(
            "select period, input_files from audit.publication where publication_id = %s",
            (publication_id,),
        ).fetchone()
        if pub is None:
            raise ValueError(f"no publication {publication_id}; see `sqwh status` for the ids")
        period, files = pub
        result = Reproduction(publication_id, period, len(files))
        workdir = Path(tempfile.mkdtemp(prefix=f"sqwh-reproduce-{publication_id}-"))
        result.tampered = _stage_archive(conn, files, workdir / "landing")
        if result.tampered:
            shutil.rmtree(workdir, ignore_errors=True)
            return result
        columns = sql.SQL(", ").join(map(sql.Identifier, FIGURE + VALUES))
        published = _figures(
            conn,
            # a superseded publication's figures live on in audit.superseded_indicators
            sql.SQL(
                "select {c} from reporting.half_year_indicators where publication_id = %s"
                " union all select {c} from audit.superseded_indicators where publication_id = %s"
            ).format(c=columns),
            (publication_id, publication_id),
        )
    scratch = f"sqwh_reproduce_{publication_id}_{uuid.uuid4().hex[:6]}"
    admin = _scratch_url(url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(scratch)))
    scratch_url = _scratch_url(url, scratch)
    try:
        bootstrap(scratch_url)
        with connect(scratch_url) as conn:
            for path in sorted((workdir / "landing").glob("*/*")):
                if path.name.endswith(".chk"):
                    continue
                loaded = load_file(
                    conn, path, system=path.parent.name, run_id=f"reproduce-{publication_id}"
                )
                if loaded.status not in ("LOADED", "SKIPPED"):
                    result.differences.append(
                        f"{path.name}: {loaded.status} on reload: {loaded.reason}"
                    )
        build(scratch_url, period)
        with connect(scratch_url) as conn:
            rebuilt = _figures(
                conn, sql.SQL("select {} from candidate.half_year_indicators").format(columns), ()
            )
        for key in sorted(set(published) | set(rebuilt), key=str):
            a, b = published.get(key), rebuilt.get(key)
            if a != b:
                result.differences.append(f"{key}: published {a}, reproduced {b}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("drop database if exists {} with (force)").format(
                        sql.Identifier(scratch)
                    )
                )
    return result
