"""Launcher pieces against real sockets, real HTTP and real SQLite files (the whole `up` is in tests/)."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from rich.console import Console
from typer.testing import CliRunner

from tejido_cli.config import GATEWAY, SERVICES, LauncherConfig
from tejido_cli.launcher import (
    Child,
    Launcher,
    LaunchError,
    check_ports,
    demo_organizations,
    load_demo,
    log_tail,
    migrate_all,
    port_in_use,
    status,
)
from tejido_cli.main import app
from tejido_common.natsserver import free_port
from tejido_common.testing import ServerThread


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("TEJIDO_"):
            monkeypatch.delenv(key)


def quiet() -> Console:
    return Console(file=io.StringIO(), soft_wrap=True)


def text_of(console: Console) -> str:
    return " ".join(console.file.getvalue().split())  # type: ignore[attr-defined]


def test_busy_and_duplicate_ports_are_named() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        busy = blocker.getsockname()[1]
        assert port_in_use(busy)
        cfg = LauncherConfig(gateway_port=free_port(), matching_port=busy, nats_port=busy)
        problems = check_ports(cfg)
    assert any(f"port {busy}" in p and "matching" in p and "TEJIDO_MATCHING_PORT" in p for p in problems)
    assert any("both matching and nats-server" in p and "TEJIDO_NATS_PORT" in p for p in problems)


def test_up_refuses_a_busy_port_before_creating_anything(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        err = quiet()
        code = Launcher(LauncherConfig(data_dir=data_dir, registry_port=port), quiet(), err).run()
    assert code == 1
    message = text_of(err)
    assert f"port {port}" in message and "registry" in message and "TEJIDO_REGISTRY_PORT" in message
    assert not data_dir.exists()


def test_demo_file_holds_one_organization_request_per_line() -> None:
    lines = demo_organizations()
    assert len(lines) >= 20
    identifiers = set()
    for line in lines:
        body = json.loads(line)
        assert body["identity"]["legal_name"]
        (identifier,) = body["identity"]["identifiers"]
        identifiers.add((identifier["scheme"], identifier["id"]))
    assert len(identifiers) == len(lines)  # what makes re-loading idempotent (409 on a second POST)


def test_load_demo_reports_the_import_counts_and_each_bad_line() -> None:
    fake = FastAPI()
    received: list[bytes] = []

    @fake.post("/v1/organizations:import")
    async def import_(request: Request) -> JSONResponse:
        received.append(await request.body())
        assert request.headers["content-type"] == "application/x-ndjson"
        return JSONResponse(
            {"created": 2, "updated": 0, "unchanged": 1, "failed": 1,
             "errors": [{"row": 4, "field": "identity.actor_type", "reason": "unknown actor type"}]}
        )  # fmt: skip

    lines = [json.dumps({"identity": {"legal_name": n}}) for n in ("A", "B", "C", "Broken")]
    with ServerThread(fake) as server:
        result = load_demo(server.url, lines)
    assert received[0].decode().splitlines() == lines
    assert (result.created, result.present) == (2, 1)
    assert result.failures == ["line 4: identity.actor_type: unknown actor type"]


def test_migrate_creates_every_service_database_and_is_repeatable(tmp_path: Path) -> None:
    cfg = LauncherConfig(data_dir=tmp_path)
    for _ in range(2):
        migrate_all(cfg, quiet())
    for service in SERVICES:
        assert (tmp_path / f"{service.name}.db").exists()


def test_migrate_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["migrate"], env={"TEJIDO_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "migrated registry" in result.output
    assert (tmp_path / "registry.db").exists()


def test_migrate_failure_names_the_service_without_the_password(tmp_path: Path) -> None:
    cfg = LauncherConfig(data_dir=tmp_path, database_url=f"postgresql://u:hunter2@127.0.0.1:{free_port()}/x")
    with pytest.raises(LaunchError) as raised:
        migrate_all(cfg, quiet())
    assert "registry" in str(raised.value) and "hunter2" not in str(raised.value)


def test_invalid_configuration_names_the_variable() -> None:
    result = CliRunner().invoke(app, ["status"], env={"TEJIDO_GATEWAY_PORT": "eighty"})
    assert result.exit_code == 2
    assert "TEJIDO_GATEWAY_PORT" in result.output


def test_status_reports_unreachable_components() -> None:
    console = quiet()
    assert status(LauncherConfig(gateway_port=free_port()), console) is False
    output = text_of(console)
    for component in (GATEWAY, *SERVICES):
        assert component.name in output
    assert "unreachable" in output


def test_a_component_dying_at_start_up_shows_its_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "registry.log"
    log.write_text("an older run\n")
    offset = log.stat().st_size
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "print('boom: cannot import'); raise SystemExit(3)"], stdout=out
        )
    process.wait()
    launcher = Launcher(LauncherConfig(data_dir=tmp_path, startup_timeout=5), quiet(), quiet())
    launcher.children = [Child(SERVICES[0], "http://127.0.0.1:9", log, offset, process)]
    with pytest.raises(LaunchError) as raised:
        launcher._wait_ready()
    assert "registry exited with code 3" in str(raised.value)
    assert str(log) in str(raised.value)
    assert raised.value.log_tail == "boom: cannot import"
    assert "older run" not in log_tail(log, offset)
