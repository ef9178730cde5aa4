"""Create and upgrade the warehouse structure: roles, schemas, audit ledger, raw tables.

Raw tables derive from the source registry; re-running is harmless and adds new
registry columns to existing tables.
"""

from __future__ import annotations

import hashlib
from importlib.resources import files

import psycopg
from psycopg import sql

from sqwh.config import pseudonym_key
from sqwh.registry import Entity, Registry, load_registry

SQL_FILES = ("bootstrap.sql", "audit.sql", "private.sql", "reporting.sql")

# Columns every raw row carries: which load brought it, and where in the file it was.
RAW_META_COLUMNS = [
    ("_load_id", "bigint not null"),
    ("_record_no", "bigint not null"),
    ("_business_date", "date"),
]


def _sql_file(name: str) -> str:
    return files("sqwh").joinpath("sql", name).read_text(encoding="utf-8")


def raw_table_ddl(entity: Entity) -> list[sql.Composed]:
    table = sql.Identifier("raw", entity.table)
    cols = [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type)) for c in entity.columns
    ]
    cols += [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in RAW_META_COLUMNS]
    statements = [
        sql.SQL("create table if not exists {} ({})").format(table, sql.SQL(", ").join(cols))
    ]
    statements += [
        sql.SQL("alter table {} add column if not exists {} {}").format(
            table, sql.Identifier(c.name), sql.SQL(c.pg_type)
        )
        for c in entity.columns
    ]
    # _load_id only grows with insertion order: a BRIN index is tiny and almost free to maintain
    # during COPY, and still finds one load's rows for reconciliation and replacement
    statements.append(
        sql.SQL("drop index if exists {}").format(sql.Identifier("raw", f"{entity.table}_load_id"))
    )
    statements.append(
        sql.SQL(
            "create index if not exists {} on {} using brin (_load_id) with (pages_per_range = 16)"
        ).format(sql.Identifier(load_index(entity).split(".")[1]), table)
    )
    statements += direct_copy_ddl(entity)
    return statements


def load_index(entity: Entity) -> str:
    """The BRIN index on a raw table's _load_id, qualified (raw names are plain identifiers)."""
    return f"raw.{entity.table}_load_id_brin"


def direct_copy_ddl(entity: Entity) -> list[sql.Composed]:
    """What lets a clean file COPY straight into its raw table: defaults that stamp load id
    and business day from settings of the load transaction (sqwh.load_id,
    sqwh.business_date), read once per COPY. The record number comes with the data: the
    client writes it in front of each record (``sqwh.ingest.recordno``).

    No contract CHECK on the table: the loader checks every row of a direct COPY in the
    client (``sqwh.ingest.rowcheck``, the same rules, on the other core while the server
    inserts) and every row of the staging path in SQL (``sqwh.ingest.checks``), and the raw
    tables are written by the loader only (etl_writer). A CHECK would make the server
    evaluate the contract a second time for every row: 0.6 s of server CPU per 1 M rows."""
    table = sql.Identifier("raw", entity.table)
    return [
        # evaluated when COPY starts (private.*_setting are immutable on purpose, see
        # private.sql); no missing_ok: a row inserted outside a load fails loudly
        sql.SQL(
            "alter table {} alter column _load_id set default private.load_id_setting()"
        ).format(table),
        sql.SQL(
            "alter table {} alter column _business_date set default private.business_date_setting()"
        ).format(table),
        # no default any more: the sequence it read (earlier versions) cost the server a
        # lookup and a permission check per row; a row without its number fails loudly
        sql.SQL("alter table {} alter column _record_no drop default").format(table),
        sql.SQL("drop sequence if exists {}").format(
            sql.Identifier("raw", f"{entity.table}_record_no")
        ),
        # the contract CHECK of earlier versions goes (see above); idempotent
        sql.SQL(
            """do $$ begin
                 execute (select coalesce(string_agg(format('alter table raw.%I drop constraint %I', {t}, conname), '; '), 'select 1')
                          from pg_constraint where conrelid = to_regclass(format('raw.%I', {t})) and conname like {pattern});
               end $$"""
        ).format(
            t=sql.Literal(entity.table),
            pattern=sql.Literal(f"{entity.table}_contract_%"),
        ),
    ]


QUARANTINE_DDL = """
create table if not exists raw.quarantine (
    load_id bigint not null,
    entity text not null,
    file_name text not null,
    record_no bigint not null,
    column_name text,
    reason text not null,
    raw_record text,
    quarantined_at timestamptz not null default now()
)
"""


def _install_key(conn: psycopg.Connection) -> None:
    key = pseudonym_key()
    block = 64  # SHA-256 block size (RFC 2104)
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = bytes(b ^ 0x36 for b in key)
    outer = bytes(b ^ 0x5C for b in key)
    fingerprint = hashlib.sha256(b"fingerprint:" + key).hexdigest()[:16]
    conn.execute(
        """insert into private.pseudonym_key (id, inner_key, outer_key, key_fingerprint)
           values (1, %s, %s, %s)
           on conflict (id) do update set inner_key = excluded.inner_key,
               outer_key = excluded.outer_key, key_fingerprint = excluded.key_fingerprint""",
        (inner, outer, fingerprint),
    )


def bootstrap(url: str, registry: Registry | None = None) -> None:
    """Bring the warehouse to the current structure (idempotent)."""
    registry = registry or load_registry()
    with psycopg.connect(url, autocommit=False) as conn:
        # Serialise concurrent bootstraps (CLI and DAG at once): DDL races otherwise.
        conn.execute("select pg_advisory_xact_lock(hashtext('sqwh.bootstrap'))")
        conn.execute(_sql_file("bootstrap.sql"))
        conn.execute("set local role etl_writer")
        for name in SQL_FILES[1:]:
            conn.execute(_sql_file(name))
        conn.execute(QUARANTINE_DDL)
        for entity in registry.entities:
            for statement in raw_table_ddl(entity):
                conn.execute(statement)
        _install_key(conn)
        # one row: without statistics the planner guesses hundreds and joins it the wrong way round
        conn.execute("analyze private.pseudonym_key")
        conn.commit()
