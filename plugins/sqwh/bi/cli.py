"""`make bi` / `make bi-stop`: python -m sqwh.bi.cli up|down|status|url (see sqwh.bi.server).

``set-reader-password`` gives the warehouse role bi_reader the password in
SQWH_BI_READER_PASSWORD (the compose init job runs it; servers with password authentication).
"""

from __future__ import annotations

import argparse
import os
import time

from sqwh.bi.reader import PASSWORD_ENV, reader_url, set_reader_password
from sqwh.bi.server import Superset
from sqwh.warehouse import redact, warehouse_url


def up(superset: Superset) -> int:
    t0 = time.monotonic()
    superset.install()
    t1 = time.monotonic()
    url = warehouse_url()
    password = os.environ.get(PASSWORD_ENV)
    if password and os.environ.get("WAREHOUSE_URL"):
        set_reader_password(url, password)
    superset.initialise()
    superset.import_bundle(reader_url(url))
    pid = superset.start()
    user, pw = superset.admin
    default = " (the local default; set SUPERSET_ADMIN_PASSWORD)" if pw == "admin" else ""
    print(f"Superset is up: {superset.url}/superset/dashboard/sqwh-indicators/  pid {pid}")
    print(f"  login {user} / {'admin' if default else '$SUPERSET_ADMIN_PASSWORD'}{default}")
    print(f"  connection: {redact(reader_url(url))}")
    print(f"  install {t1 - t0:.0f} s, init + import + start {time.monotonic() - t1:.0f} s; "
          f"log {superset.log_file}; stop with `make bi-stop`")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sqwh.bi.cli")
    parser.add_argument("action", choices=["up", "down", "status", "url", "set-reader-password"])
    args = parser.parse_args(argv)
    superset = Superset.default()
    if args.action == "up":
        return up(superset)
    if args.action == "down":
        print("stopped Superset" if superset.stop() else "Superset was not running")
        return 0
    if args.action == "set-reader-password":
        password = os.environ.get(PASSWORD_ENV)
        if not password:
            parser.error(f"{PASSWORD_ENV} is not set: put the bi_reader password in it (.env)")
        set_reader_password(warehouse_url(), password)
        print("bi_reader password set")
        return 0
    if args.action == "url":
        print(redact(reader_url(warehouse_url())))
        return 0
    pid = superset.pid()
    print(f"pid {pid}, healthy {superset.healthy()}, {superset.url}" if pid else "not running")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
