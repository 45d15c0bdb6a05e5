"""The message bus is a door too: per-service NATS users, permissions enforced by a real nats-server."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import ConsumerConfig
from pydantic import SecretStr

from tejido_common.broker import DEAD_LETTER_STREAM, ensure_stream, service_stream
from tejido_common.consumer import family_durable
from tejido_common.natsauth import SERVICES, inbox_prefix
from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, service_client, wait_until


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[NatsServer, dict[str, str]]]:
    passwords = {service: secrets.token_urlsafe(16) for service in SERVICES}
    server = NatsServer(tmp_path / "nats", users=passwords).start()
    try:
        yield server, passwords
    finally:
        server.stop()


async def connect(server: NatsServer, passwords: dict[str, str], service: str) -> Any:
    return await nats.connect(
        server.url,
        user=service,
        password=passwords[service],
        inbox_prefix=inbox_prefix(service),
        allow_reconnect=False,
        connect_timeout=3,
    )


async def pull(js: Any, stream: str, name: str, filter_subject: str) -> list[bytes]:
    config = ConsumerConfig(name=name, durable_name=name, filter_subject=filter_subject)
    sub = await js.pull_subscribe(filter_subject, durable=name, stream=stream, config=config)
    msgs = await sub.fetch(10, timeout=2)
    for msg in msgs:
        await msg.ack()
    return [m.subject for m in msgs]


def test_connections_without_credentials_or_with_a_wrong_password_are_refused(
    secured: tuple[NatsServer, dict[str, str]],
) -> None:
    server, _ = secured

    async def attempt(**credentials: str) -> None:
        nc = await nats.connect(server.url, allow_reconnect=False, connect_timeout=3, **credentials)
        await nc.close()

    for credentials in ({}, {"user": "registry", "password": "guess"}):
        with pytest.raises(Exception, match=r"(?i)authoriz"):
            asyncio.run(attempt(**credentials))


def test_each_service_publishes_and_reads_only_its_own_subjects(
    secured: tuple[NatsServer, dict[str, str]],
) -> None:
    server, passwords = secured

    async def scenario() -> None:
        registry = await connect(server, passwords, "registry")
        rjs = registry.jetstream(timeout=3)
        await ensure_stream(rjs, service_stream("registry"))
        await ensure_stream(rjs, DEAD_LETTER_STREAM)
        await rjs.publish("registry.organization.people_updated.v1", b'{"people": "restricted"}')
        await rjs.publish("registry.alliance.created.v1", b"{}")

        matching = await connect(server, passwords, "matching")
        mjs = matching.jetstream(timeout=3)
        # Forging another service's event (the reproduced attack: a rating that sets a band).
        with pytest.raises(Exception):  # noqa: B017 - no responder or a timeout, depending on timing
            await mjs.publish("duediligence.rating.published.v1", b'{"band": "low"}', timeout=2)
        # Reading the restricted subject, directly or through a wider filter, or tapping the core subject.
        for restricted in (
            "registry.organization.people_updated.v1",
            "registry.>",
            "registry.organization.>",
        ):
            with pytest.raises(Exception):  # noqa: B017
                await pull(mjs, "REGISTRY", "matching-people", restricted)
        # Its own public filters work, and carry nothing restricted.
        assert await pull(mjs, "REGISTRY", "matching-alliances", "registry.alliance.created.*") == [
            "registry.alliance.created.v1"
        ]
        # Due diligence, the restricted reader, gets the key people.
        dd = await connect(server, passwords, "duediligence")
        ddjs = dd.jetstream(timeout=3)
        await ensure_stream(ddjs, service_stream("duediligence"))
        people_family = "registry.organization.people_updated.*"
        people_durable = family_durable("duediligence", people_family)
        assert "registry.organization.people_updated.v1" in await pull(
            ddjs, "REGISTRY", people_durable, people_family
        )
        # Under another name, or with a wider filter, not even due diligence may read it.
        with pytest.raises(Exception):  # noqa: B017
            await pull(ddjs, "REGISTRY", "duediligence-other", people_family)
        # …and nobody else may pull from its consumer.
        await rjs.publish("registry.organization.people_updated.v1", b'{"people": "more"}')
        stolen: list[Any] = []
        with contextlib.suppress(Exception):
            sub = await mjs.pull_subscribe_bind(people_durable, stream="REGISTRY")
            stolen = await sub.fetch(1, timeout=2)
        assert stolen == []
        # Nor update a stream it does not own (its retention, its subjects).
        with pytest.raises(Exception):  # noqa: B017
            await mjs.update_stream(service_stream("registry").config())
        info = await ddjs.stream_info("DUEDILIGENCE")
        assert info.state.messages == 0  # the forged rating never landed
        for nc in (registry, matching, dd):
            await nc.close()

    asyncio.run(scenario())


def test_a_service_runs_with_its_own_nats_user(
    secured: tuple[NatsServer, dict[str, str]], data_dir: Path, db_target: DatabaseTarget
) -> None:
    """The registry's real runtime (streams, outbox relay, its due-diligence consumer) under its user."""
    from tejido_registry.testing import org_body, registry_settings, running_registry

    server, passwords = secured
    settings = registry_settings(
        data_dir, server.url, db_target, nats_user="registry", nats_password=SecretStr(passwords["registry"])
    )
    with running_registry(settings) as registry:
        created = registry.client.post("/v1/organizations", json=org_body()).json()
        wait_until(lambda: _pending(registry) == 0, message="outbox published under the registry's user")
        assert registry.app.state.runtime.broker.connected
        with service_client(registry.url, settings) as client:
            assert client.get(f"/v1/organizations/{created['id']}").status_code == 200


def _pending(registry: Any) -> int:
    from sqlalchemy import text

    with registry.db.read_session() as session:
        return int(
            session.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar_one()
        )
