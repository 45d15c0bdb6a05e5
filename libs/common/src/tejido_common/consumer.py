"""Idempotent event consumers: a durable JetStream pull consumer per (consuming service, producer stream).

Handlers run in a database transaction that also records the event ids, and messages are acked
only after that commit. A fetched batch is applied in one transaction (one connection, one commit:
catch-up runs at batch speed, not at one commit per event), each event in its own savepoint: if one
handler fails, only that event is rolled back and its message alone takes the retry / dead-letter
path below, while the others commit — every handler still runs once per delivery. A batch failing
as a whole (the commit, the connection) falls back to one transaction per message. A redelivered
event whose id is already recorded is acked without running the handler again. A failing handler is
retried after exponentially growing delays (``retry_delay`` x 5^(n-1), capped at
``max_retry_delay``); a slow one keeps its messages with ``in_progress`` signals. After
``max_deliveries`` the message is copied to ``deadletter.<consumer>.<subject>`` and terminated;
``tejido deadletter replay`` re-publishes it.

The durable consumer only subscribes to the types it has handlers for (every version of them): an
event of a handled type but an unknown version (``….v2`` reaching a v1-only release) is logged,
counted and dead-lettered with reason ``unknown-version`` — never recorded as processed — so a later
release replays it. ``ConsumerSpec`` refuses handler keys that are not known event types.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy import Column, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from tejido_common.broker import Broker
from tejido_common.context import bind_correlation_id
from tejido_common.db import Database, UTCDateTime
from tejido_common.events import EVENT_TYPE_RE, Envelope, dead_letter_subject, known_event_types
from tejido_common.executors import DaemonExecutor
from tejido_common.logging import get_logger
from tejido_common.metrics import (
    CONSUMER_APPLIED,
    CONSUMER_DEAD_LETTERS,
    CONSUMER_REDELIVERIES,
    CONSUMER_UNKNOWN,
    HANDLER_LATENCY,
)

log = get_logger(__name__)

Handler = Callable[[Session, Envelope], None]


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_events"

    consumer: str = Field(sa_column=Column(String(100), primary_key=True))
    event_id: str = Field(sa_column=Column(String(64), primary_key=True))
    subject: str = Field(sa_column=Column(String(200), nullable=False))
    processed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def _subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, ``>`` the rest."""
    want, have = pattern.split("."), subject.split(".")
    for i, part in enumerate(want):
        if part == ">":
            return len(have) > i
        if i >= len(have) or part not in ("*", have[i]):
            return False
    return len(want) == len(have)


def type_family(event_type: str) -> str:
    """``registry.organization.updated.v1`` → ``registry.organization.updated.*`` (every version)."""
    return event_type.rsplit(".", 1)[0] + ".*"


@dataclass
class ConsumerSpec:
    """``name`` is the durable consumer name (the consuming service, plus a suffix if it needs more).

    Handler keys must be known event types (a checked-in schema exists) matched by ``filter_subject``:
    a typo would otherwise never match and every event would be skipped. ``known_types`` replaces the
    checked-in list (tests of the machinery itself use made-up types)."""

    name: str
    stream: str
    filter_subject: str
    handlers: dict[str, Handler] = field(default_factory=dict)
    # Called for event types without a handler. Leave it None: then the consumer subscribes only to
    # the handled types, and an unknown version of one is dead-lettered, not silently recorded.
    fallback: Handler | None = None
    known_types: Collection[str] | None = None

    def __post_init__(self) -> None:
        known = set(self.known_types if self.known_types is not None else known_event_types())
        for key in self.handlers:
            if not EVENT_TYPE_RE.match(key) or key not in known:
                raise ValueError(
                    f"consumer {self.name!r}: handler key {key!r} is not a known event type "
                    "(no checked-in schema under tejido_common/event_schemas)"
                )
            if not _subject_matches(self.filter_subject, key):
                raise ValueError(
                    f"consumer {self.name!r}: handler key {key!r} "
                    f"is outside its filter {self.filter_subject!r}"
                )

    def filter_subjects(self) -> list[str]:
        """What the durable consumer subscribes to: every version of each handled type; the whole
        ``filter_subject`` when a fallback wants everything (or there are no handlers)."""
        if self.fallback is not None or not self.handlers:
            return [self.filter_subject]
        return sorted({type_family(key) for key in self.handlers})


