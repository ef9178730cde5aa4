"""The URL Superset (or any BI tool) uses: the warehouse, as the ``bi_reader`` role.

The embedded server listens on a unix socket only, so its URL carries the socket directory
as the libpq ``host`` query parameter; SQLAlchemy's psycopg2 dialect passes the query to
libpq unchanged and Superset accepts that form (``postgresql+psycopg2://bi_reader@/warehouse
?host=/abs/pgdata``). No TCP port is opened for BI: the socket is reachable only from this
machine, which is what a local demo needs, and the server's trust authentication stays
limited to local users. On a server (``WAREHOUSE_URL``) the reader authenticates with
``SQWH_BI_READER_PASSWORD``, which is never written to the repository.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from sqwh.warehouse import parse_url

ROLE = "bi_reader"
PASSWORD_ENV = "SQWH_BI_READER_PASSWORD"


def reader_url(warehouse_url: str, password: str | None = None) -> str:
    """The SQLAlchemy URL of ``warehouse_url``'s database, logged in as ``bi_reader``."""
    info = parse_url(warehouse_url)
    secret = password if password is not None else os.environ.get(PASSWORD_ENV, "")
    auth = ROLE + (f":{quote(secret, safe='')}" if secret else "")
    if info.is_socket:
        return f"postgresql+psycopg2://{auth}@/{info.dbname}?host={info.host}&port={info.port}"
    return f"postgresql+psycopg2://{auth}@{info.host}:{info.port}/{info.dbname}"


def set_reader_password(admin_url: str, password: str) -> None:
    """Give ``bi_reader`` a password (server warehouses that use password authentication)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("alter role {} password {}").format(sql.Identifier(ROLE), sql.Literal(password))
        )
