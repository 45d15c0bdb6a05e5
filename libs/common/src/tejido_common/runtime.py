"""What every service shares at run time: database, broker, outbox relay, consumers, health, errors.

A service's ``create_app(settings)`` builds a :class:`ServiceRuntime` and calls :func:`build_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.middleware import Middleware

from tejido_common.broker import DEAD_LETTER_STREAM, Broker, StreamSpec, service_stream
from tejido_common.consumer import ConsumerSpec, EventConsumer, prune_processed, split_by_family
from tejido_common.db import Database
from tejido_common.executors import DaemonExecutor
from tejido_common.identity import InternalIdentityMiddleware, load_internal_secret
from tejido_common.logging import configure_logging, get_logger
from tejido_common.metrics import (
    CONSUMER_LAG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PARKED,
    OUTBOX_PENDING,
    MetricsMiddleware,
    render_latest,
)
from tejido_common.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from tejido_common.migrations import upgrade
from tejido_common.natsauth import inbox_prefix
from tejido_common.outbox import OutboxRelay, prune_sent
from tejido_common.problems import install_problem_handlers, problem_response
from tejido_common.settings import ServiceSettings
from tejido_common.streams import stream_settings
from tejido_common.timeouts import BodyReadTimeoutMiddleware

T = TypeVar("T")

log = get_logger(__name__)


class ServiceRuntime:
    """Owns the long-lived parts of one service process and starts/stops them with the app."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        migrations_dir: Path | None = None,
        produces: bool = True,
        consumers: Sequence[ConsumerSpec] = (),
        extra_streams: Sequence[StreamSpec] = (),
    ):
        self.settings = settings
        self.migrations_dir = migrations_dir
        self.db = Database(settings.resolved_database_url(), settings.resolved_schema())
        self.db.max_event_bytes = settings.max_event_bytes
        streams: list[StreamSpec] = list(extra_streams)
        if produces:
            streams.append(service_stream(settings.service_name, **self.stream_settings()))
        self.broker = Broker(
            settings.nats_url,
            f"tejido-{settings.service_name}",
            streams,
            user=settings.nats_user,
            password=settings.nats_password.get_secret_value() if settings.nats_password else None,
            inbox_prefix=inbox_prefix(settings.service_name),
            provision=settings.provision_streams,
        )
        self.relay: OutboxRelay | None = None
        if produces:
            self.relay = OutboxRelay(
                self.db,
                self.broker,
                poll_seconds=settings.outbox_poll_seconds,
                batch_size=settings.outbox_batch_size,
                park_after=settings.outbox_park_after,
                mark_every=settings.outbox_mark_every,
                service=settings.service_name,
            )
        # Health checks, metrics and pruning get their own thread: request work never delays them.
        self.health_executor = DaemonExecutor(1, thread_name_prefix=f"health-{settings.service_name}")
        self._prune_task: asyncio.Task[None] | None = None
        self.consumers: list[EventConsumer] = []
        for spec in consumers:
            self.add_consumer(spec)

    def add_consumer(self, spec: ConsumerSpec) -> EventConsumer:
        """Register a consumer before start-up (handlers usually need ``self.db`` first). A spec that
        handles several event types runs as one durable per type (:func:`split_by_family`); the
        last one is returned."""
        consumers = [self._add_one_consumer(part) for part in split_by_family(spec)]
        return consumers[-1]

    def _add_one_consumer(self, spec: ConsumerSpec) -> EventConsumer:
        streams = self.broker.streams
        # A consumer needs the producer's stream and the dead letters. Provisioning itself (open
        # servers), it creates them if missing, so subscribing never waits on start-up order;
        # create-only (owned=False): the producer's settings are reconciled by the producer alone.
        # Under a provisioner it waits until they exist.
        for needed in (
            dataclasses.replace(DEAD_LETTER_STREAM, replicas=self.settings.stream_replicas),
            StreamSpec(
                name=spec.stream,
                subjects=[f"{spec.stream.lower()}.>"],
                owned=False,
                **self.stream_settings(),
            ),
        ):
            if all(s.name != needed.name for s in streams):
                streams.append(needed)
        consumer = EventConsumer(
            spec,
            self.db,
            self.broker,
            max_deliveries=self.settings.consumer_max_deliveries,
            retry_delay=self.settings.consumer_retry_delay_seconds,
            max_retry_delay=self.settings.consumer_retry_max_delay_seconds,
            service=self.settings.service_name,
        )
        self.consumers.append(consumer)
        return consumer

    def stream_settings(self) -> dict[str, Any]:
        return stream_settings(self.settings)

    async def in_health_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.health_executor, fn, *args)

    def prune(self) -> dict[str, int]:
        """Delete what no longer protects anything: sent outbox rows older than the duplicate window,
        processed ids older than the stream keeps messages (never, when streams keep everything)."""
        s = self.settings
        pruned = {"outbox": 0, "processed_events": 0}
        if self.relay is not None:
            pruned["outbox"] = prune_sent(self.db, timedelta(seconds=s.stream_duplicate_window_seconds))
        if self.consumers and s.stream_max_age_seconds > 0:
            pruned["processed_events"] = prune_processed(self.db, timedelta(seconds=s.stream_max_age_seconds))
        return pruned

    async def _prune_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.prune_interval_seconds)
            try:
                pruned = await self.in_health_thread(self.prune)
                if any(pruned.values()):
                    log.info("pruned messaging tables", **pruned)
            except Exception as exc:
                log.warning("pruning failed, will try again", error=str(exc))

    def migrate(self) -> None:
        if self.migrations_dir is not None:
            upgrade(self.db, self.migrations_dir)
        self.db.analyze()

    async def start(self) -> None:
        await asyncio.to_thread(self.migrate)
        await self.broker.start()
        if self.relay:
            await self.relay.start()
        if self.settings.consumers_enabled:
            for consumer in self.consumers:
                await consumer.start()
        if self.settings.prune_interval_seconds > 0:
            self._prune_task = asyncio.create_task(self._prune_forever(), name="prune")

    async def stop(self) -> None:
        if self._prune_task is not None:
            self._prune_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prune_task
        for consumer in self.consumers:
            await consumer.stop()
        if self.relay:
            await self.relay.stop()
        await self.broker.close()
        self.health_executor.shutdown(wait=False, cancel_futures=True)
        self.db.dispose()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.in_health_thread(self.db.ping), 5)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        checks["nats"] = "ok" if self.broker.connected else (self.broker.problem or "unavailable")
        return checks

    async def degraded(self) -> dict[str, str]:
        """What works but needs an operator: parked outbox rows, a relay that stopped moving."""
        if self.relay is None:
            return {}
        try:
            stats = await asyncio.wait_for(self.in_health_thread(self.relay.stats), 5)
        except Exception as exc:
            return {"outbox": f"unknown: {type(exc).__name__}"}
        found: dict[str, str] = {}
        if stats.parked:
            found["outbox_parked"] = (
                f"{stats.parked} parked row(s), {stats.held} held behind them; "
                "see `tejido outbox list` and `tejido outbox retry`"
            )
        if (
            self.broker.connected
            and stats.oldest_pending_age_seconds > self.settings.relay_stuck_after_seconds
        ):
            found["relay_stuck"] = f"oldest pending event is {stats.oldest_pending_age_seconds:.0f}s old" + (
                f"; last error: {self.relay.last_error}" if self.relay.last_error else ""
            )
        return found

    async def refresh_metrics(self) -> None:
        """Gauges that are read from the database and the broker when Prometheus scrapes."""
        name = self.settings.service_name
        if self.relay is not None:
            with contextlib.suppress(Exception):
                stats = await asyncio.wait_for(self.in_health_thread(self.relay.stats), 5)
                OUTBOX_PENDING.labels(name).set(stats.pending)
                OUTBOX_PARKED.labels(name).set(stats.parked)
                OUTBOX_OLDEST_AGE.labels(name).set(stats.oldest_pending_age_seconds)
        if self.broker.connected:
            for consumer in self.consumers:
                with contextlib.suppress(Exception):
                    info = await self.broker.js.consumer_info(
                        consumer.spec.stream, consumer.spec.name, timeout=2
                    )
                    CONSUMER_LAG.labels(name, consumer.spec.name).set(info.num_pending or 0)


