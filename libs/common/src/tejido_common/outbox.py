"""Transactional outbox: events are rows committed with the business change, then relayed to JetStream.

The relay publishes pending rows in commit order with ``Nats-Msg-Id`` = event id, so JetStream drops
a re-publish after a crash between publishing and marking. It stops a batch at the first failure,
which keeps per-aggregate order, and retries with backoff while NATS is down: nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from sqlalchemy import Column, Integer, String, Text, select, update
from sqlmodel import Field, Session, SQLModel, col

from tejido_common.broker import Broker
from tejido_common.db import OUTBOX_FLAG, Database, UTCDateTime, insert_rows
from tejido_common.events import Envelope
from tejido_common.logging import get_logger

log = get_logger(__name__)


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"

    seq: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    id: str = Field(sa_column=Column(String(36), nullable=False, unique=True))
    subject: str = Field(sa_column=Column(String(200), nullable=False))
    aggregate_id: str = Field(sa_column=Column(String(64), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    last_error: str | None = Field(default=None, sa_column=Column(Text))


def add_event(session: Session, envelope: Envelope, aggregate_id: str | None = None) -> Envelope:
    """Stage an event in the caller's transaction; it is relayed only if that transaction commits."""
    row = {
        "id": envelope.id,
        "subject": envelope.type,
        "aggregate_id": aggregate_id or envelope.subject,
        "payload": envelope.model_dump_json(),
        "created_at": datetime.now(UTC),
        "attempts": 0,
    }
    insert_rows(session, OutboxRow.__table__, [row])  # type: ignore[attr-defined]
    session.info[OUTBOX_FLAG] = True
    return envelope


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        broker: Broker,
        *,
        poll_seconds: float = 0.5,
        batch_size: int = 200,
        publish_timeout: float = 5.0,
    ):
        self.db = db
        self.broker = broker
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.publish_timeout = publish_timeout
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.published_total = 0
        db.after_outbox_commit.append(self.notify)

    def notify(self) -> None:
        """Wake the relay after a commit that wrote events; safe to call from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            if not self.broker.connected:
                await self._sleep(self.poll_seconds)
                continue
            try:
                sent = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay paused", error=str(exc) or type(exc).__name__, retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.2
            if sent < self.batch_size:
                await self._sleep(self.poll_seconds)

    def _pending(self) -> list[OutboxRow]:
        with self.db.read_session() as session:
            stmt = (
                select(OutboxRow)
                .where(col(OutboxRow.published_at).is_(None))
                .order_by(col(OutboxRow.seq))
                .limit(self.batch_size)
            )
            return list(session.scalars(stmt))

    def _mark(self, sent: list[int], failed: int | None, error: str | None) -> None:
        now = datetime.now(UTC)
        with self.db.session() as session:
            if sent:
                session.execute(
                    update(OutboxRow)
                    .where(col(OutboxRow.seq).in_(sent))
                    .values(published_at=now, attempts=col(OutboxRow.attempts) + 1)
                )
            if failed is not None:
                session.execute(
                    update(OutboxRow)
                    .where(col(OutboxRow.seq) == failed)
                    .values(attempts=col(OutboxRow.attempts) + 1, last_error=(error or "")[:1000])
                )

    async def publish_pending(self) -> int:
        """Publish one batch in commit order; returns how many rows were published."""
        rows = await asyncio.to_thread(self._pending)
        sent: list[int] = []
        failure: tuple[int, Exception] | None = None
        for row in rows:
            try:
                await self.broker.js.publish(
                    row.subject,
                    row.payload.encode(),
                    timeout=self.publish_timeout,
                    headers={"Nats-Msg-Id": row.id},
                )
            except Exception as exc:
                failure = (row.seq or 0, exc)
                break
            sent.append(row.seq or 0)
        if sent or failure:
            await asyncio.to_thread(
                self._mark,
                sent,
                failure[0] if failure else None,
                str(failure[1]) if failure else None,
            )
        self.published_total += len(sent)
        if failure:
            raise failure[1]
        return len(sent)

    def pending_count(self) -> int:
        from sqlalchemy import func

        with self.db.read_session() as session:
            stmt = select(func.count()).select_from(OutboxRow).where(col(OutboxRow.published_at).is_(None))
            return int(session.scalar(stmt) or 0)
