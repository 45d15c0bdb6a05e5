"""The idempotent consumer runner against a real nats-server and a real database."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import nats
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlmodel import Session

from tejido_common.broker import DEAD_LETTER_STREAM, Broker, StreamSpec
from tejido_common.consumer import ConsumerSpec, EventConsumer, ProcessedEvent
from tejido_common.db import Database
from tejido_common.events import Envelope
from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget

effects_md = MetaData()
effects = Table(
    "effects",
    effects_md,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
)
STREAM = StreamSpec(name="TESTPROD", subjects=["testprod.>"])
TYPE = "testprod.thing.happened.v1"


def make_db(data_dir: Path, target: DatabaseTarget) -> Database:
    db = Database(target.url or f"sqlite:///{data_dir / 'consumer.db'}", target.schema)
    db.ensure_schema()
    ProcessedEvent.metadata.create_all(db.engine, tables=[ProcessedEvent.__table__])  # type: ignore[attr-defined]
    effects_md.create_all(db.engine)
    return db


def applied(db: Database) -> Counter[str]:
    with db.read_session() as s:
        return Counter(s.scalars(select(effects.c.event_id)))


async def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def envelope(n: int) -> Envelope:
    return Envelope.new(
        TYPE, source="tejido/test", subject=f"thing/{n}", data={"n": n}, correlation_id=f"corr-{n}"
    )


@pytest.fixture
async def setup(data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget):
    db = make_db(data_dir, db_target)
    broker = Broker(nats_server.url, "test-consumer", [STREAM, DEAD_LETTER_STREAM])
    await broker.start()
    assert await broker.wait_ready(15)
    yield db, broker
    await broker.close()
    db.dispose()


async def test_failing_first_delivery_still_applies_each_event_exactly_once(setup) -> None:
    db, broker = setup
    attempts: Counter[str] = Counter()
    correlation: dict[str, str | None] = {}

    def handler(session: Session, event: Envelope) -> None:
        session.execute(insert(effects).values(event_id=event.id))
        attempts[event.id] += 1
        from tejido_common.context import current_correlation_id

        correlation[event.id] = current_correlation_id()
        if attempts[event.id] == 1:
            raise RuntimeError("transient failure")  # rolls back the insert above

    consumer = EventConsumer(
        ConsumerSpec("testsvc", "TESTPROD", "testprod.>", handlers={TYPE: handler}, known_types={TYPE}),
        db,
        broker,
        max_deliveries=5,
        retry_delay=0.05,
    )
    await consumer.start()
    events = [envelope(i) for i in range(25)]
    for ev in events:
        await broker.js.publish(ev.type, ev.to_bytes(), headers={"Nats-Msg-Id": ev.id})
    await wait_for(lambda: len(applied(db)) == 25)
    # The same event delivered again (e.g. re-published after a relay crash) is not applied twice.
    await broker.js.publish(events[0].type, events[0].to_bytes(), headers={"Nats-Msg-Id": "replay-1"})
    await wait_for(lambda: consumer.applied == 25 and attempts[events[0].id] == 2)
    await asyncio.sleep(0.3)
    counts = applied(db)
    assert set(counts) == {e.id for e in events}
    assert all(c == 1 for c in counts.values())
    assert all(attempts[e.id] == 2 for e in events)
    assert correlation[events[3].id] == "corr-3"
    with db.read_session() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedEvent)) == 25
    info = await broker.js.consumer_info("TESTPROD", "testsvc")
    assert not info.num_ack_pending  # every delivery was acked after its commit
    await consumer.stop()


async def test_poison_messages_go_to_dead_letter_after_retry_limit(setup, nats_server: NatsServer) -> None:
    db, broker = setup
    good, bad = envelope(1), envelope(2)
    tries: Counter[str] = Counter()

    def handler(session: Session, event: Envelope) -> None:
        tries[event.id] += 1
        if event.id == bad.id:
            raise ValueError("cannot handle this one")
        session.execute(insert(effects).values(event_id=event.id))

    dead: list = []
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()

    async def collect(msg) -> None:
        dead.append(msg)

    await js.subscribe("deadletter.>", cb=collect, ordered_consumer=True)

    consumer = EventConsumer(
        ConsumerSpec("testsvc", "TESTPROD", "testprod.>", handlers={TYPE: handler}, known_types={TYPE}),
        db,
        broker,
        max_deliveries=3,
        retry_delay=0.05,
    )
    await consumer.start()
    await broker.js.publish(bad.type, bad.to_bytes(), headers={"Nats-Msg-Id": bad.id})
    await broker.js.publish(
        "testprod.thing.happened.v1", b"not json at all", headers={"Nats-Msg-Id": "garbage"}
    )
    await broker.js.publish(good.type, good.to_bytes(), headers={"Nats-Msg-Id": good.id})
    await wait_for(lambda: len(dead) == 2 and len(applied(db)) == 1)
    assert tries[bad.id] == 3  # bounded retries, then dead-lettered
    by_body = {m.data: m for m in dead}
    poisoned = by_body[bad.to_bytes()]
    assert poisoned.subject == f"deadletter.testsvc.{TYPE}"
    assert poisoned.headers["Tejido-Deliveries"] == "3"
    assert "cannot handle this one" in poisoned.headers["Tejido-Error"]
    garbage = by_body[b"not json at all"]
    assert garbage.headers["Tejido-Deliveries"] == "1"  # unparseable: no point retrying
    assert applied(db) == Counter({good.id: 1})
    await asyncio.sleep(0.3)
    assert tries[bad.id] == 3  # terminated: never delivered again
    await consumer.stop()
    await nc.close()


async def test_consumer_survives_server_restart(
    data_dir: Path, tmp_path: Path, db_target: DatabaseTarget
) -> None:
    server = NatsServer(tmp_path / "restart-nats").start()
    db = make_db(data_dir, db_target)
    broker = Broker(server.url, "test-consumer", [STREAM, DEAD_LETTER_STREAM])
    await broker.start()
    assert await broker.wait_ready(15)
    consumer = EventConsumer(
        ConsumerSpec(
            "testsvc",
            "TESTPROD",
            "testprod.>",
            handlers={TYPE: lambda s, e: s.execute(insert(effects).values(event_id=e.id))},
            known_types={TYPE},
        ),
        db,
        broker,
        retry_delay=0.05,
    )
    await consumer.start()
    first = envelope(1)
    await broker.js.publish(first.type, first.to_bytes(), headers={"Nats-Msg-Id": first.id})
    await wait_for(lambda: len(applied(db)) == 1)
    await asyncio.to_thread(server.kill)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(server.start)
    second = envelope(2)

    async def publish_when_back() -> None:
        while True:
            try:
                await broker.js.publish(
                    second.type, second.to_bytes(), headers={"Nats-Msg-Id": second.id}, timeout=1
                )
                return
            except Exception:
                await asyncio.sleep(0.2)

    await asyncio.wait_for(publish_when_back(), 20)
    await wait_for(lambda: len(applied(db)) == 2, timeout=30)
    assert applied(db) == Counter({first.id: 1, second.id: 1})
    await consumer.stop()
    await broker.close()
    server.stop()
    db.dispose()