def build_app(
    settings: ServiceSettings,
    runtime: ServiceRuntime | None,
    *,
    title: str,
    description: str = "",
    routers: Sequence[APIRouter] = (),
    body_limit_overrides: dict[str, int] | None = None,
    version: str = "0.1.0",
    readiness: Callable[[], Awaitable[dict[str, str]]] | None = None,
    openapi_url: str | None = "/openapi.json",
    trust_gateway_only: bool = True,
    inner_middleware: Sequence[Middleware] = (),
) -> FastAPI:
    """``readiness`` replaces ``runtime.readiness`` for ``/readyz`` (e.g. the gateway checks its upstreams);
    ``openapi_url=None`` drops FastAPI's own ``/openapi.json`` and ``/docs`` so an app can serve its own.
    ``trust_gateway_only`` (services) refuses requests without the gateway's signed principal
    (``tejido_common.identity``); the gateway itself authenticates its clients instead.
    ``inner_middleware`` runs inside the request context (correlation id bound), outermost first."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    check_readiness = readiness or (runtime.readiness if runtime is not None else None)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # asyncio.to_thread's default pool is cpu+4 threads (6 on 2 cores): a handful of slow uploads
        # would take them all. Match anyio's 40 threads for sync routes (the backbone has its own).
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(settings.request_threads, thread_name_prefix="request")
        )
        if runtime is not None:
            await runtime.start()
        # Start-up objects live as long as the process: keep the garbage collector from rescanning them.
        gc.collect()
        gc.freeze()
        log.info("service started", port=settings.port)
        try:
            yield
        finally:
            if runtime is not None:
                await runtime.stop()

    app = FastAPI(
        title=title, description=description, version=version, lifespan=lifespan, openapi_url=openapi_url
    )
    app.state.settings = settings
    app.state.runtime = runtime
    install_problem_handlers(app)
    for extra in reversed(inner_middleware):
        app.add_middleware(extra.cls, *extra.args, **extra.kwargs)
    if trust_gateway_only:
        app.add_middleware(InternalIdentityMiddleware, secret=load_internal_secret(settings))
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, overrides=body_limit_overrides
    )
    app.add_middleware(
        BodyReadTimeoutMiddleware,
        idle_seconds=settings.body_idle_timeout_seconds,
        grace_seconds=settings.body_grace_seconds,
        min_rate=settings.body_min_bytes_per_second,
    )
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(MetricsMiddleware, service=settings.service_name)

    @app.get("/healthz", tags=["health"], summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz", tags=["health"], summary="Readiness: database and NATS reachable")
    async def readyz(request: Request) -> Any:
        checks = await check_readiness() if check_readiness is not None else {}
        if all(v == "ok" for v in checks.values()):
            # Degraded still serves (200): parked rows or a stuck relay call for an operator, not for
            # taking the service out of rotation.
            degraded = await runtime.degraded() if runtime is not None else {}
            if degraded:
                return {
                    "status": "degraded",
                    "service": settings.service_name,
                    "checks": checks,
                    "degraded": degraded,
                }
            return {"status": "ready", "service": settings.service_name, "checks": checks}
        return problem_response(
            503,
            "Service not ready",
            code="not-ready",
            detail=", ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok"),
            instance="/readyz",
            extra={"checks": checks, "service": settings.service_name},
        )

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        if runtime is not None:
            await runtime.refresh_metrics()
        body, content_type = render_latest()
        return Response(body, media_type=content_type)

    for router in routers:
        app.include_router(router)
    return app


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


__all__ = ["JSONResponse", "ServiceRuntime", "build_app", "runtime_of"]