def family_durable(name: str, family: str) -> str:
    """The durable name of one family's consumer when a spec is split (:func:`split_by_family`):
    ``matching`` + ``registry.organization.updated.*`` → ``matching-registry_organization_updated``."""
    return f"{name}-{'_'.join(t for t in family.split('.') if t not in ('*', '>'))}"


def split_by_family(spec: ConsumerSpec) -> list[ConsumerSpec]:
    """One spec per subscribed family. NATS can check a consumer's filter against the user's
    permissions only when the consumer has exactly one (it then travels in the create request's
    subject, see ``tejido_common.natsauth``), so a spec handling several types becomes one durable per
    type. Order across types of one aggregate is then not kept: handlers must be version-guarded
    (every read model here applies only newer versions)."""
    families = spec.filter_subjects()
    if len(families) <= 1:
        return [spec]
    return [
        dataclasses.replace(
            spec,
            name=family_durable(spec.name, family),
            filter_subject=family,
            handlers={k: h for k, h in spec.handlers.items() if type_family(k) == family},
        )
        for family in families
    ]


def retry_delay_for(delivery: int, base: float, cap: float) -> float:
    """Delay before the next delivery after the ``delivery``-th failed: base x 5^(n-1), capped."""
    return float(min(base * 5 ** max(delivery - 1, 0), cap))


class PoisonMessage(Exception):
    """A message that can never be processed (e.g. not an envelope): dead-lettered at once."""

    reason = "poison"


class UnknownVersion(PoisonMessage):
    """A subscribed type in a version this release has no handler for: dead-lettered (kept for replay
    by a release that handles it), never recorded as processed."""

    reason = "unknown-version"


