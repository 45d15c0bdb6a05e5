"""Webhooks for funders' systems. ``install_webhooks(app, runtime, settings)`` adds the routes, the event
consumers (public events of every stream) and the dispatcher, and puts the service on ``app.state``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI

from tejido_common.consumer import ConsumerSpec
from tejido_common.natsauth import CONSUMES
from tejido_common.runtime import ServiceRuntime
from tejido_gateway.settings import GatewaySettings
from tejido_gateway.webhooks.api import router
from tejido_gateway.webhooks.service import WebhookService


def install_webhooks(
    runtime: ServiceRuntime, settings: GatewaySettings
) -> tuple[WebhookService, list[APIRouter]]:
    service = WebhookService(runtime.db, settings)
    if not settings.webhooks_enabled:
        return service, [router]
    # One durable consumer per (stream, filter) the gateway's NATS user is granted: public events only.
    for stream, filters in CONSUMES["gateway"].items():
        for i, filter_subject in enumerate(filters):
            runtime.add_consumer(
                ConsumerSpec(
                    name=f"gateway-webhooks-{stream.lower()}-{i}",
                    stream=stream,
                    filter_subject=filter_subject,
                    fallback=service.fan_out,
                )
            )

    @contextlib.asynccontextmanager
    async def dispatcher(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop), name="webhook-dispatcher")
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 15)

    lifecycle = APIRouter(lifespan=dispatcher)
    return service, [router, lifecycle]


__all__ = ["WebhookService", "install_webhooks"]
