"""The message bus is a door too: per-service NATS users, permissions enforced by a real nats-server."""

from __future__ import annotations

import asyncio
import contextlib
import json
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
from tejido_common.natsauth import NON_PRODUCERS, OPERATOR, SERVICES, inbox_prefix
from tejido_common.natsserver import NatsServer
from tejido_common.settings import ServiceSettings
from tejido_common.streams import platform_streams, provision_streams
from tejido_common.testing import (
    DatabaseTarget,
    EventCollector,
    RunningService,
    ServerThread,
    service_client,
    wait_until,
)

# Every platform stream with default settings (the operator's `tejido streams provision`).
PLATFORM_STREAMS = platform_streams(
    ServiceSettings(service_name=s) for s in SERVICES if s not in NON_PRODUCERS
)


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[NatsServer, dict[str, str]]]:
    passwords = {service: secrets.token_urlsafe(16) for service in (*SERVICES, OPERATOR)}
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
        # Streams are the operator's to create (see the stream tests below).
        await provision_streams(server.url, PLATFORM_STREAMS, user=OPERATOR, password=passwords[OPERATOR])
        registry = await connect(server, passwords, "registry")
        rjs = registry.jetstream(timeout=3)
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
        # Every service may look up the streams it uses.
        assert (await rjs.stream_info("REGISTRY")).config.name == "REGISTRY"
        for nc in (registry, matching, dd):
            await nc.close()

    asyncio.run(scenario())


def test_a_service_under_a_provisioner_waits_for_its_streams_then_runs_with_its_own_user(
    secured: tuple[NatsServer, dict[str, str]], data_dir: Path, db_target: DatabaseTarget
) -> None:
    """The registry's real runtime (outbox relay, its due-diligence consumer) under its user, with
    provisioning off (as `tejido up` and compose run it): it creates no stream, says in /readyz which
    ones it waits for, and runs once the operator has provisioned them; its events flow."""
    from tejido_registry.app import create_app
    from tejido_registry.testing import org_body, registry_settings

    server, passwords = secured
    settings = registry_settings(
        data_dir,
        server.url,
        db_target,
        nats_user="registry",
        nats_password=SecretStr(passwords["registry"]),
        provision_streams=False,
    )
    app = create_app(settings)
    with ServerThread(app) as server_thread, service_client(server_thread.url, settings) as client:
        registry = RunningService(server_thread.url, app, settings, client)
        created = registry.client.post("/v1/organizations", json=org_body()).json()

        def waiting() -> str:
            answer = registry.client.get("/readyz")
            return str(answer.json().get("detail", "")) if answer.status_code == 503 else ""

        detail = wait_until(waiting, message="/readyz names the streams it waits for")
        assert "REGISTRY" in detail and "DUEDILIGENCE" in detail and "DEADLETTER" in detail
        assert "tejido streams provision" in detail
        assert _pending(registry) == 1  # kept in the outbox meanwhile

        async def streams() -> list[str]:
            nc = await connect(server, passwords, OPERATOR)
            names = await nc.jetstream(timeout=3).streams_info()
            await nc.close()
            return sorted(info.config.name for info in names)

        assert asyncio.run(streams()) == []  # the service created none
        collector = EventCollector(
            server.url, "registry.organization.>", {"user": OPERATOR, "password": passwords[OPERATOR]}
        )
        asyncio.run(
            provision_streams(server.url, PLATFORM_STREAMS, user=OPERATOR, password=passwords[OPERATOR])
        )
        collector.start()
        try:
            wait_until(lambda: _pending(registry) == 0, message="outbox published under the registry's user")
            assert registry.app.state.runtime.broker.connected
            wait_until(lambda: registry.client.get("/readyz").status_code == 200, message="ready")
            assert [created["id"] in e.subject for e in collector.wait_for(1)] == [True]
        finally:
            collector.stop()
        assert client.get(f"/v1/organizations/{created['id']}").status_code == 200


def _pending(registry: Any) -> int:
    from sqlalchemy import text

    with registry.db.read_session() as session:
        return int(
            session.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar_one()
        )


# -- restricted events: due diligence alone reads them, by any path --------------------------------

SECRET = b"SECRET-RESTRICTED"


def _widenings(subject: str) -> list[str]:
    """Every filter that would carry ``subject``: itself, its family, and each wildcard above it."""
    tokens = subject.split(".")
    wider = [subject, ".".join([*tokens[:-1], "*"]), ">"]
    wider += [".".join([*tokens[:i], ">"]) for i in range(1, len(tokens))]
    wider += [".".join([*tokens[:i], "*", *tokens[i + 1 :]]) for i in range(len(tokens) - 1)]
    return wider


