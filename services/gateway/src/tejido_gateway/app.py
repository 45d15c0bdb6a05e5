"""The API gateway: the platform's only public entry point. It routes ``/v1/<resource>`` to the
owning service, serves one merged OpenAPI document, and reports the upstreams' readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from tejido_common.service import build_app
from tejido_gateway.openapi import OpenAPIAggregator
from tejido_gateway.proxy import Gateway
from tejido_gateway.settings import GatewaySettings

PROXIED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(settings: GatewaySettings) -> FastAPI:
    gateway = Gateway(settings)
    openapi = OpenAPIAggregator(gateway, settings.openapi_cache_seconds)
    # The router's lifespan is merged into build_app's by include_router: no hook needed for the client.
    router = APIRouter(lifespan=gateway.lifespan)

    @router.get("/openapi.json", include_in_schema=False)
    async def openapi_json() -> Any:
        return JSONResponse(await openapi.document())

    @router.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Tejido API")

    @router.api_route("/v1/{path:path}", methods=PROXIED_METHODS, include_in_schema=False)
    async def proxy(request: Request) -> Response:
        return await gateway.forward(request)

    app = build_app(
        settings,
        None,
        title="Tejido gateway",
        description="Routes /v1 resources to the Tejido services.",
        routers=[router],
        body_limit_overrides={r":import$": settings.import_max_body_bytes},
        readiness=gateway.readiness,
        # Our own /openapi.json and /docs describe the upstreams, not the gateway's few routes.
        openapi_url=None,
        trust_gateway_only=False,
    )
    app.state.gateway = gateway
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings come from ``TEJIDO_GATEWAY_*`` variables."""
    return create_app(GatewaySettings())
