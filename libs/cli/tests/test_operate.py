"""`tejido outbox list|retry`, `tejido deadletter list|replay|purge` and degraded `tejido status`, on real
SQLite files, a real nats-server and real HTTP."""

from __future__ import annotations

import asyncio
import io
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import pytest
from fastapi import FastAPI
from rich.console import Console
from sqlalchemy import insert, select
from typer.testing import CliRunner

from tejido_cli.config import LauncherConfig
from tejido_cli.launcher import migrate_all, status
from tejido_cli.main import app
from tejido_common.broker import DEAD_LETTER_STREAM, ensure_stream
from tejido_common.db import Database
from tejido_common.natsserver import NatsServer, free_port
from tejido_common.outbox import OutboxRow
from tejido_common.testing import ServerThread

EVENT_ID = "00000000-0000-4000-8000-0000000000aa"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("TEJIDO_"):
            monkeypatch.delenv(key)


def test_outbox_list_shows_parked_rows_and_retry_requeues_them(tmp_path: Path) -> None:
    migrate_all(LauncherConfig(data_dir=tmp_path), Console(file=io.StringIO()))
    db = Database(f"sqlite:///{tmp_path / 'registry.db'}")
    with db.session() as s:
        s.execute(
            insert(OutboxRow.__table__).values(  # type: ignore[attr-defined]
                id=EVENT_ID,
                subject="registry.organization.updated.v1",
                aggregate_id="org-1",
                payload="{}",
                created_at=datetime.now(UTC),
                attempts=5,
                last_error="nats: maximum payload exceeded",
            )
        )
    env = {"TEJIDO_DATA_DIR": str(tmp_path)}
    listed = CliRunner().invoke(app, ["outbox", "list", "--service", "registry"], env=env)
    assert listed.exit_code == 0, listed.output
    assert EVENT_ID in listed.output and "maximum payload exceeded" in listed.output
    assert "registry: 0 pending, 1 parked" in listed.output

    retried = CliRunner().invoke(app, ["outbox", "retry", EVENT_ID, "--service", "registry"], env=env)
    assert retried.exit_code == 0, retried.output
    assert "registry: 1 row(s) re-queued" in retried.output
    with db.read_session() as s:
        assert s.scalars(select(OutboxRow.attempts)).one() == 0
    db.dispose()


def test_deadletter_commands(nats_server: NatsServer) -> None:
    async def seed() -> None:
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        await ensure_stream(js, DEAD_LETTER_STREAM)
        await js.publish(
            "deadletter.matching.registry.organization.updated.v2",
            b'{"not": "an envelope"}',
            headers={
                "Tejido-Reason": "unknown-version",
                "Tejido-Error": "no handler",
                "Tejido-Deliveries": "1",
            },
        )
        await nc.close()

    asyncio.run(seed())
    env = {"TEJIDO_NATS_URL": nats_server.url}
    listed = CliRunner().invoke(app, ["deadletter", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "matching" in listed.output and "unknown-version" in listed.output
    assert "1 dead letter(s)" in listed.output
    refused = CliRunner().invoke(app, ["deadletter", "purge", "--consumer", "matching"], env=env)
    assert refused.exit_code == 2 and "--yes" in refused.output
    purged = CliRunner().invoke(app, ["deadletter", "purge", "--consumer", "matching", "--yes"], env=env)
    assert "1 dead letter(s) purged" in purged.output
    assert "0 dead letter(s)" in CliRunner().invoke(app, ["deadletter", "list"], env=env).output


def test_status_prints_a_degraded_service() -> None:
    fake = FastAPI()

    @fake.get("/readyz")
    def readyz() -> dict[str, object]:
        return {"status": "degraded", "degraded": {"outbox_parked": "1 parked row(s), 2 held behind them"}}

    with ServerThread(fake) as server:
        console = Console(file=io.StringIO(), soft_wrap=True, width=300)
        status(LauncherConfig(gateway_port=free_port(), registry_port=server.port), console)
    output = " ".join(console.file.getvalue().split())  # type: ignore[attr-defined]
    assert "degraded: outbox_parked: 1 parked row(s), 2 held behind them" in output


def test_streams_provision_creates_and_reconciles_every_stream_as_the_operator(tmp_path: Path) -> None:
    """`tejido streams provision`: each producing service's stream with its settings, plus the dead
    letters, created and (run again with other settings) reconciled; as the operator, the only user
    that may; a service's credentials are refused."""
    from tejido_common.natsauth import OPERATOR, SERVICES

    passwords = {s: f"pw-{s}-0123456789" for s in (*SERVICES, OPERATOR)}
    server = NatsServer(tmp_path / "nats", users=passwords).start()
    try:
        env = {
            "TEJIDO_DATA_DIR": str(tmp_path),
            "TEJIDO_NATS_URL": server.url,
            "TEJIDO_NATS_USER": OPERATOR,
            "TEJIDO_NATS_PASSWORD": passwords[OPERATOR],
            "TEJIDO_REGISTRY_STREAM_DUPLICATE_WINDOW_SECONDS": "600",
        }
        first = CliRunner().invoke(app, ["streams", "provision"], env=env)
        assert first.exit_code == 0, first.output
        for stream in ("REGISTRY", "MATCHING", "DUEDILIGENCE", "REPORTING", "DEADLETTER"):
            assert f"{stream}: created" in first.output
        assert "GATEWAY" not in first.output

        env["TEJIDO_REGISTRY_STREAM_DUPLICATE_WINDOW_SECONDS"] = "1200"
        env["TEJIDO_REPORTING_STREAM_MAX_AGE_SECONDS"] = "86400"
        again = CliRunner().invoke(app, ["streams", "provision"], env=env)
        assert again.exit_code == 0, again.output
        assert "REGISTRY: updated (duplicate_window)" in again.output
        assert "REPORTING: updated (max_age)" in again.output
        assert "MATCHING: unchanged" in again.output

        async def configs() -> dict[str, tuple[float, float]]:
            nc = await nats.connect(server.url, user=OPERATOR, password=passwords[OPERATOR])
            found = {
                info.config.name or "": (info.config.duplicate_window or 0, info.config.max_age or 0)
                async for info in _streams(nc.jetstream())
            }
            await nc.close()
            return found

        found = asyncio.run(configs())
        assert found["REGISTRY"] == (1200, 0) and found["REPORTING"] == (86400, 86400)

        env.update(TEJIDO_NATS_USER="registry", TEJIDO_NATS_PASSWORD=passwords["registry"])
        refused = CliRunner().invoke(app, ["streams", "provision"], env=env)
        assert refused.exit_code == 1
        assert "streams not provisioned" in refused.output
        assert "'registry' may not manage streams" in refused.output
    finally:
        server.stop()


async def _streams(js: Any) -> Any:
    for info in await js.streams_info():
        yield info
