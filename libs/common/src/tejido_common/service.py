"""What every service shares at run time: database, broker, outbox relay, consumers, health, errors.

A service's ``create_app(settings)`` builds a :class:`ServiceRuntime` and calls :func:`build_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware import Middleware

from tejido_common.broker import DEAD_LETTER_STREAM, Broker, StreamSpec, service_stream
from tejido_common.consumer import ConsumerSpec, EventConsumer
from tejido_common.db import Database
from tejido_common.identity import InternalIdentityMiddleware, load_internal_secret
from tejido_common.logging import configure_logging, get_logger
from tejido_common.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from tejido_common.migrations import upgrade
from tejido_common.natsauth import inbox_prefix
from tejido_common.outbox import OutboxRelay
from tejido_common.problems import install_problem_handlers, problem_response
from tejido_common.settings import ServiceSettings

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
        streams: list[StreamSpec] = list(extra_streams)
        if produces:
            streams.append(service_stream(settings.service_name))
        self.broker = Broker(
            settings.nats_url,
            f"tejido-{settings.service_name}",
            streams,
            user=settings.nats_user,
            password=settings.nats_password.get_secret_value() if settings.nats_password else None,
            inbox_prefix=inbox_prefix(settings.service_name),
        )
        self.relay: OutboxRelay | None = None
        if produces:
            self.relay = OutboxRelay(
                self.db,
                self.broker,
                poll_seconds=settings.outbox_poll_seconds,
                batch_size=settings.outbox_batch_size,
            )
        self.consumers: list[EventConsumer] = []
        for spec in consumers:
            self.add_consumer(spec)

    def add_consumer(self, spec: ConsumerSpec) -> EventConsumer:
        """Register a consumer before start-up (handlers usually need ``self.db`` first)."""
        streams = self.broker.streams
        # A consumer may start before its producer ever ran: provision the producer's stream the
        # same way the producer does (idempotent), so subscribing never waits on start-up order.
        for needed in (
            DEAD_LETTER_STREAM,
            StreamSpec(name=spec.stream, subjects=[f"{spec.stream.lower()}.>"]),
        ):
            if needed not in streams:
                streams.append(needed)
        consumer = EventConsumer(
            spec,
            self.db,
            self.broker,
            max_deliveries=self.settings.consumer_max_deliveries,
            retry_delay=self.settings.consumer_retry_delay_seconds,
        )
        self.consumers.append(consumer)
        return consumer

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

    async def stop(self) -> None:
        for consumer in self.consumers:
            await consumer.stop()
        if self.relay:
            await self.relay.stop()
        await self.broker.close()
        self.db.dispose()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.to_thread(self.db.ping)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        checks["nats"] = "ok" if self.broker.connected else "unavailable"
        return checks


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
    app.add_middleware(RequestContextMiddleware)

    @app.get("/healthz", tags=["health"], summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz", tags=["health"], summary="Readiness: database and NATS reachable")
    async def readyz(request: Request) -> Any:
        checks = await check_readiness() if check_readiness is not None else {}
        if all(v == "ok" for v in checks.values()):
            return {"status": "ready", "service": settings.service_name, "checks": checks}
        return problem_response(
            503,
            "Service not ready",
            code="not-ready",
            detail=", ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok"),
            instance="/readyz",
            extra={"checks": checks, "service": settings.service_name},
        )

    for router in routers:
        app.include_router(router)
    return app


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


__all__ = ["JSONResponse", "ServiceRuntime", "build_app", "runtime_of"]
