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
            assert (PROJECT / "Dockerfile").exists()
    # ${NAME}, ${NAME:-default}; not $${NAME}, which compose passes on as a literal $
    env_names = set(re.findall(r"(?<!\$)\$\{(\w+)(?:[:?-][^}]*)?\}", COMPOSE.read_text()))
    example = (PROJECT / ".env.example").read_text()
    missing = [n for n in env_names if f"{n}=" not in example]
    assert not missing, f"variables used in compose but not documented in .env.example: {missing}"
    literal = re.findall(r"(?i)(?:password|secret\w*|key):\s*(?!\$\{)(\S+)", COMPOSE.read_text())
    assert not literal, f"secrets must come from .env, found literal values {literal}"
