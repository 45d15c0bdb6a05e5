"""Idempotent event consumers: a durable JetStream pull consumer per (consuming service, producer stream).

Each message's handler runs in one database transaction that also records the event id, and the
message is acked only after that commit. A redelivered event whose id is already recorded is acked
without running the handler again. A failing handler is retried with a growing delay; after
``max_deliveries`` the message is copied to ``deadletter.<consumer>.<subject>`` and terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import nats.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy import Column, String
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from tejido_common.broker import Broker
from tejido_common.context import bind_correlation_id
from tejido_common.db import Database, UTCDateTime
from tejido_common.events import Envelope, dead_letter_subject
from tejido_common.logging import get_logger

log = get_logger(__name__)

Handler = Callable[[Session, Envelope], None]


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_events"

    consumer: str = Field(sa_column=Column(String(100), primary_key=True))
    event_id: str = Field(sa_column=Column(String(64), primary_key=True))
    subject: str = Field(sa_column=Column(String(200), nullable=False))
    processed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


@dataclass
class ConsumerSpec:
    """``name`` is the durable consumer name (the consuming service, plus a suffix if it needs more)."""

    name: str
    stream: str
    filter_subject: str
    handlers: dict[str, Handler] = field(default_factory=dict)
    # Called for event types without a handler; the default records and acks them (forward compatible).
    fallback: Handler | None = None


class PoisonMessage(Exception):
    """A message that can never be processed (e.g. not an envelope): dead-lettered at once."""


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
    ):
        self.spec = spec
        self.db = db
        self.broker = broker
        self.max_deliveries = max_deliveries
        self.retry_delay = retry_delay
        self.ack_wait = ack_wait
        self.batch = batch
        self._task: asyncio.Task[None] | None = None
        self.applied = 0
        self.dead_lettered = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.spec.name}-{self.spec.stream}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _config(self) -> ConsumerConfig:
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
            filter_subject=self.spec.filter_subject,
        )

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            await self.broker.wait_ready()
            try:
                sub = await self.broker.js.pull_subscribe(
                    self.spec.filter_subject,
                    durable=self.spec.name,
                    stream=self.spec.stream,
                    config=self._config(),
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
            for msg in msgs:
                await self._handle(msg)

    async def _handle(self, msg: Msg) -> None:
        deliveries = msg.metadata.num_delivered or 1
        envelope: Envelope | None = None
        try:
            try:
                envelope = Envelope.from_bytes(msg.data)
            except ValidationError as exc:
                raise PoisonMessage(f"not a valid event envelope: {exc.error_count()} error(s)") from exc
            await asyncio.to_thread(self._apply, envelope)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            poison = isinstance(exc, PoisonMessage)
            if poison or deliveries >= self.max_deliveries:
                await self._dead_letter(msg, envelope, exc, deliveries)
            else:
                log.warning(
                    "event handling failed, will retry",
                    consumer=self.spec.name,
                    subject=msg.subject,
                    event_id=envelope.id if envelope else None,
                    delivery=deliveries,
                    error=str(exc) or repr(exc),
                )
                with contextlib.suppress(Exception):
                    await msg.nak(delay=self.retry_delay * deliveries)
            return
        with contextlib.suppress(Exception):
            # If this ack is lost the event comes back and is skipped as already processed.
            await msg.ack()

    def _apply(self, envelope: Envelope) -> None:
        bind_correlation_id(envelope.correlationid)
        try:
            with self.db.session() as session:
                if session.get(ProcessedEvent, (self.spec.name, envelope.id)) is not None:
                    return
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
        except IntegrityError:
            # Another replica recorded the same event concurrently: it is applied exactly once.
            with self.db.read_session() as session:
                if session.get(ProcessedEvent, (self.spec.name, envelope.id)) is None:
                    raise
            return
        self.applied += 1

    async def _dead_letter(
        self, msg: Msg, envelope: Envelope | None, exc: Exception, deliveries: int
    ) -> None:
        subject = dead_letter_subject(self.spec.name, msg.subject)
        headers = {
            "Tejido-Error": (str(exc) or repr(exc))[:500],
            "Tejido-Deliveries": str(deliveries),
            "Tejido-Original-Subject": msg.subject,
            "Nats-Msg-Id": f"dl-{self.spec.name}-{envelope.id if envelope else msg.metadata.sequence.stream}",
        }
        try:
            await self.broker.js.publish(subject, msg.data, headers=headers, timeout=5)
        except Exception as pub_exc:
            log.error("dead-letter publish failed, will retry", consumer=self.spec.name, error=str(pub_exc))
            with contextlib.suppress(Exception):
                await msg.nak(delay=self.retry_delay)
            return
        with contextlib.suppress(Exception):
            await msg.term()
        self.dead_lettered += 1
        log.error(
            "event dead-lettered",
            consumer=self.spec.name,
            subject=msg.subject,
            dead_letter_subject=subject,
            event_id=envelope.id if envelope else None,
            deliveries=deliveries,
            error=str(exc) or repr(exc),
        )
