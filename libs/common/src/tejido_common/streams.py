"""JetStream streams: what each one is (:class:`StreamSpec`) and the provisioning that creates and
reconciles them.

NATS does not check a stream's configuration (``sources``, ``republish``) against the user's
permissions, so whoever may create or update a stream could copy restricted events into one and
republish them to its own inbox. Hence only a provisioning identity creates and changes streams:
:func:`provision_streams` runs as the ``operator`` in ``tejido up`` (after NATS starts, before the
services) and in ``tejido streams provision`` (compose's one-shot ``provision-streams`` job). Services
then run with ``provision_streams=False``: they only look their streams up (:func:`check_stream`) and
wait until they exist. A service left at the default (tests on an open nats-server) provisions the
streams it needs itself with the same :func:`ensure_stream`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from tejido_common.events import DEAD_LETTER_PREFIX
from tejido_common.logging import get_logger
from tejido_common.settings import ServiceSettings

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
    # Only the producing service's settings are reconciled; a reader merely creates a missing stream
    # (an open test server, where services provision themselves) and never overrides the producer.
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


# Shared by every service; the provisioner reconciles it, a self-provisioning service only creates it.
DEAD_LETTER_STREAM = StreamSpec(name="DEADLETTER", subjects=[f"{DEAD_LETTER_PREFIX}.>"], owned=False)


def stream_settings(settings: ServiceSettings) -> dict[str, Any]:
    """A service's stream settings (``TEJIDO_<SERVICE>_STREAM_*``) as :class:`StreamSpec` fields."""
    return {
        "duplicate_window_seconds": settings.stream_duplicate_window_seconds,
        "max_age_seconds": settings.stream_max_age_seconds,
        "max_bytes": settings.stream_max_bytes,
        "replicas": settings.stream_replicas,
    }


def platform_streams(producers: Iterable[ServiceSettings]) -> list[StreamSpec]:
    """Every stream of the platform: each producing service's own, with that service's settings, and
    the shared dead-letter stream, replicated like the most replicated of them."""
    specs = [service_stream(s.service_name, **stream_settings(s)) for s in producers]
    replicas = max((s.replicas for s in specs), default=1)
    return [*specs, dataclasses.replace(DEAD_LETTER_STREAM, replicas=replicas, owned=True)]


@dataclass(frozen=True)
class StreamOutcome:
    """What :func:`ensure_stream` did: ``created``, ``updated``, ``unchanged``, ``present`` (not ours to
    reconcile) or ``not-applied`` (the server refused the update; the stream runs as it is)."""

    stream: str
    action: str
    changed: tuple[str, ...] = ()
    error: str = ""


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


async def ensure_stream(js: JetStreamContext, spec: StreamSpec) -> StreamOutcome:
    """Create the stream, or bring an existing one's settings up to date (subjects, duplicate window,
    max age, max bytes, replicas). Safe to call repeatedly. Storage type and retention cannot change
    on a live stream in JetStream; we never change them. Needs a user that may manage streams."""
    try:
        info = await js.stream_info(spec.name)
    except NotFoundError:
        await js.add_stream(spec.config())
        log.info("stream created", stream=spec.name, subjects=spec.subjects, replicas=spec.replicas)
        return StreamOutcome(spec.name, "created")
    if not spec.owned:
        return StreamOutcome(spec.name, "present")
    changed = tuple(_drift(info.config, spec.config()))
    if not changed:
        return StreamOutcome(spec.name, "unchanged")
    try:
        await js.update_stream(spec.config())
    except Exception as exc:
        # E.g. R3 asked of a single server: serve on with the stream as it is, and say why, loudly.
        log.error("stream settings not applied", stream=spec.name, changed=list(changed), error=str(exc))
        return StreamOutcome(spec.name, "not-applied", changed, str(exc) or type(exc).__name__)
    log.info("stream updated", stream=spec.name, changed=list(changed))
    return StreamOutcome(spec.name, "updated", changed)


async def check_stream(js: JetStreamContext, spec: StreamSpec) -> bool:
    """Look a stream up without changing it (a service that does not provision): False while it does
    not exist; a warning when the stream of a service's own events differs from its settings (the
    provisioner applies them; until then the stream runs as it is)."""
    try:
        info = await js.stream_info(spec.name)
    except NotFoundError:
        return False
    changed = _drift(info.config, spec.config()) if spec.owned else []
    if changed:
        log.warning(
            "stream settings differ from this service's; run `tejido streams provision`",
            stream=spec.name,
            changed=changed,
        )
    return True


def _refused(exc: Exception) -> bool:
    """Errors that waiting cannot fix: wrong credentials, a user without the right to manage streams."""
    text = (str(exc) or type(exc).__name__).lower()
    return "authoriz" in text or "permission" in text


async def provision_streams(
    nats_url: str,
    specs: Sequence[StreamSpec],
    user: str | None = None,
    password: str | None = None,
    *,
    wait_seconds: float = 60.0,
) -> list[StreamOutcome]:
    """Create and reconcile ``specs`` on the server(s) at ``nats_url`` (comma-separated for a cluster) as
    ``user``. NATS, or a cluster's JetStream, may still be starting: connection and API failures are
    retried with backoff for ``wait_seconds``; refused credentials or permissions are not."""
    servers = [u.strip() for u in nats_url.split(",") if u.strip()]
    if not servers:
        raise ValueError("no NATS URL to provision streams on")
    credentials = {"user": user, "password": password or ""} if user is not None else {}
    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    # A request the user's permissions refuse gets no reply (a timeout); the server says why here.
    violations: list[str] = []

    async def on_error(exc: Exception) -> None:
        if "permissions violation" in str(exc).lower():
            violations.append(str(exc))

    while True:
        try:
            nc = await nats.connect(
                servers=servers,
                name="tejido-provision",
                connect_timeout=3,
                allow_reconnect=False,
                error_cb=on_error,
                **credentials,
            )
            try:
                js = nc.jetstream(timeout=10)
                return [await ensure_stream(js, spec) for spec in specs]
            finally:
                await nc.close()
        except Exception as exc:
            if violations:
                who = f"NATS user {user!r}" if user else "a connection without credentials"
                raise PermissionError(
                    f"{who} may not manage streams ({violations[0]}); provision as the operator"
                ) from exc
            if _refused(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("stream provisioning failed, retrying", url=nats_url, error=str(exc) or repr(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