async def _try_to_read(js: Any, nc: Any, stream: str, subject: str, reader_durable: str) -> list[bytes]:
    """Every JetStream path to a stored message, for one restricted subject. Refusals (timeouts,
    permission errors, API errors) are expected and ignored: only what actually arrives counts."""
    got: list[bytes] = []

    async def fetched(sub: Any) -> None:
        for msg in await sub.fetch(10, timeout=1):
            got.append(msg.data)

    async def named(filter_subject: str, durable: bool) -> None:
        name = "probe" + secrets.token_hex(4)
        config = ConsumerConfig(
            name=name,
            durable_name=name if durable else None,
            filter_subject=filter_subject,
            inactive_threshold=30,
        )
        await js.add_consumer(stream, config=config)
        await fetched(await js.pull_subscribe_bind(name, stream=stream))

    async def ephemeral(filter_subject: str) -> None:
        # No name: nats-py sends $JS.API.CONSUMER.CREATE.<stream>, the filter only in the body.
        info = await js.add_consumer(stream, config=ConsumerConfig(filter_subject=filter_subject))
        await fetched(await js.pull_subscribe_bind(info.name, stream=stream))

    async def several_filters(public: str) -> None:
        name = "probe" + secrets.token_hex(4)
        config = ConsumerConfig(name=name, filter_subjects=[public, subject], inactive_threshold=30)
        await js.add_consumer(stream, config=config)
        await fetched(await js.pull_subscribe_bind(name, stream=stream))

    async def disguised(public: str) -> None:
        # A public filter in the request subject, the restricted one in the body.
        name = "probe" + secrets.token_hex(4)
        body = {
            "stream_name": stream,
            "config": {"name": name, "filter_subject": subject, "ack_policy": "none"},
        }
        await nc.request(
            f"$JS.API.CONSUMER.CREATE.{stream}.{name}.{public}", json.dumps(body).encode(), timeout=1
        )
        await fetched(await js.pull_subscribe_bind(name, stream=stream))

    async def ordered(filter_subject: str) -> None:
        async def collect(msg: Any) -> None:
            got.append(msg.data)

        await js.subscribe(filter_subject, stream=stream, ordered_consumer=True, cb=collect)
        await asyncio.sleep(1)

    async def stored(seq: int) -> None:
        got.append((await js.get_msg(stream, seq=seq)).data or b"")

    async def direct() -> None:
        got.append((await js.get_msg(stream, subject=subject, direct=True)).data or b"")

    async def last() -> None:
        got.append((await js.get_last_msg(stream, subject)).data or b"")

    async def the_readers_consumer() -> None:
        await fetched(await js.pull_subscribe_bind(reader_durable, stream=stream))

    public = f"{stream.lower()}.never.public.*"
    attempts = [named(f, durable) for f in _widenings(subject) for durable in (True, False)]
    attempts += [ephemeral(f) for f in _widenings(subject)]
    attempts += [ordered(f) for f in _widenings(subject)]
    attempts += [several_filters(public), disguised(public), direct(), last(), the_readers_consumer()]
    attempts += [stored(seq) for seq in range(1, 4)]
    for outcome in await asyncio.gather(*attempts, return_exceptions=True):
        assert outcome is None or isinstance(outcome, Exception)
    return got


def test_nobody_but_due_diligence_reads_a_restricted_event_by_any_path(tmp_path: Path) -> None:
    """Key people and screening hits: no other service's credentials reach them, through a durable,
    named, ephemeral or ordered consumer, a stored or direct get, the reader's own consumer, or the
    core subject."""
    from tejido_common.natsauth import RESTRICTED_READER, RESTRICTED_SUBJECTS

    assert {"registry.organization.people_updated.v1", "duediligence.screening.hit.v1"} <= set(
        RESTRICTED_SUBJECTS
    )
    passwords = {service: secrets.token_urlsafe(16) for service in (*SERVICES, OPERATOR)}
    server = NatsServer(tmp_path / "nats", users=passwords).start()

    async def scenario() -> None:
        op = await connect(server, passwords, OPERATOR)
        ojs = op.jetstream(timeout=3)
        for restricted in RESTRICTED_SUBJECTS:
            producer = restricted.split(".")[0]
            spec = service_stream(producer)
            await ensure_stream(ojs, spec)
            # Direct gets enabled, so only the permissions stand between a reader and the message.
            config = spec.config()
            config.allow_direct = True
            await ojs.update_stream(config)
        reader = await connect(server, passwords, RESTRICTED_READER)
        rjs = reader.jetstream(timeout=3)
        durables = {}
        for restricted in RESTRICTED_SUBJECTS:
            stream = restricted.split(".")[0].upper()
            family = restricted.rsplit(".", 1)[0] + ".*"
            durables[restricted] = family_durable(RESTRICTED_READER, family)
            if stream != RESTRICTED_READER.upper():  # a restricted type it consumes (key people)
                name = durables[restricted]
                await rjs.add_consumer(
                    stream, config=ConsumerConfig(name=name, durable_name=name, filter_subject=family)
                )
        for restricted in RESTRICTED_SUBJECTS:
            for _ in range(3):
                await ojs.publish(restricted, SECRET)

        leaked: dict[str, list[bytes]] = {}
        for service in SERVICES:
            if service == RESTRICTED_READER:
                continue
            nc = await connect(server, passwords, service)
            tapped: list[bytes] = []

            async def tap(msg: Any, into: list[bytes] = tapped) -> None:
                into.append(msg.data)

            for subject in (*RESTRICTED_SUBJECTS, ">"):
                with contextlib.suppress(Exception):
                    await nc.subscribe(subject, cb=tap)
            js = nc.jetstream(timeout=1)
            got = list(tapped)
            for restricted in RESTRICTED_SUBJECTS:
                stream = restricted.split(".")[0].upper()
                got += await _try_to_read(js, nc, stream, restricted, durables[restricted])
            await ojs.publish("registry.organization.people_updated.v1", SECRET)  # live, for the core taps
            await asyncio.sleep(0.3)
            got += tapped
            leaked[service] = [data for data in got if SECRET in data]
            await nc.close()
        assert leaked == {s: [] for s in SERVICES if s != RESTRICTED_READER}
        # The reader does read them, none taken by the others (the test would pass vacuously otherwise).
        people = "registry.organization.people_updated.v1"
        sub = await rjs.pull_subscribe_bind(durables[people], stream="REGISTRY")
        assert [m.data for m in await sub.fetch(10, timeout=2)] == [SECRET] * (3 + len(leaked))
        for nc in (op, reader):
            await nc.close()

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


