"""Superset configuration for sqwh (read via SUPERSET_CONFIG_PATH; secrets come from the env).

`make bi` (python -m sqwh.bi.cli up) sets these variables; the compose service sets them from .env.
"""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_METADATA_URI"]

# SQL Lab runs synchronously (no Celery workers in the local setup).
SQLLAB_ASYNC_TIME_LIMIT_SEC = 60
SQLLAB_TIMEOUT = 60
# Row-level results come back exact: no sampling of the indicator tables.
ROW_LIMIT = 50000
# Chinese and English labels side by side; the UI language stays English by default.
BABEL_DEFAULT_LOCALE = os.environ.get("SUPERSET_LOCALE", "en")
