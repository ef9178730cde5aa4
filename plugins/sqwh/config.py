"""Where things live and how they are configured: environment first, sensible local defaults.

Nothing secret is read from the repository: the warehouse URL and the pseudonymisation
key come from the environment (or Airflow variables), or are created locally in the
git-ignored state folder for the zero-setup default.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _default_project_dir() -> Path:
    # plugins/sqwh/config.py -> project root; overridable for installed images.
    return PACKAGE_DIR.parent.parent


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    state_dir: Path

    @property
    def dbt_dir(self) -> Path:
        return self.project_dir / "dbt"

    @property
    def dags_dir(self) -> Path:
        return self.project_dir / "dags"

    @property
    def expectations_dir(self) -> Path:
        return self.project_dir / "expectations"

    @property
    def pgdata(self) -> Path:
        return Path(os.environ.get("SQWH_PGDATA", self.state_dir / "pgdata"))

    @property
    def airflow_home(self) -> Path:
        return Path(os.environ.get("AIRFLOW_HOME", self.state_dir / "airflow"))

    @property
    def archive_dir(self) -> Path:
        return self.state_dir / "archive"

    @property
    def reports_dir(self) -> Path:
        return self.state_dir / "reports"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def landing_dir(self) -> Path:
        return Path(os.environ.get("SQWH_LANDING", self.state_dir / "landing"))

    @property
    def dbt_target_dir(self) -> Path:
        return self.state_dir / "dbt-target"


def settings() -> Settings:
    return _settings(os.environ.get("SQWH_PROJECT_DIR"), os.environ.get("SQWH_HOME"), os.getcwd())


@lru_cache(maxsize=8)
def _settings(project_env: str | None, home_env: str | None, cwd: str) -> Settings:
    # keyed by what the paths depend on (the variables; the working folder for relative
    # ones); cached because resolving them costs system calls, twice per file loaded
    project = Path(project_env or _default_project_dir()).resolve()
    state = Path(home_env or project / ".sqwh").resolve()
    return Settings(project_dir=project, state_dir=state)


def pseudonym_key() -> bytes:
    """The key of the keyed hash that pseudonymises personal data beyond ``raw``.

    From ``SQWH_PSEUDONYM_KEY`` (Airflow: set it as an environment variable or
    ``AIRFLOW_VAR_SQWH_PSEUDONYM_KEY``); else a random key kept in the local state folder,
    so that re-runs on one laptop give stable pseudonyms.
    """
    for var in ("SQWH_PSEUDONYM_KEY", "AIRFLOW_VAR_SQWH_PSEUDONYM_KEY"):
        if os.environ.get(var):
            return os.environ[var].encode()
    path = settings().state_dir / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()