def test_no_service_may_create_change_or_delete_a_stream(tmp_path: Path) -> None:
    """NATS does not check a stream's ``sources`` or ``republish`` against permissions, so whoever may
    create or update a stream could copy key people into it and republish them to its own inbox. Only
    the provisioning identity (the operator) creates and reconciles streams: with each service's
    credentials, creating a stream (a missing platform stream, a new one, its own), updating one
    (``REGISTRY``, its own, the dead letters), deleting, purging or snapshotting one is refused."""
    from nats.js.api import RePublish, StreamSource

    passwords = {service: secrets.token_urlsafe(16) for service in (*SERVICES, OPERATOR)}
    server = NatsServer(tmp_path / "nats", users=passwords).start()
    # Only the registry's stream and the dead letters exist: the others are "missing" (start-up order).
    provisioned = (service_stream("registry"), DEAD_LETTER_STREAM)
    missing = ("MATCHING", "DUEDILIGENCE", "REPORTING", "GATEWAY", "STOLEN")

    async def scenario() -> None:
        op = await connect(server, passwords, OPERATOR)
        ojs = op.jetstream(timeout=3)
        for spec in provisioned:
            await ensure_stream(ojs, spec)
        await ojs.publish("registry.alliance.created.v1", b"{}")
        stolen: list[bytes] = []
        for service in SERVICES:
            nc = await connect(server, passwords, service)
            js = nc.jetstream(timeout=1)

            async def collect(msg: Any) -> None:
                stolen.append(msg.data)

            copy = f"{inbox_prefix(service)}.copy"
            await nc.subscribe(f"{copy}.>", cb=collect)
            attempts = []
            for name in (*missing, "REGISTRY", "DEADLETTER", service.upper()):
                config = service_stream(name.lower()).config()
                if name != "REGISTRY":
                    config.sources = [StreamSource(name="REGISTRY")]
                    config.subjects = None
                config.republish = RePublish(src=">", dest=f"{copy}.>")
                attempts += [js.add_stream(config), js.update_stream(config)]
            attempts += [
                js.delete_stream("REGISTRY"),
                js.purge_stream("REGISTRY"),
                js.delete_msg("REGISTRY", 1),
                nc.request("$JS.API.STREAM.SNAPSHOT.REGISTRY", b"{}", timeout=1),
                nc.request("$JS.API.STREAM.RESTORE.STOLEN", b"{}", timeout=1),
            ]
            for outcome in await asyncio.gather(*attempts, return_exceptions=True):
                if not isinstance(outcome, Exception):
                    # A reply came: it must be JetStream's own error (a request refused by
                    # permissions gets no reply at all, i.e. a timeout).
                    assert b'"error"' in getattr(outcome, "data", b'"error"'), (service, outcome)
            await nc.close()
        await ojs.publish("registry.organization.people_updated.v1", SECRET)
        await asyncio.sleep(1.5)
        assert stolen == []
        for name in missing:
            with pytest.raises(Exception):  # noqa: B017 - never created
                await ojs.stream_info(name)
        registry = await ojs.stream_info("REGISTRY")
        assert registry.config.republish is None and registry.state.messages == 2
        assert registry.config.duplicate_window == service_stream("registry").duplicate_window_seconds
        assert (await ojs.stream_info("DEADLETTER")).config.sources in (None, [])
        await op.close()

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
