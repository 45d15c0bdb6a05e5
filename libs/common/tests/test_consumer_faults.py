"""Consumers under faults: unknown versions, typos in handler keys, slow handlers, retries, dead letters."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlmodel import Session

from tejido_common.broker import DEAD_LETTER_STREAM, Broker, StreamSpec
from tejido_common.consumer import ConsumerSpec, EventConsumer, ProcessedEvent, retry_delay_for
from tejido_common.db import Database
from tejido_common.deadletters import list_dead_letters, purge_dead_letters, replay_dead_letters
from tejido_common.events import Envelope
from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget

from .test_consumer import applied, effects, make_db, wait_for

STREAM = StreamSpec(name="TESTPROD", subjects=["testprod.>"])
V1 = "testprod.thing.happened.v1"
V2 = "testprod.thing.happened.v2"
OTHER = "testprod.other.changed.v1"
KNOWN = {V1, V2, OTHER}


def event(type_: str, n: int = 0) -> Envelope:
    return Envelope.new(type_, source="tejido/test", subject=f"thing/{n}", data={"n": n})


def record(session: Session, e: Envelope) -> None:
    session.execute(insert(effects).values(event_id=e.id))


async def publish(broker: Broker, *events: Envelope) -> None:
    for e in events:
        await broker.js.publish(e.type, e.to_bytes(), headers={"Nats-Msg-Id": e.id})


def processed(db: Database) -> set[str]:
    with db.read_session() as s:
        return set(s.scalars(select(ProcessedEvent.event_id)))


@pytest.fixture
async def setup(data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget):
    db = make_db(data_dir, db_target)
    broker = Broker(nats_server.url, "test-consumer", [STREAM, DEAD_LETTER_STREAM])
    await broker.start()
    assert await broker.wait_ready(15)
    consumers: list[EventConsumer] = []
    yield db, broker, consumers
    # Always stopped, even when the test failed half-way: teardown must never hang.
    for consumer in consumers:
        await consumer.stop()
    await broker.close()
    db.dispose()


# -- fast tier ----------------------------------------------------------------------------------------


def test_handler_keys_must_be_known_event_types_inside_the_filter() -> None:
    with pytest.raises(ValueError, match="not a known event type"):
        ConsumerSpec("x", "REGISTRY", "registry.>", handlers={"registry.organisation.updated.v1": record})
    with pytest.raises(ValueError, match="not a known event type"):
        ConsumerSpec("x", "REGISTRY", "registry.>", handlers={"registry.organization.updated": record})
    with pytest.raises(ValueError, match="outside its filter"):
        ConsumerSpec(
            "x", "REGISTRY", "registry.alliance.>", handlers={"registry.organization.updated.v1": record}
        )
    spec = ConsumerSpec("x", "REGISTRY", "registry.>", handlers={"registry.organization.updated.v1": record})
    assert spec.filter_subjects() == ["registry.organization.updated.*"]


def test_retry_delays_grow_exponentially_up_to_a_cap() -> None:
    assert [retry_delay_for(n, 1.0, 600.0) for n in range(1, 8)] == [1, 5, 25, 125, 600, 600, 600]
    # With the default 10 deliveries a good event survives ~40 minutes of trouble, not ~10 seconds.
    assert sum(retry_delay_for(n, 1.0, 600.0) for n in range(1, 10)) > 30 * 60


# -- real tier ----------------------------------------------------------------------------------------


async def test_an_unknown_version_is_kept_for_a_later_release_and_unsubscribed_types_never_arrive(
    setup,
) -> None:
    db, broker, consumers = setup
    seen: list[str] = []

    def handler(session: Session, e: Envelope) -> None:
        seen.append(e.type)
        record(session, e)

    v1, v2, other = event(V1, 1), event(V2, 2), event(OTHER, 3)
    old = EventConsumer(
        ConsumerSpec("testsvc", "TESTPROD", "testprod.>", handlers={V1: handler}, known_types=KNOWN),
        db,
        broker,
        retry_delay=0.05,
    )
    consumers.append(old)
    await old.start()
    await publish(broker, v1, v2, other)
    await wait_for(lambda: v1.id in processed(db) and old.dead_lettered == 1)
    await asyncio.sleep(0.3)
    # v2 is neither applied nor recorded as processed: it waits in the dead letters, with its reason.
    assert processed(db) == {v1.id}
    assert seen == [V1] and old.unknown == 1
    letters = await list_dead_letters(broker.js, "testsvc")
    assert [(dl.event_id, dl.reason, dl.original_subject) for dl in letters] == [
        (v2.id, "unknown-version", V2)
    ]
    info = await broker.js.consumer_info("TESTPROD", "testsvc")
    assert info.num_pending == 0 and info.delivered.consumer_seq == 2  # `other` was never delivered
    await old.stop()

    # A later release handles v2: replaying the dead letter applies it, exactly once.
    new = EventConsumer(
        ConsumerSpec(
            "testsvc", "TESTPROD", "testprod.>", handlers={V1: handler, V2: handler}, known_types=KNOWN
        ),
        db,
        broker,
        retry_delay=0.05,
    )
    consumers.append(new)
    await new.start()
    assert await replay_dead_letters(broker.js, "testsvc") == 1
    await wait_for(lambda: v2.id in processed(db))
    await asyncio.sleep(0.3)
    assert seen == [V1, V2]
    assert sorted(applied(db).values()) == [1, 1]
    assert await list_dead_letters(broker.js, "testsvc") == []


async def test_a_slow_handler_keeps_its_message_instead_of_getting_it_redelivered(setup) -> None:
    db, broker, consumers = setup

    def slow(session: Session, e: Envelope) -> None:
        time.sleep(2.5)
        record(session, e)

    consumer = EventConsumer(
        ConsumerSpec("testsvc", "TESTPROD", "testprod.>", handlers={V1: slow}, known_types=KNOWN),
        db,
        broker,
        ack_wait=1.0,
    )
    consumers.append(consumer)
    await consumer.start()
    await publish(broker, event(V1, 1))
    await wait_for(lambda: len(applied(db)) == 1)
    await asyncio.sleep(1.5)
    info = await broker.js.consumer_info("TESTPROD", "testsvc")
    assert info.delivered.consumer_seq == 1  # delivered once: in_progress kept it ours past ack_wait
    assert info.num_redelivered == 0


async def test_dead_letters_can_be_listed_replayed_and_purged(setup) -> None:
    db, broker, consumers = setup
    broken = True

    def flaky(session: Session, e: Envelope) -> None:
        if broken:
            raise RuntimeError("database is being restored")
        record(session, e)

    consumer = EventConsumer(
        ConsumerSpec("testsvc", "TESTPROD", "testprod.>", handlers={V1: flaky}, known_types=KNOWN),
        db,
        broker,
        max_deliveries=2,
        retry_delay=0.05,
    )
    consumers.append(consumer)
    await consumer.start()
    a, b = event(V1, 1), event(V1, 2)
    await publish(broker, a, b)
    await wait_for(lambda: consumer.dead_lettered == 2)
    letters = await list_dead_letters(broker.js)
    assert {dl.event_id for dl in letters} == {a.id, b.id}
    assert {dl.reason for dl in letters} == {"retries-exhausted"}
    assert all("being restored" in dl.error for dl in letters)

    broken = False
    await replay_dead_letters(
        broker.js, "testsvc", seqs=[next(dl.seq for dl in letters if dl.event_id == a.id)]
    )
    await wait_for(lambda: a.id in processed(db))
    assert [dl.event_id for dl in await list_dead_letters(broker.js)] == [b.id]
    assert await purge_dead_letters(broker.js, "testsvc") == 1
    assert await list_dead_letters(broker.js) == []
    assert processed(db) == {a.id}


def test_a_failing_consumer_test_reports_its_failure_instead_of_hanging(tmp_path: Path) -> None:
    """(c): a consumer test that fails while its handler is stuck must end, and say it failed."""
    test_file = tmp_path / "test_stuck.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import asyncio, time
            from pathlib import Path
            from tejido_common.broker import DEAD_LETTER_STREAM, Broker, StreamSpec
            from tejido_common.consumer import ConsumerSpec, EventConsumer, ProcessedEvent
            from tejido_common.db import Database
            from tejido_common.events import Envelope

            TYPE = "testprod.thing.happened.v1"

            async def test_stuck(nats_server, tmp_path):
                db = Database(f"sqlite:///{tmp_path / 'c.db'}")
                ProcessedEvent.metadata.create_all(db.engine, tables=[ProcessedEvent.__table__])
                streams = [StreamSpec("TESTPROD", ["testprod.>"]), DEAD_LETTER_STREAM]
                broker = Broker(nats_server.url, "t", streams)
                await broker.start()
                await broker.wait_ready(15)
                consumer = EventConsumer(
                    ConsumerSpec("t", "TESTPROD", "testprod.>",
                                 handlers={TYPE: lambda s, e: time.sleep(3600)}, known_types={TYPE}),
                    db, broker)
                await consumer.start()
                e = Envelope.new(TYPE, source="t", subject="x", data={})
                await broker.js.publish(TYPE, e.to_bytes())
                await asyncio.sleep(0.5)
                assert False, "the test failed while its handler was stuck"
            """
        )
    )
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(test_file),
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "tejido_common.testing",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=tmp_path,
    )
    assert "1 failed" in result.stdout, result.stdout[-2000:]
    assert time.monotonic() - started < 60
