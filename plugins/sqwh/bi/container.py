"""Entry point of the compose ``superset`` service (image built by ``bi/Dockerfile``).

Idempotent on every start: metadata schema, roles, the admin from ``SUPERSET_ADMIN_USER`` /
``SUPERSET_ADMIN_PASSWORD``, the dashboard bundle with ``SQWH_BI_READER_URL`` (the warehouse
as ``bi_reader``), then gunicorn on port 8088. Runs in Superset's environment, so it imports
only the standard library, PyYAML and ``sqwh.bi.bundle``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sqwh.bi import bundle


def _superset(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(["superset", *args], capture_output=True, text=True)
    print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n", flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"superset {' '.join(args[:2])} exited {proc.returncode}")
    return proc


def main() -> None:
    user, password = os.environ["SUPERSET_ADMIN_USER"], os.environ["SUPERSET_ADMIN_PASSWORD"]
    _superset("db", "upgrade")
    _superset("init")
    made = _superset("fab", "create-admin", "--username", user, "--password", password,
                     "--firstname", "Superset", "--lastname", "Admin", "--email", f"{user}@localhost")  # fmt: skip
    if "already exists" in made.stdout + made.stderr:
        _superset("fab", "reset-password", "--username", user, "--password", password)
    with tempfile.TemporaryDirectory() as tmp:
        archive = bundle.render_zip(bundle.bundle_dir(), os.environ["SQWH_BI_READER_URL"], Path(tmp) / "bundle.zip")  # fmt: skip
        script = Path(__file__).with_name("import_assets.py")
        subprocess.run([sys.executable, str(script), str(archive), user], check=True)
    os.execvp("gunicorn", ["gunicorn", "--workers", "2", "--threads", "4", "--timeout", "120",
                           "--bind", "0.0.0.0:8088", "superset.app:create_app()"])  # fmt: skip


if __name__ == "__main__":
    main()
