"""The reverse proxy: one shared HTTP client, bodies streamed both ways, transport failures as problems."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request, Response
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tejido_common.context import current_correlation_id
from tejido_common.identity import (
    ANONYMOUS,
    PRINCIPAL_HEADER,
    Principal,
    load_internal_secret,
    sign_principal,
)
from tejido_common.logging import get_logger
from tejido_common.problems import problem_response
from tejido_gateway.routes import SERVICE_LABELS, service_for
from tejido_gateway.settings import GatewaySettings

log = get_logger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

try:  # pragma: no cover - depends on what is installed
    import sniffio  # noqa: F401
except ImportError:
    # httpcore runs ``import sniffio`` several times per request to learn the async library, and a
    # failed import is not cached: each one searched the whole sys.path (~1.8 ms of every proxied
    # request in the profile). A None entry makes that import fail at once; httpcore then assumes
    # asyncio, which is what we run.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

# Upstream bodies up to this size (declared Content-Length) are read whole and sent in one piece:
# cheaper than streaming (no per-response task group watching for a disconnect). Bigger or
# unsized bodies (exports, feeds) are streamed as they arrive.
BUFFER_MAX_BYTES = 256 * 1024

Headers = list[tuple[bytes, bytes]]

# Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, never the end-to-end message. ``host``
# is the upstream's, and ``expect: 100-continue`` was already answered by our own server.
HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"te", b"trailer", b"transfer-encoding", b"upgrade", b"host", b"expect"}
)
# The gateway sets these itself: forwarding the client's copy would let it spoof them.
REQUEST_DROP = HOP_BY_HOP | {
    b"x-request-id",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    PRINCIPAL_HEADER.encode(),
    # The client's credentials end here: upstreams trust the signed principal, never a token.
    b"authorization",
    b"x-api-key",
    b"cookie",
}
# Our uvicorn and request-id middleware add these to every response; an upstream copy would be a duplicate.
RESPONSE_DROP = HOP_BY_HOP | {b"x-request-id", b"date", b"server"}


def end_to_end(headers: Headers, drop: frozenset[bytes]) -> Headers:
    """Lower-cased headers without hop-by-hop ones, including any the Connection header names."""
    named = {
        token.strip().lower() for k, v in headers if k.lower() == b"connection" for token in v.split(b",")
    }
    return [
        (name, v)
        for k, v in headers
        if (name := k.lower()) not in drop and name not in named and not name.startswith(b"proxy-")
    ]


class UpstreamResponse(StreamingResponse):
    """Streams the upstream body as it arrives. The upstream response is closed in ``finally`` rather
    than a BackgroundTask because Starlette skips background tasks when the client disconnects, which
    would leak the pooled connection."""

    def __init__(self, upstream: httpx.Response):
        super().__init__(upstream.aiter_raw(), status_code=upstream.status_code)
        # Raw bytes (still content-encoded) with a list of headers, so repeated ones (Set-Cookie) survive.
        self.raw_headers = end_to_end(upstream.headers.raw, RESPONSE_DROP)
        self.upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.upstream.aclose()


class ProxyMiddleware:
    """Sends ``/v1`` requests for the upstreams straight to :meth:`Gateway.forward`, after the guard,
    without FastAPI's router, dependency and exception layers (a measurable share of the hop). The
    gateway's own resources (keys, me, webhooks) go on to their routes."""

    def __init__(self, app: ASGIApp, gateway: Gateway):
        self.app = app
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/") or service_for(path) == "gateway":
            await self.app(scope, receive, send)
            return
        response = await self.gateway.forward(Request(scope, receive))
        await response(scope, receive, send)


async def _respond(upstream: httpx.Response) -> Response:
    length = upstream.headers.get("content-length", "")
    if not (length.isdigit() and int(length) <= BUFFER_MAX_BYTES):
        return UpstreamResponse(upstream)
    try:
        # Raw bytes (still content-encoded), as the streamed path sends them.
        body = b"".join([chunk async for chunk in upstream.aiter_raw()])
    except httpx.TransportError as exc:
        log.warning("upstream body interrupted", error=str(exc) or type(exc).__name__)
        return problem_response(502, "Bad gateway", code="upstream-unavailable", detail="upstream body lost")
    finally:
        await upstream.aclose()
    response = Response(body, status_code=upstream.status_code)
    response.raw_headers = end_to_end(upstream.headers.raw, RESPONSE_DROP)
    return response


