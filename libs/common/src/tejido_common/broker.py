"""The NATS JetStream connection: connects in the background, reconnects forever, and provisions its
streams, or (``provision=False``, a service under a provisioner) waits until they exist.

Services start and serve HTTP even while NATS is unreachable; the outbox keeps every event until
the broker is back, and ``/readyz`` reports the broker as down (and why) meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from tejido_common.logging import get_logger
from tejido_common.streams import (
    DEAD_LETTER_STREAM,
    StreamOutcome,
    StreamSpec,
    check_stream,
    ensure_stream,
    service_stream,
)

__all__ = [
    "DEAD_LETTER_STREAM",
    "Broker",
    "StreamOutcome",
    "StreamSpec",
    "ensure_stream",
    "service_stream",
]

log = get_logger(__name__)


class Broker:
    """One NATS connection per process, shared by the outbox relay, consumers and readiness probe."""

    def __init__(
        self,
        url: str,
        name: str,
        streams: list[StreamSpec] | None = None,
        *,
        user: str | None = None,
        password: str | None = None,
        inbox_prefix: str | None = None,
        provision: bool = True,
    ):
        """``user``/``password``: this service's NATS user (``tejido_common.natsauth``); ``inbox_prefix``:
        the inbox its permissions allow it to read (replies, pulled messages). ``provision``: create and
        reconcile ``streams`` itself; False: only look them up, and wait until a provisioner (the
        operator, ``tejido streams provision``) has created them (see ``tejido_common.streams``)."""
        self.url = url
        self.name = name
        self._credentials: dict[str, str] = {}
        if user is not None:
            self._credentials = {"user": user, "password": password or ""}
        if inbox_prefix is not None:
            self._credentials["inbox_prefix"] = inbox_prefix
        self.streams = list(streams or [])
        self.provision = provision
        # Streams this broker waits for (provision=False): readiness names them.
        self.missing_streams: list[str] = []
        self._waiting: asyncio.Task[None] | None = None
        self.nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._on_ready: list[Callable[[], Awaitable[None]]] = []

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected and self._ready.is_set()

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise ConnectionError("not connected to NATS")
        return self._js

    @property
    def problem(self) -> str | None:
        """Why the broker is not ready although NATS may answer (``/readyz`` shows it)."""
        if self.missing_streams:
            return (
                f"waiting for stream(s) {', '.join(self.missing_streams)} to be provisioned "
                "(`tejido streams provision`)"
            )
        return None

    def on_ready(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``callback`` after every (re)connection once streams are provisioned."""
        self._on_ready.append(callback)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._connect_forever(), name=f"nats-connect-{self.name}")

    async def wait_ready(self, seconds: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self._ready.wait(), seconds)
            return True
        except TimeoutError:
            return False

    async def _connect_forever(self) -> None:
        delay = 0.2
        servers = [u.strip() for u in self.url.split(",") if u.strip()]
        if not servers:
            # nats-py, told to reconnect forever, spins without yielding on an empty server list:
            # that would freeze the whole service. Serve without a broker (/readyz says so) instead.
            log.error("no NATS URL configured; events stay in the outbox", url=self.url)
            return
        while not self._closing:
            try:
                self.nc = await nats.connect(
                    # A cluster is given as comma-separated URLs; the client fails over between them.
                    servers=servers,
                    name=self.name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                    error_cb=self._error,
                    **self._credentials,
                )
                self._js = self.nc.jetstream(timeout=5)
                await self._provision()
                log.info("nats connected", url=self.url)
                return
            except Exception as exc:
                if self.nc is not None:
                    with contextlib.suppress(Exception):
                        await self.nc.close()
                    self.nc = None
                log.warning("nats unavailable, retrying", url=self.url, error=str(exc) or type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _provision(self) -> None:
        if self.provision:
            for spec in self.streams:
                await ensure_stream(self.js, spec)
        else:
            await self._await_streams()
        self._ready.set()
        for callback in self._on_ready:
            await callback()

    async def _await_streams(self) -> None:
        """Look the streams up until every one exists (a provisioner creates them), with backoff."""
        delay = 0.2
        while True:
            missing = [spec.name for spec in self.streams if not await check_stream(self.js, spec)]
            if missing != self.missing_streams and missing:
                log.warning(
                    "streams not provisioned yet; waiting (run `tejido streams provision`)", streams=missing
                )
            self.missing_streams = missing
            if not missing:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _disconnected(self) -> None:
        if not self._closing:
            log.warning("nats disconnected", url=self.url)

    async def _reconnected(self) -> None:
        log.info("nats reconnected", url=self.url)
        # A restarted server may have lost its streams (memory or new volume): provision again, or
        # (not provisioning) check they are there, waiting in the background so reconnection goes on.
        if not self.provision:
            if self._waiting is None or self._waiting.done():
                self._waiting = asyncio.create_task(self._reprovision(), name=f"nats-streams-{self.name}")
            return
        await self._reprovision()

    async def _reprovision(self) -> None:
        try:
            await self._provision()
        except Exception as exc:
            log.warning("stream provisioning after reconnect failed", error=str(exc))

    async def _error(self, exc: Exception) -> None:
        log.debug("nats error", error=str(exc))

    async def close(self) -> None:
        self._closing = True
        for task in (self._task, self._waiting):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nc.drain(), 5)
            with contextlib.suppress(Exception):
                await self.nc.close()
