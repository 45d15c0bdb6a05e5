"""The NATS JetStream connection: connects in the background, reconnects forever, provisions streams.

Services start and serve HTTP even while NATS is unreachable; the outbox keeps every event until
the broker is back, and ``/readyz`` reports the broker as down meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from tejido_common.events import DEAD_LETTER_PREFIX
from tejido_common.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: list[str]
    # Window inside which JetStream drops a re-published Nats-Msg-Id (the relay's crash window).
    duplicate_window_seconds: float = 600.0
    max_age_seconds: float = 0.0  # 0 keeps messages until limits are reached
    extra: dict[str, object] = field(default_factory=dict)

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            subjects=self.subjects,
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            duplicate_window=self.duplicate_window_seconds,
            max_age=self.max_age_seconds or None,
        )


def service_stream(service: str) -> StreamSpec:
    return StreamSpec(name=service.upper(), subjects=[f"{service}.>"])


DEAD_LETTER_STREAM = StreamSpec(name="DEADLETTER", subjects=[f"{DEAD_LETTER_PREFIX}.>"])


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
    ):
        """``user``/``password``: this service's NATS user (``tejido_common.natsauth``); ``inbox_prefix``:
        the inbox its permissions allow it to read (replies, pulled messages)."""
        self.url = url
        self.name = name
        self._credentials: dict[str, str] = {}
        if user is not None:
            self._credentials = {"user": user, "password": password or ""}
        if inbox_prefix is not None:
            self._credentials["inbox_prefix"] = inbox_prefix
        self.streams = list(streams or [])
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
        while not self._closing:
            try:
                self.nc = await nats.connect(
                    servers=[self.url],
                    name=self.name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                    error_cb=self._error,
                    **self._credentials,  # type: ignore[arg-type]
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
        for spec in self.streams:
            await ensure_stream(self.js, spec)
        self._ready.set()
        for callback in self._on_ready:
            await callback()

    async def _disconnected(self) -> None:
        if not self._closing:
            log.warning("nats disconnected", url=self.url)

    async def _reconnected(self) -> None:
        log.info("nats reconnected", url=self.url)
        # A restarted server may have lost its streams (memory or new volume): provision again.
        try:
            await self._provision()
        except Exception as exc:
            log.warning("stream provisioning after reconnect failed", error=str(exc))

    async def _error(self, exc: Exception) -> None:
        log.debug("nats error", error=str(exc))

    async def close(self) -> None:
        self._closing = True
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.drain()
            with contextlib.suppress(Exception):
                await self.nc.close()


async def ensure_stream(js: JetStreamContext, spec: StreamSpec) -> None:
    """Create the stream, or bring an existing one's subjects up to date. Safe to call repeatedly."""
    try:
        info = await js.stream_info(spec.name)
    except NotFoundError:
        await js.add_stream(spec.config())
        log.info("stream created", stream=spec.name, subjects=spec.subjects)
        return
    if sorted(info.config.subjects or []) != sorted(spec.subjects):
        await js.update_stream(spec.config())
        log.info("stream updated", stream=spec.name, subjects=spec.subjects)