class Gateway:
    def __init__(self, settings: GatewaySettings):
        self.settings = settings
        self.upstreams = settings.upstreams()
        self.secret = load_internal_secret(settings)
        self._client: httpx.AsyncClient | None = None
        self._transport: httpx.AsyncHTTPTransport | None = None
        self._timeout: dict[str, float | None] = {}

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("the gateway's HTTP client exists only while the app is running")
        return self._client

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """One pooled client for all upstream traffic, for the app's whole life."""
        s = self.settings
        # The proxy sends through the transport itself: the client layer (cookie jar, redirects, auth,
        # URL and header merging) costs a quarter of the hop, and its cookie jar would keep an
        # upstream's Set-Cookie and send it on with other callers' requests. The client (same pool)
        # serves the gateway's own calls (readiness, OpenAPI).
        transport = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(
                max_connections=s.upstream_max_connections,
                max_keepalive_connections=s.upstream_max_connections,
            ),
            # Upstreams are on the internal network: an HTTP(S)_PROXY for outbound traffic must not apply.
            trust_env=False,
        )
        timeout = httpx.Timeout(s.upstream_timeout, connect=s.upstream_connect_timeout)
        async with httpx.AsyncClient(
            transport=transport, timeout=timeout, trust_env=False, follow_redirects=False
        ) as client:
            self._client = client
            self._transport = transport
            self._timeout = timeout.as_dict()
            app.state.http_client = client
            try:
                yield
            finally:
                self._client = None
                self._transport = None

    async def forward(self, request: Request) -> Response:
        path = request.url.path
        service = service_for(path)
        if service is None:
            return problem_response(
                404,
                "Resource not found",
                code="not-found",
                detail=f"there is no API resource at {path}",
                instance=path,
            )
        if service not in self.upstreams:
            # One of the gateway's own resources, with a method or sub-path its routes do not serve.
            return problem_response(
                405,
                "Method not allowed",
                code="method-not-allowed",
                detail=f"{request.method} {path}",
                instance=path,
            )
        # The raw path keeps the client's percent-encoding (an id containing %2F stays one segment).
        url = self.upstreams[service] + request.scope.get("raw_path", path.encode()).decode("latin-1")
        if query := request.scope.get("query_string", b""):
            url += "?" + query.decode("latin-1")
        has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
        transport = self._transport
        if transport is None:
            raise RuntimeError("the gateway's HTTP transport exists only while the app is running")
        upstream_request = httpx.Request(
            request.method,
            url,
            headers=end_to_end(request.headers.raw, REQUEST_DROP) + self._forwarded(request),
            # Streamed: the body is never held in memory. With the client's Content-Length kept, httpx
            # sends it as is; otherwise chunked.
            content=request.stream() if has_body else None,
            extensions={"timeout": self._timeout},
        )
        principal: Principal = getattr(request.state, "principal", ANONYMOUS)
        upstream_path = upstream_request.url.raw_path.split(b"?", 1)[0].decode("latin-1")
        upstream_request.headers[PRINCIPAL_HEADER] = sign_principal(
            principal, self.secret, request.method, upstream_path
        )
        try:
            try:
                upstream = await transport.handle_async_request(upstream_request)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                # The connection dropped before any answer: a service killed mid-request, or a pooled
                # keep-alive connection it closed. A bodiless read is safe to send once more (on a new
                # connection: a service that is down then answers 503 below); a write may have been
                # applied, so it never is.
                if has_body or request.method not in SAFE_METHODS:
                    raise
                log.info("upstream connection dropped, retrying once", service=service, error=str(exc))
                upstream = await transport.handle_async_request(upstream_request)
            upstream.request = upstream_request
        except httpx.TimeoutException as exc:
            log.warning("upstream timeout", service=service, error=type(exc).__name__)
            return self._problem(
                504, "Gateway timeout", "upstream-timeout", service, "did not respond in time", path
            )
        except httpx.ConnectError as exc:
            # Nobody listening: the service is (re)starting, e.g. restarted by the launcher after a crash.
            log.warning("upstream not accepting connections", service=service, error=str(exc) or "refused")
            response = self._problem(
                503, "Service unavailable", "service-unavailable", service, "is restarting or down", path
            )
            response.headers["Retry-After"] = "2"
            return response
        except httpx.TransportError as exc:
            log.warning("upstream unavailable", service=service, error=str(exc) or type(exc).__name__)
            return self._problem(502, "Bad gateway", "upstream-unavailable", service, "is unavailable", path)
        except ClientDisconnect:
            # The client went away mid-upload: nobody is left to answer (499, as nginx logs it).
            return Response(status_code=499)
        return await _respond(upstream)

    @staticmethod
    def _forwarded(request: Request) -> Headers:
        # Client address and scheme as uvicorn resolved them (it honours X-Forwarded-* only from
        # --forwarded-allow-ips): upstreams get one trustworthy address, never a client-supplied chain.
        client = request.client.host if request.client else "unknown"
        headers = [
            # The id the client gets back, so one id follows the request through every service.
            (b"x-request-id", (current_correlation_id() or "").encode("latin-1")),
            (b"x-forwarded-for", client.encode("latin-1")),
            (b"x-forwarded-proto", request.url.scheme.encode("latin-1")),
        ]
        if host := request.headers.get("host"):
            headers.append((b"x-forwarded-host", host.encode("latin-1")))
        return headers

    @staticmethod
    def _problem(status: int, title: str, code: str, service: str, what: str, path: str) -> Response:
        return problem_response(
            status, title, code=code, detail=f"{SERVICE_LABELS[service]} {what}", instance=path
        )

    async def readiness(self) -> dict[str, str]:
        """Each upstream's own ``/readyz``, asked concurrently."""
        names = list(self.upstreams)
        results = await asyncio.gather(*(self._ready(name) for name in names))
        return dict(zip(names, results, strict=True))

    async def _ready(self, service: str) -> str:
        try:
            response = await self.client.get(
                f"{self.upstreams[service]}/readyz", timeout=self.settings.upstream_connect_timeout
            )
        except httpx.HTTPError as exc:
            return f"unavailable: {type(exc).__name__}"
        return "ok" if response.status_code == 200 else f"not ready: HTTP {response.status_code}"
