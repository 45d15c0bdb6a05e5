"""Rate limits across gateway replicas: each replica tells the others, every ``interval`` seconds, the
requests it allowed per bucket and fixed window, on core NATS (``rpc.gateway.ratelimit``: outside every
stream, nothing is stored), and counts what the others tell it. A limit then holds for the platform
within about one interval of traffic, whatever the number of replicas; no database write per request.

A lost message (a replica restarting, a broker failover) under-counts that interval; a replica that
cannot reach NATS limits its own traffic as before."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from tejido_common.broker import Broker
from tejido_gateway.protection.ratelimit import RateLimiter

log = structlog.get_logger(__name__)
SUBJECT = "rpc.gateway.ratelimit"
# Entries per message: ~60 bytes each, far below NATS's 1 MB max_payload.
CHUNK = 4000


class SharedRateLimits:
    def __init__(self, limiter: RateLimiter, broker: Broker, interval: float):
        self.limiter = limiter
        self.broker = broker
        self.interval = interval
        self.replica = uuid.uuid4().hex  # tells this replica's own messages apart
        self._subscribed_on: Client | None = None
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        # Messages sent, received from the others (and the hits they carried), dropped as unreadable.
        self.sent = self.received = self.hits_received = self.dropped = 0

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def start(self) -> None:
        self.broker.on_ready(self._subscribe)
        if self.broker.connected:  # connected before this started: on_ready runs on the next connection
            await self._subscribe()
        self._task = asyncio.create_task(self._publish_forever(), name="ratelimit-sharing")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()

    async def _subscribe(self) -> None:
        nc = self.broker.nc
        if nc is None or nc is self._subscribed_on:  # the client re-subscribes by itself on reconnects
            return
        self._subscription = await nc.subscribe(SUBJECT, cb=self._received)
        self._subscribed_on = nc

    async def _received(self, msg: Msg) -> None:
        try:
            body: dict[str, Any] = json.loads(msg.data)
            if body["replica"] == self.replica:
                return
            counters = self.limiter.counters()
            for kind, entries in body["hits"].items():
                counter = counters.get(kind)
                if counter is None:
                    continue
                for index, bucket, hits in entries:
                    counter.add_remote(int(index), str(bucket), int(hits))
                    self.hits_received += int(hits)
            self.received += 1
        except (ValueError, KeyError, TypeError) as exc:  # another version, or not ours: never fatal
            self.dropped += 1
            log.warning("rate-limit share ignored", error=str(exc))

    async def _publish_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.publish()
            except Exception as exc:  # broker down: the counts of this interval stay local
                log.debug("rate-limit share not sent", error=str(exc) or type(exc).__name__)

    async def publish(self) -> None:
        """Send what this replica counted since the last call (taken even when it cannot be sent: a
        later message must not carry stale windows)."""
        taken = {kind: counter.take_local() for kind, counter in self.limiter.counters().items()}
        nc = self.broker.nc
        if nc is None or not nc.is_connected:
            return
        for kind, entries in taken.items():
            for start in range(0, len(entries), CHUNK):
                chunk = entries[start : start + CHUNK]
                payload = {"replica": self.replica, "hits": {kind: chunk}}
                await nc.publish(SUBJECT, json.dumps(payload, separators=(",", ":")).encode())
                self.sent += 1
