"""Install, initialise, start and stop Apache Superset for the warehouse (`make bi`).

    python -m sqwh.bi.cli up        # install (uv, cached), init, import the bundle, start on 127.0.0.1:8088
    python -m sqwh.bi.cli status
    python -m sqwh.bi.cli down      # `make bi-stop`: stops the process group it started

State (metadata SQLite, secret key, pid file, log) lives in ``<SQWH_HOME>/bi``; the
virtual environment in ``.bi/venv`` of the project (``SQWH_BI_VENV``), installed from
``bi/requirements.lock`` only. Settings, all optional for local use:

    SUPERSET_ADMIN_USER / SUPERSET_ADMIN_PASSWORD   admin login (default admin / admin: local only)
    SUPERSET_SECRET_KEY                             else a random key kept in <SQWH_HOME>/bi
    SQWH_BI_PORT                                    default 8088
    SQWH_BI_READER_PASSWORD                         bi_reader's password on a server warehouse
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqwh.bi import bundle
from sqwh.config import settings
from sqwh.process_groups import group_alive, stop_group

DEFAULT_PORT = 8088
DEFAULT_ADMIN = "admin"


class SupersetError(RuntimeError):
    """A step of the Superset setup failed; the message names the step and its log."""


@dataclass
class Superset:
    home: Path
    venv: Path
    port: int = DEFAULT_PORT

    @classmethod
    def default(cls) -> Superset:
        s = settings()
        venv = Path(os.environ.get("SQWH_BI_VENV", s.project_dir / ".bi" / "venv"))
        port = int(os.environ.get("SQWH_BI_PORT", DEFAULT_PORT))
        return cls(home=(s.state_dir / "bi").resolve(), venv=venv.resolve(), port=port)

    # --- paths and settings -------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "superset.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "superset.log"

    @property
    def lock_file(self) -> Path:
        return settings().project_dir / "bi" / "requirements.lock"

    @property
    def admin(self) -> tuple[str, str]:
        return (
            os.environ.get("SUPERSET_ADMIN_USER", DEFAULT_ADMIN),
            os.environ.get("SUPERSET_ADMIN_PASSWORD", DEFAULT_ADMIN),
        )

    def _secret_key(self) -> str:
        if os.environ.get("SUPERSET_SECRET_KEY"):
            return os.environ["SUPERSET_SECRET_KEY"]
        path = self.home / "secret_key"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env.update(
            SUPERSET_CONFIG_PATH=str(settings().project_dir / "bi" / "superset_config.py"),
            SUPERSET_SECRET_KEY=self._secret_key(),
            SUPERSET_METADATA_URI=os.environ.get(
                "SUPERSET_METADATA_URI", f"sqlite:///{self.home / 'superset.db'}"
            ),
            SUPERSET_HOME=str(self.home),
            FLASK_APP="superset",
            PATH=f"{self.venv / 'bin'}:{env.get('PATH', '')}",
        )
        return env

    # --- install and initialise ---------------------------------------------------------
    def _lock_digest(self) -> str:
        return hashlib.sha256(self.lock_file.read_bytes()).hexdigest()

    def installed(self) -> bool:
        marker = self.venv / ".sqwh-lock-sha256"
        return marker.exists() and marker.read_text().strip() == self._lock_digest()

    def install(self) -> None:
        """Create the venv from the lock (uv caches wheels: a re-install takes seconds)."""
        if self.installed():
            return
        uv = _uv()
        python = os.environ.get("PYTHON", "python3.11")
        self._run([uv, "venv", "--quiet", "--allow-existing", "--python", python, str(self.venv)], "uv venv")  # fmt: skip
        self._run([uv, "pip", "sync", "--quiet", "--python", str(self.venv / "bin" / "python"), str(self.lock_file)], "uv pip sync")  # fmt: skip
        (self.venv / ".sqwh-lock-sha256").write_text(self._lock_digest())

    def superset(self, *args: str, step: str | None = None) -> subprocess.CompletedProcess:
        return self._run(
            [str(self.venv / "bin" / "superset"), *args], step or f"superset {args[0]}"
        )

    def _run(self, cmd: list[str], step: str) -> subprocess.CompletedProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=900)
        with self.home.joinpath("setup.log").open("a") as log:
            log.write(f"$ {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}\n")
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip()[-1500:]
            raise SupersetError(f"{step} exited {proc.returncode} (full log: {self.home / 'setup.log'}):\n{tail}")  # fmt: skip
        return proc

    def initialise(self) -> None:
        """Metadata schema, roles and permissions, the admin user: each idempotent."""
        self.superset("db", "upgrade")
        marker = self.home / "initialised"
        if not marker.exists() or marker.read_text() != self._lock_digest():
            self.superset("init")
            marker.write_text(self._lock_digest())
        user, password = self.admin
        created = self.superset("fab", "create-admin", "--username", user, "--password", password,
                                "--firstname", "Superset", "--lastname", "Admin",
                                "--email", f"{user}@localhost")  # fmt: skip
        if "already exists" in created.stdout + created.stderr:
            self.superset("fab", "reset-password", "--username", user, "--password", password)

    def import_bundle(self, reader_url: str) -> None:
        """Import the committed dashboard bundle with the real bi_reader connection URL."""
        archive = bundle.render_zip(bundle.bundle_dir(), reader_url, self.home / "bundle.zip")
        try:
            script = Path(__file__).with_name("import_assets.py")
            python = str(self.venv / "bin" / "python")
            self._run([python, str(script), str(archive), self.admin[0]], "import the bundle")
        finally:
            archive.unlink(missing_ok=True)  # it may hold the reader's password

    # --- run ----------------------------------------------------------------------------
    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if group_alive(pid) else None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=5) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def start(self, timeout: float = 180) -> int:
        """Start the web server in its own session (one process group) and wait for /health."""
        running = self.pid()
        if running and self.healthy():
            return running
        if self.healthy():
            raise SupersetError(f"port {self.port} already answers /health but not from {self.pid_file}: another Superset? set SQWH_BI_PORT")  # fmt: skip
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                [
                    str(self.venv / "bin" / "superset"),
                    "run",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--with-threads",
                ],  # fmt: skip
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # own process group: stop() ends it as a whole
            )
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return proc.pid
            if proc.poll() is not None:
                raise SupersetError(f"superset run exited {proc.returncode}; see {self.log_file}")
            time.sleep(1)
        self.stop()
        raise SupersetError(f"Superset not healthy after {timeout:.0f} s; see {self.log_file}")

    def stop(self, grace: float = 20) -> bool:
        """SIGTERM the process group from the pid file, SIGKILL it after `grace` seconds."""
        try:
            pgid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return False
        was_running = stop_group(pgid, grace)
        self.pid_file.unlink(missing_ok=True)
        return was_running


def _uv() -> str:
    local = settings().project_dir / ".tools" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if not found:
        raise SupersetError("uv not found: run `make install` first (it puts uv in .tools/bin)")
    return found