class EventConsumer:
    def __init__(
        self,
        spec: ConsumerSpec,
        db: Database,
        broker: Broker,
        *,
        max_deliveries: int = 5,
        retry_delay: float = 1.0,
        ack_wait: float = 30.0,
        batch: int = 64,
        max_retry_delay: float = 600.0,
        service: str = "",
        executor: DaemonExecutor | None = None,
    ):
        self.spec = spec
        self.db = db
        self.broker = broker
        self.max_deliveries = max_deliveries
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.ack_wait = ack_wait
        self.batch = batch
        self.service = service or broker.name
        # Handlers run on the backbone's own threads, never queued behind request handlers.
        self._own_executor = executor is None
        self.executor = executor or DaemonExecutor(1, thread_name_prefix=f"consumer-{spec.name}")
        self._task: asyncio.Task[None] | None = None
        self.applied = 0
        self.dead_lettered = 0
        self.unknown = 0
        self.interruptions = 0  # pull loops that ended in an error and subscribed again

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.spec.name}-{self.spec.stream}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            # Bounded: a handler stuck in its thread must never hang shutdown (or a test's teardown).
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
                await asyncio.wait_for(self._task, 10)
            self._task = None
        if self._own_executor:
            self.executor.shutdown(wait=False, cancel_futures=True)

    def _config(self) -> ConsumerConfig:
        subjects = self.spec.filter_subjects()
        return ConsumerConfig(
            durable_name=self.spec.name,
            # With a name, nats-py puts the filter in the create request's subject, where the NATS
            # permissions can check it (``tejido_common.natsauth``).
            name=self.spec.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait,
            # We count deliveries ourselves to dead-letter; the server must never drop a message first.
            max_deliver=-1,
            max_ack_pending=1000,
            filter_subject=subjects[0] if len(subjects) == 1 else None,
            filter_subjects=subjects if len(subjects) > 1 else None,
        )

    async def reconcile(self) -> None:
        """Create the durable consumer, or update an existing one whose settings drifted from ours
        (filter subjects, ack wait, limits): an old durable would otherwise keep its first config."""
        js = self.broker.js
        wanted = self._config()
        try:
            info = await js.consumer_info(self.spec.stream, self.spec.name)
        except nats.js.errors.NotFoundError:
            await js.add_consumer(self.spec.stream, config=wanted)
            return
        current = info.config
        have = sorted(current.filter_subjects or ([current.filter_subject] if current.filter_subject else []))
        want = sorted(wanted.filter_subjects or [wanted.filter_subject or ""])
        drift = (
            have != want
            or abs((current.ack_wait or 0) - (wanted.ack_wait or 0)) > 0.001
            or current.max_ack_pending != wanted.max_ack_pending
            or current.max_deliver != wanted.max_deliver
        )
        if drift:
            await js.add_consumer(self.spec.stream, config=wanted)  # create-or-update (server 2.10+)
            log.info("consumer updated", consumer=self.spec.name, stream=self.spec.stream, filters=want)

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            await self.broker.wait_ready()
            try:
                await self.reconcile()
                sub = await self.broker.js.pull_subscribe_bind(
                    durable=self.spec.name, stream=self.spec.stream
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer subscribe failed", consumer=self.spec.name, error=str(exc) or repr(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.2
            try:
                await self._pull(sub)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
                raise
            except Exception as exc:
                # Connection lost, server restarted or consumer deleted: subscribe again.
                self.interruptions += 1
                log.warning("consumer interrupted", consumer=self.spec.name, error=str(exc) or repr(exc))
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
                await asyncio.sleep(backoff)

    async def _pull(self, sub: object) -> None:
        failures = 0
        while True:
            try:
                msgs: list[Msg] = await sub.fetch(batch=self.batch, timeout=1.0)  # type: ignore[attr-defined]
            except nats.errors.TimeoutError:
                failures = 0
                continue
            except (nats.errors.ConnectionClosedError, nats.errors.NoRespondersError):
                raise
            except Exception:
                failures += 1
                if failures >= 3:
                    raise
                await asyncio.sleep(0.5)
                continue
            failures = 0
            await self._handle_batch(msgs)

    async def _keep_alive(self, *msgs: Msg) -> None:
        """Tell the server a slow handler (or batch) is still working, so nothing is redelivered."""
        while True:
            await asyncio.sleep(max(self.ack_wait / 3, 0.05))
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.in_progress()

    async def _handle_batch(self, msgs: list[Msg]) -> None:
        """Apply a fetched batch in one transaction; unparseable or unknown-version messages take the
        one-message path (dead letter) and never hold the others back."""
        if len(msgs) == 1:
            await self._handle(msgs[0])
            return
        ready: list[tuple[Msg, Envelope]] = []
        for msg in msgs:
            try:
                envelope = Envelope.from_bytes(msg.data)
            except ValidationError:
                await self._handle(msg)  # dead-lettered as poison
                continue
            if envelope.type not in self.spec.handlers and self.spec.fallback is None:
                await self._handle(msg)  # dead-lettered as an unknown version
                continue
            if (msg.metadata.num_delivered or 1) > 1:
                CONSUMER_REDELIVERIES.labels(self.service, self.spec.name).inc()
            ready.append((msg, envelope))
        await self._apply_run(ready)

    async def _apply_run(self, items: list[tuple[Msg, Envelope]]) -> None:
        if not items:  # every message of the batch took the one-message path (or none came)
            return
        if len(items) == 1:
            await self._handle(items[0][0], counted=True)
            return
        started = time.perf_counter()
        msgs = [msg for msg, _ in items]
        keep_alive = asyncio.create_task(self._keep_alive(*msgs))
        try:
            outcomes = await asyncio.get_running_loop().run_in_executor(
                self.executor, self._apply_batch, [envelope for _, envelope in items]
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Not one event's fault (the commit, the connection, a concurrent replica): one by one.
            log.warning(
                "event batch failed, applying one by one",
                consumer=self.spec.name,
                events=len(items),
                error=str(exc) or repr(exc),
            )
            for msg, _ in items:
                await self._handle(msg, counted=True)
            return
        finally:
            keep_alive.cancel()
        share = (time.perf_counter() - started) / len(items)
        for (msg, envelope), outcome in zip(items, outcomes, strict=True):
            if outcome is not None:
                await self._failed(msg, envelope, outcome, msg.metadata.num_delivered or 1)
                continue
            HANDLER_LATENCY.labels(self.service, self.spec.name, envelope.type).observe(share)
            with contextlib.suppress(Exception):
                # If this ack is lost the event comes back and is skipped as already processed.
                await msg.ack()

    async def _handle(self, msg: Msg, *, counted: bool = False) -> None:
        deliveries = msg.metadata.num_delivered or 1
        if deliveries > 1 and not counted:
            CONSUMER_REDELIVERIES.labels(self.service, self.spec.name).inc()
        envelope: Envelope | None = None
        try:
            try:
                envelope = Envelope.from_bytes(msg.data)
            except ValidationError as exc:
                raise PoisonMessage(f"not a valid event envelope: {exc.error_count()} error(s)") from exc
            if envelope.type not in self.spec.handlers and self.spec.fallback is None:
                self.unknown += 1
                CONSUMER_UNKNOWN.labels(self.service, self.spec.name, envelope.type).inc()
                raise UnknownVersion(f"no handler for {envelope.type} in this release")
            started = time.perf_counter()
            keep_alive = asyncio.create_task(self._keep_alive(msg))
            try:
                await asyncio.get_running_loop().run_in_executor(self.executor, self._apply, envelope)
            finally:
                keep_alive.cancel()
            HANDLER_LATENCY.labels(self.service, self.spec.name, envelope.type).observe(
                time.perf_counter() - started
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(msg, envelope, exc, deliveries)
            return
        with contextlib.suppress(Exception):
            # If this ack is lost the event comes back and is skipped as already processed.
            await msg.ack()

    async def _failed(self, msg: Msg, envelope: Envelope | None, exc: Exception, deliveries: int) -> None:
        """One delivery failed: retry later, or dead-letter (poison, or the last delivery)."""
        poison = isinstance(exc, PoisonMessage)
        if poison or deliveries >= self.max_deliveries:
            await self._dead_letter(msg, envelope, exc, deliveries)
            return
        delay = retry_delay_for(deliveries, self.retry_delay, self.max_retry_delay)
        log.warning(
            "event handling failed, will retry",
            consumer=self.spec.name,
            subject=msg.subject,
            event_id=envelope.id if envelope else None,
            delivery=deliveries,
            retry_in=delay,
            error=str(exc) or repr(exc),
        )
        with contextlib.suppress(Exception):
            await msg.nak(delay=delay)

    def _apply(self, envelope: Envelope) -> None:
        bind_correlation_id(envelope.correlationid)
        try:
            with self.db.session() as session:
                if session.get(ProcessedEvent, (self.spec.name, envelope.id)) is not None:
                    return
                self._handle_and_record(session, envelope)
        except IntegrityError:
            # Another replica recorded the same event concurrently: it is applied exactly once.
            with self.db.read_session() as session:
                if session.get(ProcessedEvent, (self.spec.name, envelope.id)) is None:
                    raise
            return
        self.applied += 1
        CONSUMER_APPLIED.labels(self.service, self.spec.name).inc()

    def _handle_and_record(self, session: Session, envelope: Envelope) -> None:
        """The effect and its processed id, in the caller's transaction (or savepoint)."""
        handler = self.spec.handlers.get(envelope.type, self.spec.fallback)
        if handler is not None:
            handler(session, envelope)
        session.add(
            ProcessedEvent(
                consumer=self.spec.name,
                event_id=envelope.id,
                subject=envelope.type,
                processed_at=datetime.now(UTC),
            )
        )

    def _apply_batch(self, envelopes: list[Envelope]) -> list[Exception | None]:
        """Apply events in order in one transaction, each in a savepoint with its processed id, and
        skip those already recorded (or repeated in the batch). An event whose handler raises is
        rolled back to its savepoint alone: its exception is its outcome (None: applied or skipped),
        the others commit, and every handler ran once."""
        outcomes: list[Exception | None] = []
        applied = 0
        with self.db.session() as session:
            ids = list({e.id for e in envelopes})
            done = set(
                session.scalars(
                    select(col(ProcessedEvent.event_id)).where(
                        col(ProcessedEvent.consumer) == self.spec.name, col(ProcessedEvent.event_id).in_(ids)
                    )
                )
            )
            for envelope in envelopes:
                if envelope.id in done:
                    outcomes.append(None)
                    continue
                bind_correlation_id(envelope.correlationid)
                try:
                    with session.begin_nested():
                        self._handle_and_record(session, envelope)
                except Exception as exc:
                    if isinstance(exc, IntegrityError) and self._recorded(session, envelope.id):
                        outcomes.append(None)  # another replica applied it meanwhile
                    else:
                        outcomes.append(exc)
                    continue
                done.add(envelope.id)
                outcomes.append(None)
                applied += 1
        self.applied += applied
        CONSUMER_APPLIED.labels(self.service, self.spec.name).inc(applied)
        return outcomes

    def _recorded(self, session: Session, event_id: str) -> bool:
        return session.get(ProcessedEvent, (self.spec.name, event_id)) is not None

    async def _dead_letter(
        self, msg: Msg, envelope: Envelope | None, exc: Exception, deliveries: int
    ) -> None:
        subject = dead_letter_subject(self.spec.name, msg.subject)
        headers = {
            "Tejido-Reason": exc.reason if isinstance(exc, PoisonMessage) else "retries-exhausted",
            "Tejido-Consumer": self.spec.name,
            "Tejido-Error": (str(exc) or repr(exc))[:500],
            "Tejido-Deliveries": str(deliveries),
            "Tejido-Original-Subject": msg.subject,
            # Per stream message (not per event id): a replayed event that fails again is kept again.
            "Nats-Msg-Id": f"dl-{self.spec.name}-{msg.metadata.stream}-{msg.metadata.sequence.stream}",
        }
        try:
            await self.broker.js.publish(subject, msg.data, headers=headers, timeout=5)
        except Exception as pub_exc:
            log.error("dead-letter publish failed, will retry", consumer=self.spec.name, error=str(pub_exc))
            with contextlib.suppress(Exception):
                await msg.nak(delay=max(self.retry_delay, 0.5))
            return
        with contextlib.suppress(Exception):
            await msg.term()
        self.dead_lettered += 1
        CONSUMER_DEAD_LETTERS.labels(self.service, self.spec.name).inc()
        log.error(
            "event dead-lettered",
            consumer=self.spec.name,
            subject=msg.subject,
            dead_letter_subject=subject,
            event_id=envelope.id if envelope else None,
            deliveries=deliveries,
            error=str(exc) or repr(exc),
        )


def prune_processed(db: Database, older_than: timedelta) -> int:
    """Forget processed ids older than the stream keeps messages: such an event can no longer be
    redelivered, so its id protects nothing."""
    cutoff = datetime.now(UTC) - older_than
    with db.session() as session:
        result = session.execute(delete(ProcessedEvent).where(col(ProcessedEvent.processed_at) < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
