"""docker-compose.yml is valid against the Compose specification and wired correctly
(there is no Docker engine here, so the file is checked, not run)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[2]
COMPOSE = PROJECT / "docker-compose.yml"


def test_compose_file_validates_against_the_compose_spec() -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    proc = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compose_references_resolve() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    services = doc["services"]
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown service {dep}"
        for vol in svc.get("volumes", []):
            source = vol.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in doc.get("volumes", {}), f"{name} uses undeclared volume {source}"
        if "build" in svc:
            assert _dockerfile(svc).exists(), f"{name}: no {_dockerfile(svc)}"
    # ${NAME}, ${NAME:-default}; not $${NAME}, which compose passes on as a literal $
    env_names = set(re.findall(r"(?<!\$)\$\{(\w+)(?:[:?-][^}]*)?\}", COMPOSE.read_text()))
    example = (PROJECT / ".env.example").read_text()
    missing = [n for n in env_names if f"{n}=" not in example]
    assert not missing, f"variables used in compose but not documented in .env.example: {missing}"
    literal = re.findall(r"(?i)(?:password|secret\w*|key):\s*(?!\$\{)(\S+)", COMPOSE.read_text())
    assert not literal, f"secrets must come from .env, found literal values {literal}"


def _dockerfile(svc: dict) -> Path:
    build = svc["build"]
    if isinstance(build, str):
        return PROJECT / build / "Dockerfile"
    return PROJECT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")


def test_every_dockerfile_copies_files_that_exist() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    dockerfiles = {_dockerfile(svc) for svc in doc["services"].values() if "build" in svc}
    assert len(dockerfiles) >= 2, dockerfiles  # the project image and Superset's
    for dockerfile in dockerfiles:
        for n, line in enumerate(dockerfile.read_text().splitlines(), 1):
            if line.startswith("COPY ") and "--from" not in line:
                for source in line.split()[1:-1]:
                    assert (PROJECT / source).exists(), (
                        f"{dockerfile}:{n}: COPY source {source} missing"
                    )


def test_superset_is_wired_to_bi_reader() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    superset = doc["services"]["superset"]
    env = superset["environment"]
    reader = env["SQWH_BI_READER_URL"]
    assert reader.startswith(
        "postgresql+psycopg2://bi_reader:${SQWH_BI_READER_PASSWORD}@warehouse:5432/"
    ), reader
    # no other warehouse credential reaches the BI service
    assert "WAREHOUSE_URL" not in env and "env_file" not in superset
    assert "WAREHOUSE_DB_PASSWORD" not in yaml.safe_dump(superset)
    assert superset["depends_on"]["warehouse"]["condition"] == "service_healthy"
    # the init job creates the roles and sets bi_reader's password before Superset connects
    assert superset["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert "sqwh warehouse init" in str(doc["services"]["airflow-init"]["command"])
    assert "python -m sqwh.bi.cli set-reader-password" in str(
        doc["services"]["airflow-init"]["command"]
    )
    assert "/health" in str(superset["healthcheck"]["test"])
    volume = superset["volumes"][0].split(":")
    assert volume[0] in doc["volumes"] and env["SUPERSET_METADATA_URI"].startswith(
        f"sqlite:///{volume[1]}/"
    )
    assert superset["ports"] == ["127.0.0.1:8088:8088"]
    # the image's entry point and config are the ones `make bi` uses
    dockerfile = _dockerfile(superset).read_text()
    assert "bi/requirements.lock" in dockerfile and "sqwh.bi.container" in dockerfile
    config = (PROJECT / "bi" / "superset_config.py").read_text()
    for name in ("SUPERSET_SECRET_KEY", "SUPERSET_METADATA_URI"):
        assert f'os.environ["{name}"]' in config, (
            f"superset_config.py must read {name} from the env"
        )
