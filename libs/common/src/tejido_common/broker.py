"""The NATS JetStream connection: connects in the background, reconnects forever, provisions streams.

Services start and serve HTTP even while NATS is unreachable; the outbox keeps every event until
the broker is back, and ``/readyz`` reports the broker as down meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

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
    # Window inside which JetStream drops a re-published Nats-Msg-Id (the relay's crash window). It
    # must outlast the longest outage of a relay that published rows but had not marked them.
    duplicate_window_seconds: float = 86_400.0
    max_age_seconds: float = 0.0  # 0 keeps messages until limits are reached
    max_bytes: int = -1
    replicas: int = 1
    # Only the producing service reconciles its stream's settings; a consumer merely creates a missing
    # stream (so it can subscribe before the producer ever ran) and never overrides the producer.
    owned: bool = True
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
            max_bytes=self.max_bytes,
            num_replicas=self.replicas,
        )


def service_stream(service: str, **settings: Any) -> StreamSpec:
    return StreamSpec(name=service.upper(), subjects=[f"{service}.>"], **settings)


# Shared by every service: whoever comes first creates it, nobody reconciles it.
DEAD_LETTER_STREAM = StreamSpec(name="DEADLETTER", subjects=[f"{DEAD_LETTER_PREFIX}.>"], owned=False)


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
                await asyncio.wait_for(self.nc.drain(), 5)
            with contextlib.suppress(Exception):
                await self.nc.close()


def _drift(current: StreamConfig, wanted: StreamConfig) -> list[str]:
    """The reconcilable settings that differ between the server's stream and ours."""
    changed = []
    if sorted(current.subjects or []) != sorted(wanted.subjects or []):
        changed.append("subjects")
    if abs((current.duplicate_window or 0) - (wanted.duplicate_window or 0)) > 0.001:
        changed.append("duplicate_window")
    if abs((current.max_age or 0) - (wanted.max_age or 0)) > 0.001:
        changed.append("max_age")
    if (current.max_bytes or -1) != (wanted.max_bytes or -1):
        changed.append("max_bytes")
    if (current.num_replicas or 1) != (wanted.num_replicas or 1):
        changed.append("replicas")
    return changed


async def ensure_stream(js: JetStreamContext, spec: StreamSpec) -> None:
    """Create the stream, or bring an existing one's settings up to date (subjects, duplicate window,
    max age, max bytes, replicas). Safe to call repeatedly. Storage type and retention cannot change
    on a live stream in JetStream; we never change them."""
    try:
        info = await js.stream_info(spec.name)
    except NotFoundError:
        await js.add_stream(spec.config())
        log.info("stream created", stream=spec.name, subjects=spec.subjects, replicas=spec.replicas)
        return
    if not spec.owned:
        return
    changed = _drift(info.config, spec.config())
    if not changed:
        return
    try:
        await js.update_stream(spec.config())
    except Exception as exc:
        # E.g. R3 asked of a single server: serve on with the stream as it is, and say why, loudly.
        log.error("stream settings not applied", stream=spec.name, changed=changed, error=str(exc))
        return
    log.info("stream updated", stream=spec.name, changed=changed)
