# The project image: Airflow 3 + dbt + Great Expectations + sqwh, from the locked dependencies.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH \
    SQWH_PROJECT_DIR=/opt/sqwh SQWH_HOME=/var/lib/sqwh
RUN pip install --no-cache-dir uv==0.13.9 && useradd --create-home --uid 50000 airflow
WORKDIR /opt/sqwh
COPY pyproject.toml uv.lock README.md ./
COPY plugins ./plugins
# bytecode compiled once here: with PYTHONDONTWRITEBYTECODE every task process would otherwise
# compile Airflow, dbt and Great Expectations from source again (~7 s for GX alone)
RUN uv sync --locked --no-dev --no-editable --compile-bytecode && rm -rf /root/.cache
COPY dags ./dags
COPY dbt ./dbt
COPY expectations ./expectations
# cosmos renders the per-model DAG from a pre-built manifest; parsing needs no database
RUN DBT_PG_HOST=localhost python -c "from sqwh.dbt_tasks import ensure_manifest; ensure_manifest()"
RUN mkdir -p /var/lib/sqwh && chown -R airflow /var/lib/sqwh
USER airflow
