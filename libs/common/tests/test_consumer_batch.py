"""Batched consumption: a fetched batch is applied in one transaction, a failing event alone takes
the retry / dead-letter path, and the batch stays idempotent (real nats-server, real database)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import nats
from sqlalchemy import insert
from sqlmodel import Session

from tejido_common.consumer import ConsumerSpec, EventConsumer
from tejido_common.events import Envelope
from tejido_common.natsserver import NatsServer

from .test_consumer import TYPE, applied, effects, envelope, setup, wait_for

__all__ = ["setup"]  # the fixture, shared with test_consumer


def consumer_for(db, broker, handler, **kwargs) -> EventConsumer:  # type: ignore[no-untyped-def]
    spec = ConsumerSpec("batchsvc", "TESTPROD", "testprod.>", handlers={TYPE: handler}, known_types={TYPE})
    return EventConsumer(spec, db, broker, **kwargs)


async def publish(broker, *events: Envelope, msg_ids: list[str] | None = None) -> None:  # type: ignore[no-untyped-def]
    for i, e in enumerate(events):
        msg_id = msg_ids[i] if msg_ids else e.id
        await broker.js.publish(e.type, e.to_bytes(), headers={"Nats-Msg-Id": msg_id})


async def test_a_poison_event_in_a_batch_is_dead_lettered_alone_and_the_others_apply_once(
    setup, nats_server: NatsServer
) -> None:
    db, broker = setup
    events = [envelope(n) for n in range(12)]
    bad = events[5]
    tries: Counter[str] = Counter()
    transaction_of: dict[str, str] = {}  # event → the transaction of its last (committed) run

    def handler(session: Session, event: Envelope) -> None:
        tries[event.id] += 1
        transaction_of[event.id] = session.info.setdefault("test_tx", str(uuid.uuid4()))
        if event.id == bad.id:
            raise ValueError("cannot handle this one")
        session.execute(insert(effects).values(event_id=event.id))

    dead: list = []
    nc = await nats.connect(nats_server.url)

    async def collect(msg) -> None:  # type: ignore[no-untyped-def]
        dead.append(msg)

    await nc.jetstream().subscribe("deadletter.>", cb=collect, ordered_consumer=True)
    await publish(broker, *events)  # all waiting before the consumer starts: one fetch gets them
    consumer = consumer_for(db, broker, handler, max_deliveries=3, retry_delay=0.05)
    await consumer.start()
    try:
        await wait_for(lambda: len(dead) == 1 and len(applied(db)) == 11)
        good = [e.id for e in events if e.id != bad.id]
        assert applied(db) == Counter(good)  # every other event exactly once
        assert tries[bad.id] == 3  # one handler run per delivery, then dead-lettered
        assert dead[0].headers["Tejido-Deliveries"] == "3"
        assert "cannot handle this one" in dead[0].headers["Tejido-Error"]
        # Batched: the eleven good events were committed by a few transactions, not one each.
        assert len({transaction_of[e] for e in good}) <= 3
        assert consumer.applied == 11
        await asyncio.sleep(0.3)
        assert tries[bad.id] == 3  # terminated: never delivered again
    finally:
        await consumer.stop()
        await nc.close()


async def test_a_batch_skips_events_already_processed_and_repeats_inside_it(setup) -> None:
    db, broker = setup
    first, second = envelope(1), envelope(2)
    runs: Counter[str] = Counter()

    def handler(session: Session, event: Envelope) -> None:
        runs[event.id] += 1
        session.execute(insert(effects).values(event_id=event.id))

    consumer = consumer_for(db, broker, handler)
    await consumer.start()
    await publish(broker, first)
    await wait_for(lambda: applied(db) == Counter({first.id: 1}))
    await consumer.stop()
    # While it is stopped: the same events again under other message ids (a producer that re-sent
    # them after the broker's duplicate window), next to a new one — all fetched as one batch.
    await publish(broker, first, second, second, msg_ids=["again-1", "new-2", "again-2"])
    consumer = consumer_for(db, broker, handler)
    await consumer.start()
    try:
        await wait_for(lambda: applied(db) == Counter({first.id: 1, second.id: 1}))
        await asyncio.sleep(0.3)
        assert applied(db) == Counter({first.id: 1, second.id: 1})
        assert runs == Counter({first.id: 1, second.id: 1})
    finally:
        await consumer.stop()


async def test_a_batch_of_only_unknown_versions_does_not_interrupt_the_consumer(
    setup, nats_server: NatsServer
) -> None:
    """Every message of a fetched batch dead-lettered one by one leaves nothing to apply together; that
    empty rest once divided by zero and interrupted the consumer (re-subscribing on every such batch)."""
    db, broker = setup
    newer = [envelope(n).model_copy(update={"type": TYPE.replace(".v1", ".v2")}) for n in range(2)]
    for e in newer:  # both waiting before the consumer starts: one fetch gets them
        await broker.js.publish(e.type, e.to_bytes(), headers={"Nats-Msg-Id": e.id})

    def handler(session: Session, event: Envelope) -> None:
        session.execute(insert(effects).values(event_id=event.id))

    consumer = consumer_for(db, broker, handler)
    await consumer.start()
    try:
        await wait_for(lambda: consumer.unknown == 2)
        await publish(broker, envelope(99))
        await wait_for(lambda: len(applied(db)) == 1)
        assert consumer.interruptions == 0
    finally:
        await consumer.stop()
