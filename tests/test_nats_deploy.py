"""The deployed NATS configuration is the generated one, and compose wires every service to its user."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tejido_common.natsauth import OPERATOR, SERVICES, permissions

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "nats"))
from generate import render  # noqa: E402


def test_deployed_config_is_generated_from_the_permission_table() -> None:
    assert (ROOT / "deploy" / "nats" / "nats-server.conf").read_text() == render(), (
        "run .venv/bin/python deploy/nats/generate.py"
    )


def test_nats_server_accepts_the_deployed_config() -> None:
    from tejido_common.natsserver import nats_server_binary

    users = (*SERVICES, OPERATOR)
    env = {**os.environ, **{f"{s.upper()}_NATS_PASSWORD": "x" * 24 for s in users}}
    check = subprocess.run(
        [nats_server_binary(), "-c", str(ROOT / "deploy" / "nats" / "nats-server.conf"), "-t"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_compose_gives_each_service_its_nats_user_and_the_internal_secret_from_env() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    nats = services["nats"]
    assert "/etc/nats/nats-server.conf" in nats["command"]
    assert any(str(v).startswith("./deploy/nats/nats-server.conf:") for v in nats["volumes"])
    for service in SERVICES:
        env = services[service]["environment"]
        prefix = f"TEJIDO_{service.upper()}_"
        assert env[prefix + "NATS_USER"] == service
        # Secrets come from the environment, with no default: compose refuses to start without them.
        assert env[prefix + "NATS_PASSWORD"].startswith(f"${{TEJIDO_{service.upper()}_NATS_PASSWORD:?")
        assert env[prefix + "INTERNAL_SECRET"].startswith("${TEJIDO_INTERNAL_SECRET:?")
        assert nats["environment"][f"{service.upper()}_NATS_PASSWORD"] == env[prefix + "NATS_PASSWORD"]


def test_no_service_user_may_create_or_change_a_stream() -> None:
    """NATS does not check a stream's sources/republish against permissions: stream management is the
    operator's alone (the real-server test is in libs/common/tests/test_nats_permissions.py)."""
    for service in SERVICES:
        block = permissions(service)["publish"]
        for subject in (*block["allow"], *permissions(service)["subscribe"]["allow"]):
            assert not subject.startswith(("$JS.API.STREAM.", "$JS.API.>", "$JS.>", ">")) or (
                subject.startswith("$JS.API.STREAM.INFO.") and "*" not in subject and ">" not in subject
            ), (service, subject)
    assert "$JS.API.STREAM.INFO.REGISTRY" in permissions("matching")["publish"]["allow"]
    assert permissions(OPERATOR)["publish"]["allow"] == [">"]


def _contracts() -> list[Any]:
    """Every service's event contracts: each ``events.py`` module's ``CONTRACTS`` under services/."""
    found = []
    for path in sorted((ROOT / "services").glob("*/src/tejido_*/**/events.py")):
        src = next(parent for parent in path.parents if parent.name == "src")
        module = importlib.import_module(".".join(path.relative_to(src).with_suffix("").parts))
        found += getattr(module, "CONTRACTS", [])
    return found


def test_every_restricted_contract_is_in_the_permission_table() -> None:
    """One source of truth: a contract marked ``restricted`` is readable by due diligence alone."""
    from tejido_common.natsauth import CONSUMES, RESTRICTED_READER, RESTRICTED_SUBJECTS, _reads_restricted

    contracts = _contracts()
    assert len(contracts) >= 10
    restricted = {c.type for c in contracts if c.restricted}
    assert {"registry.organization.people_updated.v1", "duediligence.screening.hit.v1"} <= restricted
    assert restricted == set(RESTRICTED_SUBJECTS)
    for service, streams in CONSUMES.items():
        for filters in streams.values():
            for f in filters:
                assert service == RESTRICTED_READER or not _reads_restricted(f), (service, f)
