"""Static checks of the container deployment (docker-compose.yml, deploy/Dockerfile) and the demo data.

No Docker is needed: the compose file is parsed with PyYAML and checked against the code it runs.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DEMO = ROOT / "libs" / "cli" / "src" / "tejido_cli" / "demo" / "organizations.jsonl"
DEMO_SCHEME = "XX-TEJIDODEMO"

APP_PORTS = {"gateway": 8000, "registry": 8001, "matching": 8002, "duediligence": 8003, "reporting": 8004}
UPSTREAMS = ("registry", "matching", "duediligence", "reporting")
INFRA = ("nats", "postgres")
NATS_NODES = ("nats", "nats-2", "nats-3")
NATS_URL = "nats://nats:4222,nats://nats-2:4222,nats://nats-3:4222"
PROVISIONER = "provision-streams"  # one-shot: the operator creates and reconciles every stream
PRODUCERS = ("registry", "matching", "duediligence", "reporting")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _with_defaults(value: str) -> str:
    """Apply compose's ``${VAR:-default}`` substitution with the defaults (no variables set)."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)


def _words(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else str(value).split()


def _depends(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on") or {}
    assert isinstance(deps, dict), "depends_on must use the long form with conditions"
    return deps


def test_every_service_is_defined(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == set(INFRA) | set(NATS_NODES) | set(APP_PORTS) | {"matching-worker", PROVISIONER}


def test_nats_runs_jetstream_with_a_volume_and_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    nats = services["nats"]
    assert nats["image"].startswith("nats:")
    command = _words(nats["command"])
    assert "-js" in command
    assert command[command.index("-sd") + 1] == "/data"
    assert any(str(v).endswith(":/data") for v in nats["volumes"])
    probe = " ".join(_words(nats["healthcheck"]["test"]))
    assert ":8222/healthz" in probe


def test_nats_is_a_three_node_cluster_with_r3_streams(compose: dict[str, Any]) -> None:
    services = compose["services"]
    names, volumes = set(), set()
    for node in NATS_NODES:
        command = _words(services[node]["command"])
        assert "-js" in command
        names.add(command[command.index("--server_name") + 1])
        assert command[command.index("--cluster_name") + 1] == "tejido"
        assert command[command.index("--cluster") + 1] == "nats://0.0.0.0:6222"
        routes = command[command.index("--routes") + 1].split(",")
        assert sorted(routes) == sorted(f"nats://{n}:6222" for n in NATS_NODES)
        volumes |= {str(v).split(":")[0] for v in services[node]["volumes"] if not str(v).startswith("./")}
        assert ":8222/healthz" in " ".join(_words(services[node]["healthcheck"]["test"]))
    assert len(names) == 3, "every node needs its own server name"
    assert len(volumes) == 3 and volumes <= set(compose["volumes"]), "every node needs its own store"
    for name in UPSTREAMS:
        env = _env(services[name])
        assert env[f"TEJIDO_{name.upper()}_STREAM_REPLICAS"] == "3"
        assert env[f"TEJIDO_{name.upper()}_NATS_URL"] == NATS_URL


def test_postgres_has_pg_isready_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    pg = services["postgres"]
    assert pg["image"] == "postgres:16"
    assert "pg_isready" in " ".join(_words(pg["healthcheck"]["test"]))
    env = _env(pg)
    assert env["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-tejido}", "use a substituted placeholder"


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_app_service_image_command_and_env(services: dict[str, dict[str, Any]], name: str) -> None:
    svc, port = services[name], APP_PORTS[name]
    assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
    assert svc["build"].get("context", ".") == "."
    command = _words(svc["command"])
    assert command[0] == "uvicorn"
    assert "--factory" in command
    assert f"tejido_{name}.app:app_from_env" in command
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == str(port)

    env = _env(svc)
    prefix = f"TEJIDO_{name.upper()}_"
    assert _with_defaults(env[prefix + "DATABASE_URL"]) == "postgresql://tejido:tejido@postgres:5432/tejido"
    assert env[prefix + "NATS_URL"] == NATS_URL
    assert env[prefix + "PORT"] == str(port)
    assert "container_name" not in svc


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_app_service_healthcheck_and_dependencies(services: dict[str, dict[str, Any]], name: str) -> None:
    svc, port = services[name], APP_PORTS[name]
    probe = " ".join(_words(svc["healthcheck"]["test"]))
    assert "python" in probe
    assert f"http://127.0.0.1:{port}/readyz" in probe
    deps = _depends(svc)
    for infra in INFRA:
        assert deps[infra]["condition"] == "service_healthy", f"{name} must wait for a healthy {infra}"
    for dep, spec in deps.items():
        assert dep in services
        expected = "service_completed_successfully" if dep == PROVISIONER else "service_healthy"
        assert spec["condition"] == expected, (name, dep)


@pytest.mark.parametrize("name", [*sorted(APP_PORTS), "matching-worker"])
def test_services_start_after_the_streams_are_provisioned_and_never_provision(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    """No service user may create or change a stream: the one-shot provisioner does, first."""
    assert _depends(services[name])[PROVISIONER]["condition"] == "service_completed_successfully"
    prefix = "TEJIDO_MATCHING_" if name == "matching-worker" else f"TEJIDO_{name.upper()}_"
    assert _env(services[name])[prefix + "PROVISION_STREAMS"] == "false"


def test_the_provisioner_runs_once_as_the_operator_with_each_producers_stream_settings(
    services: dict[str, dict[str, Any]],
) -> None:
    job = services[PROVISIONER]
    assert _words(job["command"]) == ["tejido", "streams", "provision"]
    assert job["build"]["dockerfile"] == "deploy/Dockerfile"
    assert str(job["restart"]) == "no", "a one-shot job must not be restarted after it completed"
    env = _env(job)
    assert env["TEJIDO_NATS_URL"] == NATS_URL
    assert env["TEJIDO_NATS_USER"] == "operator"
    assert env["TEJIDO_NATS_PASSWORD"].startswith("${TEJIDO_OPERATOR_NATS_PASSWORD:?")
    assert _env(services["nats"])["OPERATOR_NATS_PASSWORD"] == env["TEJIDO_NATS_PASSWORD"]
    for node in NATS_NODES:
        assert _depends(job)[node]["condition"] == "service_healthy"
    for producer in PRODUCERS:
        # The streams get exactly the settings each producer has (its drift warning stays quiet).
        prefix = f"TEJIDO_{producer.upper()}_STREAM_"
        own = {k: v for k, v in _env(services[producer]).items() if k.startswith(prefix)}
        assert own, producer
        assert {k: v for k, v in env.items() if k.startswith(prefix)} == own, producer


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_command_factory_exists(services: dict[str, dict[str, Any]], name: str) -> None:
    target = next(w for w in _words(services[name]["command"]) if w.endswith(":app_from_env"))
    module_name, attr = target.split(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attr))


def test_gateway_upstreams_point_at_the_services(services: dict[str, dict[str, Any]]) -> None:
    env = _env(services["gateway"])
    for upstream in UPSTREAMS:
        url = urlparse(env[f"TEJIDO_GATEWAY_{upstream.upper()}_URL"])
        assert url.scheme == "http"
        assert url.hostname == upstream
        assert url.port == APP_PORTS[upstream]
        assert _env(services[upstream])[f"TEJIDO_{upstream.upper()}_PORT"] == str(url.port)
        assert _depends(services["gateway"])[upstream]["condition"] == "service_healthy"


def test_only_the_gateway_publishes_ports(services: dict[str, dict[str, Any]]) -> None:
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"gateway"}
    ports = [_with_defaults(str(p)) for p in services["gateway"]["ports"]]
    assert ports == ["8000:8000"]


def test_matching_can_be_scaled(services: dict[str, dict[str, Any]]) -> None:
    matching = services["matching"]
    assert "replicas" in matching["deploy"]
    assert int(_with_defaults(str(matching["deploy"]["replicas"]))) >= 1
    assert "container_name" not in matching
    assert not matching.get("ports")


def test_matching_workers_are_a_separate_scalable_service(services: dict[str, dict[str, Any]]) -> None:
    worker = services["matching-worker"]
    assert _words(worker["command"])[-2:] == ["-m", "tejido_matching.workers"]
    importlib.import_module("tejido_matching.workers.__main__")
    assert int(_with_defaults(str(worker["deploy"]["replicas"]))) >= 1
    assert not worker.get("ports") and "container_name" not in worker
    env, api_env = _env(worker), _env(services["matching"])
    assert env["TEJIDO_MATCHING_DATABASE_URL"] == api_env["TEJIDO_MATCHING_DATABASE_URL"]
    assert env["TEJIDO_MATCHING_NATS_URL"] == api_env["TEJIDO_MATCHING_NATS_URL"]
    assert api_env["TEJIDO_MATCHING_EMBEDDED_WORKER"] == "false"


def test_dockerfile_builds_the_locked_workspace() -> None:
    text = DOCKERFILE.read_text("utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert "uv==0.13.8" in text
    assert "uv sync --frozen --all-packages --no-dev" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users, "the image must switch to a non-root user"
    assert users[-1] not in ("root", "0")
    assert ".venv/bin" in text


def test_dockerignore_keeps_local_state_out() -> None:
    entries = {line.strip() for line in DOCKERIGNORE.read_text("utf-8").splitlines()}
    for entry in (".venv", ".tejido", ".tejido-tools", ".git"):
        assert entry in entries


def _demo_lines() -> list[str]:
    return [line for line in DEMO.read_text("utf-8").splitlines() if line.strip()]


def test_demo_organizations_parse_with_unique_demo_identifiers() -> None:
    lines = _demo_lines()
    assert 15 <= len(lines) <= 25
    slugs = []
    for number, line in enumerate(lines, 1):
        body = json.loads(line)
        assert isinstance(body, dict), f"line {number}"
        identifiers = body["identity"]["identifiers"]
        assert len(identifiers) == 1, f"line {number}"
        assert identifiers[0]["scheme"] == DEMO_SCHEME, f"line {number}"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", identifiers[0]["id"]), f"line {number}"
        slugs.append(identifiers[0]["id"])
    assert len(set(slugs)) == len(slugs), "demo identifiers must be unique"


def test_demo_organizations_are_valid_create_requests() -> None:
    from tejido_registry.organizations.schemas import OrganizationCreate

    for number, line in enumerate(_demo_lines(), 1):
        body = OrganizationCreate.model_validate_json(line)
        assert body.status == "active", f"line {number}"
