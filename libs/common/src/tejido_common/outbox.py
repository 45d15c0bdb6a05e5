"""Transactional outbox: events are rows committed with the business change, then relayed to JetStream.

Guarantees (the README's "Delivery guarantees" says the same for users):

- A write can only stage an event NATS will accept: :func:`add_event` refuses one over
  ``max_event_bytes`` with :class:`EventTooLarge` (a 422 problem naming the biggest field) before commit.
- One relay per service publishes (see :mod:`tejido_common.leader`), in commit order, with
  ``Nats-Msg-Id`` = event id, and marks each row sent as soon as JetStream acknowledges it: a crash
  re-publishes at most the one row in flight, which JetStream drops inside the duplicate window.
- An outage (timeouts, no responders, connection lost) pauses the relay; nothing is charged to the rows.
  A row-specific failure (e.g. over the server's payload limit) is charged to that row; after
  ``park_after`` such failures the row is parked: kept, logged, counted, listed by ``tejido outbox list``
  and re-queued by ``tejido outbox retry``. The relay moves on with other aggregates.
- Per-aggregate order: a row that failed, or is parked, holds back the later rows of *its* aggregate
  (they are "held", never published ahead of it); other aggregates flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import nats.errors
import nats.js.errors
from sqlalchemy import Column, Integer, String, Text, and_, delete, func, select, update
from sqlmodel import Field, Session, SQLModel, col

from tejido_common.broker import Broker
from tejido_common.db import MAX_EVENT_BYTES_KEY, OUTBOX_FLAG, Database, UTCDateTime, insert_rows
from tejido_common.events import Envelope
from tejido_common.executors import DaemonExecutor
from tejido_common.leader import RelayLeadership
from tejido_common.logging import get_logger
from tejido_common.metrics import RELAY_FAILURES, RELAY_LEADER, RELAY_PARKED, RELAY_PUBLISHED
from tejido_common.problems import DomainError, FieldError

log = get_logger(__name__)
T = TypeVar("T")

DEFAULT_MAX_EVENT_BYTES = 900_000  # NATS's default max_payload is 1 MiB; headers need some room


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


class EventTooLarge(DomainError):
    """The change would produce an event bigger than the broker accepts. A domain error, so an API
    write gets a 422 problem and a bulk import (which catches ``DomainError`` per row) a row error."""

    status, code, title = 422, "event-too-large", "Change too large to publish"

    def __init__(self, size: int, limit: int, field: str):
        super().__init__(
            f"this change would produce a {size}-byte event, over the {limit}-byte limit; "
            f"the largest part is {field!r}",
            errors=[
                FieldError(
                    field=field,
                    pointer="#/" + field.replace(".", "/"),
                    reason=f"too large: the resulting event would be {size} bytes (limit {limit})",
                )
            ],
            extra={"event_bytes": size, "limit_bytes": limit},
        )
        self.size = size
        self.limit = limit
        self.field = field


def biggest_field(data: Any, path: tuple[str, ...] = ()) -> str:
    """The dotted path of the part of ``data`` that weighs most, descending through objects (a list
    is named as a whole: its entries together are what is too big)."""
    if isinstance(data, dict) and data:
        key, value = max(data.items(), key=lambda kv: len(json.dumps(kv[1], default=str)))
        return biggest_field(value, (*path, str(key)))
    return ".".join(path) or "data"


def add_event(
    session: Session, envelope: Envelope, aggregate_id: str | None = None, *, max_bytes: int | None = None
) -> Envelope:
    """Stage an event in the caller's transaction; it is relayed only if that transaction commits.

    Raises :class:`EventTooLarge` (before anything is written for it) when the event is over the limit.
    """
    payload = envelope.model_dump_json()
    limit = max_bytes or session.info.get(MAX_EVENT_BYTES_KEY) or DEFAULT_MAX_EVENT_BYTES
    size = len(payload.encode())
    if size > limit:
        path = biggest_field(envelope.data)
        head, _, rest = path.partition(".")
        # Events wrap the changed object (e.g. {"organization": {...}}): name the field as the API
        # client knows it, inside the object.
        if rest and isinstance(envelope.data.get(head), dict):
            path = rest
        raise EventTooLarge(size, limit, path)
    row = {
        "id": envelope.id,
        "subject": envelope.type,
        "aggregate_id": aggregate_id or envelope.subject,
        "payload": payload,
        "created_at": datetime.now(UTC),
        "attempts": 0,
    }
    insert_rows(session, OutboxRow.__table__, [row])  # type: ignore[attr-defined]
    session.info[OUTBOX_FLAG] = True
    return envelope


def row_specific(exc: BaseException) -> bool:
    """Whether a publish failure is this message's fault (retrying it alone will not help), as opposed
    to the broker being unavailable (which says nothing about the row)."""
    if isinstance(exc, nats.errors.MaxPayloadError):
        return True
    if isinstance(exc, nats.js.errors.ServiceUnavailableError):
        return False
    return isinstance(exc, nats.js.errors.APIError) and 400 <= int(exc.code or 0) < 500


@dataclass
class OutboxStats:
    pending: int
    parked: int
    held: int
    oldest_pending_age_seconds: float


# -- the outbox as operators see it (also used by `tejido outbox list|retry`) ----------------------------


def _parked_clause(park_after: int) -> Any:
    return and_(col(OutboxRow.published_at).is_(None), col(OutboxRow.attempts) >= park_after)


def list_parked(db: Database, park_after: int, limit: int = 100) -> list[OutboxRow]:
    with db.read_session() as session:
        stmt = select(OutboxRow).where(_parked_clause(park_after)).order_by(col(OutboxRow.seq)).limit(limit)
        return list(session.scalars(stmt))


def retry_parked(db: Database, park_after: int, ids: Sequence[str] = ()) -> int:
    """Re-queue parked rows (all, or those ``ids``); the relay publishes them on its next pass."""
    with db.session() as session:
        stmt = update(OutboxRow).where(_parked_clause(park_after))
        if ids:
            stmt = stmt.where(col(OutboxRow.id).in_(list(ids)))
        result = session.execute(stmt.values(attempts=0))
        session.info[OUTBOX_FLAG] = True  # wake a relay running in this process
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def outbox_stats(db: Database, park_after: int) -> OutboxStats:
    with db.read_session() as session:
        unpublished = col(OutboxRow.published_at).is_(None)
        parked = int(session.scalar(select(func.count()).where(_parked_clause(park_after))) or 0)
        pending_rows = session.execute(
            select(func.count(), func.min(OutboxRow.created_at)).where(
                unpublished, col(OutboxRow.attempts) < park_after
            )
        ).one()
        held = 0
        if parked:
            held = int(session.scalar(select(func.count()).where(_held_clause(park_after))) or 0)
    pending, oldest = int(pending_rows[0] or 0), pending_rows[1]
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
    return OutboxStats(pending=pending, parked=parked, held=held, oldest_pending_age_seconds=max(age, 0.0))


def _held_clause(park_after: int) -> Any:
    """Unpublished rows of an aggregate that has a parked row. (A row can only be parked once every
    earlier row of its aggregate went out, so these are exactly the rows behind it.) The subquery is
    uncorrelated: evaluated once, cheap even with a large backlog."""
    parked_aggregates = select(col(OutboxRow.aggregate_id)).where(_parked_clause(park_after))
    return and_(
        col(OutboxRow.published_at).is_(None),
        col(OutboxRow.attempts) < park_after,
        col(OutboxRow.aggregate_id).in_(parked_aggregates),
    )


def prune_sent(db: Database, older_than: timedelta) -> int:
    """Delete rows published longer ago than ``older_than`` (the duplicate window: after it, keeping
    them protects nothing)."""
    cutoff = datetime.now(UTC) - older_than
    with db.session() as session:
        result = session.execute(
            delete(OutboxRow).where(
                col(OutboxRow.published_at).is_not(None), col(OutboxRow.published_at) < cutoff
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        broker: Broker,
        *,
        poll_seconds: float = 0.5,
        batch_size: int = 200,
        publish_timeout: float = 5.0,
        park_after: int = 5,
        mark_every: int = 20,
        service: str = "",
        executor: DaemonExecutor | None = None,
        leadership: RelayLeadership | None = None,
    ):
        self.db = db
        self.broker = broker
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.publish_timeout = publish_timeout
        self.park_after = park_after
        # Acknowledged rows are marked sent in chunks of this many (one transaction each, not one per
        # row): a process killed between a publish and its mark re-sends at most this many, which
        # JetStream drops as duplicates inside the window.
        self.mark_every = max(1, mark_every)
        self.service = service or broker.name
        # Database work runs on the backbone's own threads, never behind request handlers.
        self._own_executor = executor is None
        self.executor = executor or DaemonExecutor(1, thread_name_prefix=f"relay-{self.service}")
        self.leadership = leadership or RelayLeadership(db)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.published_total = 0
        self.last_error: str | None = None
        # Set while the relay keeps failing for want of a broker (for /readyz): since when.
        self.stuck_since: float | None = None
        db.after_outbox_commit.append(self.notify)

    @property
    def is_leader(self) -> bool:
        return self.leadership.held

    def notify(self) -> None:
        """Wake the relay after a commit that wrote events; safe to call from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake.set)

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            # Bounded: a thread stuck in the database must not hold up shutdown (the lock then goes
            # with the process).
            await asyncio.wait_for(self._db(self.leadership.release), 5)
        RELAY_LEADER.labels(self.service).set(0)
        if self._own_executor:
            self.executor.shutdown(wait=False, cancel_futures=True)

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
                self.last_error = str(exc) or type(exc).__name__
                log.warning("outbox relay paused", error=self.last_error, retry_in=backoff)
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
                .where(
                    col(OutboxRow.published_at).is_(None),
                    col(OutboxRow.attempts) < self.park_after,
                    ~_held_clause(self.park_after),
                )
                .order_by(col(OutboxRow.seq))
                .limit(self.batch_size)
            )
            return list(session.scalars(stmt))

    def _mark_sent(self, seqs: list[int]) -> None:
        with self.db.session() as session:
            session.execute(
                update(OutboxRow)
                .where(col(OutboxRow.seq).in_(seqs))
                .values(published_at=datetime.now(UTC), attempts=col(OutboxRow.attempts) + 1)
            )

    def _charge(self, seq: int, error: str) -> int:
        """Record a row-specific failure; returns the row's attempts so far."""
        with self.db.session() as session:
            session.execute(
                update(OutboxRow)
                .where(col(OutboxRow.seq) == seq)
                .values(attempts=col(OutboxRow.attempts) + 1, last_error=error[:1000])
            )
            row = session.get(OutboxRow, seq)
            return row.attempts if row is not None else 0

    def _note_outage(self, seq: int, error: str) -> None:
        with self.db.session() as session:
            session.execute(
                update(OutboxRow).where(col(OutboxRow.seq) == seq).values(last_error=error[:1000])
            )

    async def publish_pending(self) -> int:
        """Publish one batch in commit order; returns how many rows were published. Only the leader
        publishes; a standby returns 0 and tries to take over on every call."""
        leader = await self._db(self.leadership.acquire)
        RELAY_LEADER.labels(self.service).set(1 if leader else 0)
        if not leader:
            return 0
        rows = await self._db(self._pending)
        sent = 0
        blocked: set[str] = set()  # aggregates with a failed row in this batch: keep their order
        acknowledged: list[int] = []  # published and acknowledged, not yet marked

        async def mark() -> None:
            if acknowledged:
                await self._db(self._mark_sent, list(acknowledged))
                acknowledged.clear()

        for row in rows:
            if row.aggregate_id in blocked:
                continue
            seq = row.seq or 0
            try:
                await self.broker.js.publish(
                    row.subject,
                    row.payload.encode(),
                    timeout=self.publish_timeout,
                    headers={"Nats-Msg-Id": row.id},
                )
            except Exception as exc:
                error = str(exc) or type(exc).__name__
                if not row_specific(exc):
                    # The broker, not the row: stop the batch, charge nothing, retry with backoff.
                    RELAY_FAILURES.labels(self.service, "broker").inc()
                    await mark()
                    await self._db(self._note_outage, seq, error)
                    raise
                RELAY_FAILURES.labels(self.service, "row").inc()
                blocked.add(row.aggregate_id)
                attempts = await self._db(self._charge, seq, error)
                if attempts >= self.park_after:
                    RELAY_PARKED.labels(self.service).inc()
                    log.error(
                        "outbox row parked; later events of its aggregate are held until it is retried",
                        event_id=row.id,
                        subject=row.subject,
                        aggregate_id=row.aggregate_id,
                        attempts=attempts,
                        error=error,
                    )
                else:
                    log.warning(
                        "outbox row failed, will retry", event_id=row.id, attempts=attempts, error=error
                    )
                continue
            acknowledged.append(seq)
            if len(acknowledged) >= self.mark_every:
                await mark()
            sent += 1
            self.published_total += 1
            RELAY_PUBLISHED.labels(self.service).inc()
        await mark()
        self.last_error = None
        return sent

    def pending_count(self) -> int:
        with self.db.read_session() as session:
            stmt = select(func.count()).select_from(OutboxRow).where(col(OutboxRow.published_at).is_(None))
            return int(session.scalar(stmt) or 0)

    def stats(self) -> OutboxStats:
        return outbox_stats(self.db, self.park_after)
