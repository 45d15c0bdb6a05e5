"""Settings reach existing streams and consumers at start-up; messaging tables are pruned on a schedule."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nats.js.api import AckPolicy, ConsumerConfig
from sqlalchemy import insert, select
from sqlmodel import Session

from tejido_common.broker import Broker, StreamSpec, ensure_stream
from tejido_common.consumer import ConsumerSpec, EventConsumer, ProcessedEvent, prune_processed
from tejido_common.events import Envelope
from tejido_common.natsserver import NatsServer
from tejido_common.outbox import OutboxRow, prune_sent
from tejido_common.testing import DatabaseTarget

from .test_outbox import make_db

TYPE = "testprod.thing.happened.v1"


async def test_existing_stream_and_durable_consumer_are_brought_up_to_date(
    nats_server: NatsServer, data_dir: Path, db_target: DatabaseTarget
) -> None:
    broker = Broker(nats_server.url, "t", [])
    await broker.start()
    assert await broker.wait_ready(15)
    db = make_db(data_dir, db_target)
    try:
        js = broker.js
        # What an older release left behind: a 10-minute window, no age limit, a catch-all consumer.
        await ensure_stream(
            js, StreamSpec(name="TESTPROD", subjects=["testprod.>"], duplicate_window_seconds=600)
        )
        await js.add_consumer(
            "TESTPROD",
            ConsumerConfig(
                durable_name="svc", ack_policy=AckPolicy.EXPLICIT, ack_wait=5, filter_subject="testprod.>"
            ),
        )
        wanted = StreamSpec(
            name="TESTPROD",
            subjects=["testprod.>"],
            duplicate_window_seconds=7200,
            max_age_seconds=86_400,
            max_bytes=50_000_000,
        )
        await ensure_stream(js, wanted)
        config = (await js.stream_info("TESTPROD")).config
        assert (config.duplicate_window, config.max_age, config.max_bytes) == (7200, 86_400, 50_000_000)

        # A consumer spec nobody owns must not override the producer's settings.
        await ensure_stream(js, StreamSpec(name="TESTPROD", subjects=["testprod.>"], owned=False))
        assert (await js.stream_info("TESTPROD")).config.duplicate_window == 7200
        # R3 on a single server cannot be applied: logged, the stream is left as it was, no crash.
        await ensure_stream(js, StreamSpec(name="TESTPROD", subjects=["testprod.>"], replicas=3))
        assert (await js.stream_info("TESTPROD")).config.num_replicas == 1

        def handler(session: Session, e: Envelope) -> None:
            pass

        consumer = EventConsumer(
            ConsumerSpec("svc", "TESTPROD", "testprod.>", handlers={TYPE: handler}, known_types={TYPE}),
            db,
            broker,
            ack_wait=30,
        )
        await consumer.reconcile()
        current = (await js.consumer_info("TESTPROD", "svc")).config
        assert current.ack_wait == 30
        assert current.filter_subjects == ["testprod.thing.happened.*"] or current.filter_subject == (
            "testprod.thing.happened.*"
        )
    finally:
        await broker.close()
        db.dispose()


def test_sent_outbox_rows_and_old_processed_ids_are_pruned(data_dir: Path, db_target: DatabaseTarget) -> None:
    db = make_db(data_dir, db_target)
    now = datetime.now(UTC)
    rows = [
        ("old-sent", now - timedelta(days=2), now - timedelta(days=2)),
        ("new-sent", now - timedelta(hours=1), now - timedelta(hours=1)),
        ("old-pending", now - timedelta(days=3), None),  # never published: kept, whatever its age
    ]
    with db.session() as s:
        for event_id, created, published in rows:
            s.execute(
                insert(OutboxRow.__table__).values(  # type: ignore[attr-defined]
                    id=event_id,
                    subject=TYPE,
                    aggregate_id="a",
                    payload="{}",
                    created_at=created,
                    published_at=published,
                    attempts=0,
                )
            )
        for event_id, at in (("p-old", now - timedelta(days=40)), ("p-new", now - timedelta(days=1))):
            s.add(ProcessedEvent(consumer="svc", event_id=event_id, subject=TYPE, processed_at=at))
    assert prune_sent(db, timedelta(days=1)) == 1
    assert prune_processed(db, timedelta(days=30)) == 1
    with db.read_session() as s:
        assert set(s.scalars(select(OutboxRow.id))) == {"new-sent", "old-pending"}
        assert set(s.scalars(select(ProcessedEvent.event_id))) == {"p-new"}
    db.dispose()


async def test_an_empty_nats_url_never_freezes_the_event_loop() -> None:
    broker = Broker("", "t", [])
    await broker.start()
    started = asyncio.get_running_loop().time()
    await asyncio.sleep(0.1)  # nats-py would spin here, without yielding, on an empty server list
    assert asyncio.get_running_loop().time() - started < 1
    assert not await broker.wait_ready(0.2)
    await broker.close()


async def test_a_broker_that_does_not_provision_waits_for_its_streams_and_only_warns_about_drift(
    nats_server: NatsServer,
) -> None:
    """Under a provisioner (``provision=False``) a service creates nothing: it waits until its stream
    exists, saying which one, then runs with it as it is and warns that it differs from its settings."""
    import nats
    from structlog.testing import capture_logs

    wanted = StreamSpec(name="TESTPROD", subjects=["testprod.>"], duplicate_window_seconds=7200)
    broker = Broker(nats_server.url, "t", [wanted], provision=False)
    await broker.start()
    nc = await nats.connect(nats_server.url)
    try:
        assert not await broker.wait_ready(1.5)
        assert broker.problem is not None and "TESTPROD" in broker.problem
        js = nc.jetstream()
        with pytest.raises(Exception):  # noqa: B017 - not created by the broker
            await js.stream_info("TESTPROD")
        # The provisioner's stream, with other settings than this service's.
        await ensure_stream(
            js, StreamSpec(name="TESTPROD", subjects=["testprod.>"], duplicate_window_seconds=600)
        )
        with capture_logs() as logs:
            assert await broker.wait_ready(15)
        assert broker.problem is None and broker.connected
        assert (await js.stream_info("TESTPROD")).config.duplicate_window == 600  # left as it is
        drift = [e for e in logs if "stream settings differ" in e["event"]]
        assert drift and drift[0]["changed"] == ["duplicate_window"] and drift[0]["log_level"] == "warning"
    finally:
        await nc.close()
        await broker.close()
