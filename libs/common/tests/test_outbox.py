"""The outbox and its relay against a real nats-server and a real database (SQLite, or PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from nats.js.api import StreamConfig
from sqlalchemy import select

from tejido_common.broker import Broker, StreamSpec, service_stream
from tejido_common.consumer import ProcessedEvent
from tejido_common.db import Database
from tejido_common.events import Envelope
from tejido_common.natsserver import NatsServer
from tejido_common.outbox import (
    EventTooLarge,
    OutboxRelay,
    OutboxRow,
    add_event,
    list_parked,
    outbox_stats,
    retry_parked,
)
from tejido_common.settings import ServiceSettings
from tejido_common.testing import DatabaseTarget

SUBJECT = "testprod.thing.happened.v1"


def make_db(data_dir: Path, target: DatabaseTarget, name: str = "outbox") -> Database:
    db = Database(target.url or f"sqlite:///{data_dir / f'{name}.db'}", target.schema)
    db.ensure_schema()
    OutboxRow.metadata.create_all(
        db.engine,
        tables=[OutboxRow.__table__, ProcessedEvent.__table__],  # type: ignore[attr-defined]
    )
    return db


def stage(db: Database, aggregate: str, size: int = 10, n: int = 0) -> Envelope:
    envelope = Envelope.new(
        SUBJECT, source="tejido/test", subject=f"thing/{aggregate}", data={"n": n, "blob": "x" * size}
    )
    with db.session() as session:
        add_event(session, envelope, aggregate_id=aggregate)
    return envelope


async def stream_messages(broker: Broker, stream: str) -> list[Envelope]:
    """Every message in the stream, in stream order."""
    info = await broker.js.stream_info(stream)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await broker.js.get_msg(stream, seq)
        out.append(Envelope.from_bytes(msg.data or b""))
    return out


async def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


# -- fast tier: the write-time bound --------------------------------------------------------------------


def test_an_event_over_the_limit_is_refused_before_commit_naming_its_biggest_field(tmp_path: Path) -> None:
    db = make_db(tmp_path, DatabaseTarget(None, None))
    db.max_event_bytes = 5_000
    big = Envelope.new(
        SUBJECT,
        source="tejido/test",
        subject="thing/1",
        data={"organization": {"name": "Ceiba", "history": [{"text": "y" * 100}] * 80, "small": "z"}},
    )
    with pytest.raises(EventTooLarge) as caught, db.session() as session:
        add_event(session, big)
    assert caught.value.status == 422
    assert caught.value.field == "history"
    assert caught.value.errors and caught.value.errors[0].field == "history"
    assert caught.value.size > 5_000
    with db.read_session() as session:
        assert session.scalars(select(OutboxRow)).all() == []
    # Under the limit the same call stages the event.
    with db.session() as session:
        add_event(session, Envelope.new(SUBJECT, source="t", subject="thing/2", data={"ok": True}))
    with db.read_session() as session:
        assert len(session.scalars(select(OutboxRow)).all()) == 1


def test_production_defaults_cover_a_long_outage() -> None:
    """Duplicates after the window were defect 2: the window must outlast a realistic outage."""
    assert ServiceSettings().stream_duplicate_window_seconds >= 24 * 3600
    assert service_stream("registry").config().duplicate_window >= 24 * 3600
    assert ServiceSettings().max_event_bytes < 1024 * 1024  # under NATS's default max_payload


# -- real tier --------------------------------------------------------------------------------------------


@pytest.fixture
async def broker(nats_server: NatsServer):
    b = Broker(nats_server.url, "test-relay", [])
    await b.start()
    assert await b.wait_ready(15)
    yield b
    await b.close()


async def test_a_row_nats_refuses_is_parked_later_rows_of_its_aggregate_wait_the_rest_flow(
    data_dir: Path, db_target: DatabaseTarget, broker: Broker
) -> None:
    # The stream refuses messages over 2,000 bytes while the connection stays up: a row-specific error.
    await broker.js.add_stream(
        StreamConfig(name="TESTPROD", subjects=["testprod.>"], max_msg_size=2_000, duplicate_window=3600)
    )
    db = make_db(data_dir, db_target)
    a1 = stage(db, "a", n=1)
    b1 = stage(db, "b", size=3_000, n=1)  # too big for the stream
    b2 = stage(db, "b", n=2)  # same aggregate, behind the refused one
    c1 = stage(db, "c", n=1)
    relay = OutboxRelay(db, broker, poll_seconds=0.05, park_after=3, service="test")
    await relay.start()
    try:
        await wait_for(lambda: len(list_parked(db, 3)) == 1)
        await asyncio.sleep(0.3)  # a few more relay passes: nothing else may move
        published = await stream_messages(broker, "TESTPROD")
        # The relay did not give up at the first error: the other aggregates went out.
        assert [e.id for e in published] == [a1.id, c1.id]
        parked = list_parked(db, 3)
        assert [r.id for r in parked] == [b1.id]
        assert parked[0].attempts == 3 and parked[0].last_error
        stats = outbox_stats(db, 3)
        assert (stats.parked, stats.held, stats.pending) == (1, 1, 1)

        # The operator raises the limit and retries: the parked row goes out, then the held one.
        await broker.js.update_stream(
            StreamConfig(name="TESTPROD", subjects=["testprod.>"], max_msg_size=-1, duplicate_window=3600)
        )
        assert retry_parked(db, 3) == 1
        await wait_for(lambda: relay.pending_count() == 0)
        published = await stream_messages(broker, "TESTPROD")
        assert [e.id for e in published] == [a1.id, c1.id, b1.id, b2.id]
        assert outbox_stats(db, 3).parked == 0
    finally:
        await relay.stop()
        db.dispose()


async def test_a_row_failing_once_is_retried_not_skipped(
    data_dir: Path, db_target: DatabaseTarget, broker: Broker
) -> None:
    await broker.js.add_stream(
        StreamConfig(name="TESTPROD", subjects=["testprod.>"], max_msg_size=2_000, duplicate_window=3600)
    )
    db = make_db(data_dir, db_target)
    big = stage(db, "b", size=3_000)
    after = stage(db, "c")
    relay = OutboxRelay(db, broker, poll_seconds=0.05, park_after=1000, service="test")
    await relay.start()
    try:
        # Failing again and again (not skipped after one try), while the next aggregate goes out.
        await wait_for(lambda: relay.stats().pending == 1 and _attempts(db, big.id) >= 3)
        assert [e.id for e in await stream_messages(broker, "TESTPROD")] == [after.id]
        await broker.js.update_stream(
            StreamConfig(name="TESTPROD", subjects=["testprod.>"], max_msg_size=-1, duplicate_window=3600)
        )
        await wait_for(lambda: relay.pending_count() == 0)
        assert [e.id for e in await stream_messages(broker, "TESTPROD")] == [after.id, big.id]
    finally:
        await relay.stop()
        db.dispose()


def _attempts(db: Database, event_id: str) -> int:
    with db.read_session() as s:
        row = s.scalars(select(OutboxRow).where(OutboxRow.id == event_id)).one()
        return row.attempts


class CrashAfter:
    """Wraps the JetStream context: after ``n`` acknowledged publishes the relay task is cancelled, as
    a killed process would stop between publishing and marking."""

    def __init__(self, js: Any, n: int):
        self.js = js
        self.n = n
        self.calls = 0
        self.task: asyncio.Task[Any] | None = None

    async def publish(self, *args: Any, **kwargs: Any) -> Any:
        ack = await self.js.publish(*args, **kwargs)
        self.calls += 1
        if self.calls == self.n and self.task is not None:
            self.task.cancel()
            await asyncio.sleep(0)
        return ack


async def test_rows_are_marked_per_acknowledged_publish(
    data_dir: Path, db_target: DatabaseTarget, broker: Broker
) -> None:
    await broker.js.add_stream(StreamSpec(name="TESTPROD", subjects=["testprod.>"]).config())
    db = make_db(data_dir, db_target)
    for i in range(50):
        stage(db, f"agg{i}", n=i)
    relay = OutboxRelay(db, broker, poll_seconds=0.05, batch_size=200, mark_every=8, service="test")
    crash = CrashAfter(broker.js, 20)
    wrapped = type("B", (), {"js": crash, "connected": True, "name": "x"})()
    relay.broker = wrapped  # type: ignore[assignment]
    await relay.start()
    crash.task = relay._task
    with pytest.raises(asyncio.CancelledError):
        assert relay._task is not None
        await relay._task
    await relay.stop()
    # Acknowledged publishes are recorded in chunks of mark_every: a restart long after the duplicate
    # window re-sends at most that many (the old relay marked only after the whole batch: 0 of 20).
    assert 30 <= relay.pending_count() <= 30 + relay.mark_every
    db.dispose()


async def test_two_relays_on_one_database_publish_each_event_once_and_the_standby_takes_over(
    data_dir: Path, db_target: DatabaseTarget, broker: Broker
) -> None:
    await broker.js.add_stream(StreamSpec(name="TESTPROD", subjects=["testprod.>"]).config())
    # Two replicas: separate engines (and, on SQLite, separate lock file descriptors) on one database.
    db1 = make_db(data_dir, db_target)
    db2 = Database(db1.url, db1.schema)
    calls: Counter[str] = Counter()

    def counting(name: str) -> Any:
        class Js:
            async def publish(self, *args: Any, **kwargs: Any) -> Any:
                calls[name] += 1
                return await broker.js.publish(*args, **kwargs)

        return type("B", (), {"js": Js(), "connected": True, "name": name})()

    relays = [
        OutboxRelay(db, counting(f"r{i}"), poll_seconds=0.05, batch_size=20, service=f"r{i}")  # type: ignore[arg-type]
        for i, db in enumerate((db1, db2))
    ]
    for relay in relays:
        await relay.start()
    try:
        staged = []
        for i in range(200):
            staged.append(stage(db1 if i % 2 else db2, f"org{i % 7}", n=i).id)
        await wait_for(lambda: relays[0].pending_count() == 0, timeout=60)
        await asyncio.sleep(0.5)
        assert sum(calls.values()) == 200, calls  # not one extra publish
        assert sum(1 for r in relays if r.is_leader) == 1
        published = await stream_messages(broker, "TESTPROD")
        assert [e.id for e in published] == staged  # commit order

        # The leader dies without a goodbye (its lock goes with its connection / file descriptor).
        leader = next(r for r in relays if r.is_leader)
        standby = next(r for r in relays if r is not leader)
        assert leader._task is not None
        leader._task.cancel()
        leader.leadership._drop()
        started = time.monotonic()
        more = [stage(db1, "late", n=i).id for i in range(5)]
        await wait_for(lambda: standby.pending_count() == 0, timeout=10)
        assert time.monotonic() - started < 5
        assert standby.is_leader
        assert [e.id for e in await stream_messages(broker, "TESTPROD")][-5:] == more
    finally:
        for relay in relays:
            await relay.stop()
        db1.dispose()
        db2.dispose()
