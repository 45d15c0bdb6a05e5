"""The API gateway: the platform's only public entry point. It authenticates every caller (API keys,
JWT bearer tokens), applies the route × role policy and rate limits, routes ``/v1/<resource>`` to the
owning service with the caller's identity signed for it, serves one merged OpenAPI document, and reports
the upstreams' readiness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from tejido_common.runtime import ServiceRuntime, build_app
from tejido_gateway.access.guard import GuardMiddleware
from tejido_gateway.access.service import Authenticator
from tejido_gateway.access.tokens import TokenVerifier
from tejido_gateway.keys.api import router as keys_router
from tejido_gateway.keys.service import KeyService
from tejido_gateway.openapi import OpenAPIAggregator
from tejido_gateway.protection.headers import SecurityHeadersMiddleware
from tejido_gateway.protection.ratelimit import RateLimiter
from tejido_gateway.protection.sharing import SharedRateLimits
from tejido_gateway.proxy import Gateway, ProxyMiddleware
from tejido_gateway.settings import GatewaySettings
from tejido_gateway.webhooks import install_webhooks

MIGRATIONS = Path(__file__).parent / "migrations"
PROXIED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(settings: GatewaySettings) -> FastAPI:
    # The gateway's own database (API keys, webhook subscriptions) and broker connection; it publishes
    # nothing, so it has no stream of its own.
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS, produces=False)
    gateway = Gateway(settings)
    keys = KeyService(runtime.db, cache_seconds=settings.key_cache_seconds)
    authenticator = Authenticator(keys, TokenVerifier(settings))
    limiter = RateLimiter(settings.rate_limit_per_key, settings.rate_limit_per_address)
    sharing = SharedRateLimits(limiter, runtime.broker, settings.rate_limit_share_seconds)
    webhooks, webhook_routers = install_webhooks(runtime, settings)
    # The router's lifespan is merged into build_app's by include_router: no hook needed for the client.
    router = APIRouter(lifespan=gateway.lifespan)
    if settings.rate_limit_share_seconds > 0:
        router.include_router(APIRouter(lifespan=sharing.lifespan))

    @router.get("/openapi.json", include_in_schema=False)
    async def openapi_json(request: Request) -> Any:
        return JSONResponse(await openapi.document())

    @router.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Tejido API")

    @router.api_route("/v1/{path:path}", methods=PROXIED_METHODS, include_in_schema=False)
    async def proxy(request: Request) -> Response:
        return await gateway.forward(request)

    async def readiness() -> dict[str, str]:
        return {**await runtime.readiness(), **await gateway.readiness()}

    app = build_app(
        settings,
        runtime,
        title="Tejido gateway",
        description="Routes /v1 resources to the Tejido services.",
        # Own routes first: the catch-all proxy route must not shadow them.
        routers=[keys_router, *webhook_routers, router],
        body_limit_overrides={
            r":import$": settings.import_max_body_bytes,
            r"^/v1/assessments/[^/]+/answers/[^/]+/evidence$": settings.evidence_max_body_bytes,
        },
        readiness=readiness,
        # Our own /openapi.json and /docs describe the upstreams, not the gateway's few routes.
        openapi_url=None,
        trust_gateway_only=False,
        inner_middleware=[
            Middleware(GuardMiddleware, authenticator=authenticator, limiter=limiter),
            Middleware(ProxyMiddleware, gateway=gateway),
        ],
    )
    openapi = OpenAPIAggregator(gateway, settings.openapi_cache_seconds, own=lambda: own_openapi(app))
    # Outermost: a browser's CORS preflight is answered before authentication (it carries no
    # credentials), and every response, refusals included, gets the security headers.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_allow_origins,
        allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "X-API-Key", "Content-Type", "If-Match", "X-Request-ID"],
        expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
        allow_credentials=False,
        max_age=600,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.state.gateway = gateway
    app.state.keys = keys
    app.state.webhooks = webhooks
    app.state.rate_limit_sharing = sharing
    return app


def own_openapi(app: FastAPI) -> dict[str, Any]:
    """The gateway's own routes (keys, identity, webhooks) as an OpenAPI document, for the merge."""
    from fastapi.openapi.utils import get_openapi

    return get_openapi(title=app.title, version=app.version, routes=app.routes)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings come from ``TEJIDO_GATEWAY_*`` variables."""
    return create_app(GatewaySettings())
