"""ASGI middleware: correlation ids on every request, and a hard limit on request body size."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tejido_common.context import bind_correlation_id
from tejido_common.ids import new_id
from tejido_common.logging import get_logger

REQUEST_ID_HEADER = "x-request-id"
# Before answering 413 the rest of an oversized body is read and dropped, up to these bounds: a client
# that sends its whole body before reading (most do) then gets the answer instead of a connection reset
# (closing a socket with unread data resets it). Beyond them the connection is closed as before.
DRAIN_MAX_BYTES = 16 * 1024 * 1024
DRAIN_MAX_SECONDS = 5.0
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
log = get_logger("tejido.http")


class RequestContextMiddleware:
    """Takes ``X-Request-ID`` (or makes one), binds it for logs and events, echoes it back."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else new_id()
        bind_correlation_id(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["path"] not in ("/healthz", "/readyz"):
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )


class BodySizeLimitMiddleware:
    """Rejects bodies over ``max_bytes`` with 413, by Content-Length or while streaming.

    ``overrides`` maps path regexes to larger limits (bulk import endpoints).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, overrides: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = [(re.compile(p), n) for p, n in (overrides or {}).items()]

    def _limit(self, path: str) -> int:
        for pattern, limit in self.overrides:
            if pattern.search(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await drain_request_body(scope, receive)
            await _send_413(send, limit, scope["path"])
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not response_started:
                await drain_request_body(scope, receive)
                await _send_413(send, limit, scope["path"])


class _TooLarge(Exception):
    pass


def _expects_continue(scope: Scope) -> bool:
    """A client that sent ``Expect: 100-continue`` waits for the answer before sending its body: reading
    would only ask it for the body we are about to refuse."""
    expect: bytes = dict(scope["headers"]).get(b"expect", b"")
    return expect.lower() == b"100-continue"


async def drain_request_body(scope: Scope, receive: Receive) -> None:
    """Before refusing a request without reading its body: read and drop the rest of it, within
    ``DRAIN_MAX_BYTES``/``DRAIN_MAX_SECONDS``, so that a client sending its whole body before reading
    gets the answer rather than a connection reset."""
    headers = dict(scope["headers"])
    length = headers.get(b"content-length", b"0")
    if (length.isdigit() and int(length) > DRAIN_MAX_BYTES) or _expects_continue(scope):
        return
    if length in (b"", b"0") and b"transfer-encoding" not in headers:
        return
    drained = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DRAIN_MAX_SECONDS):
            while drained <= DRAIN_MAX_BYTES:
                message = await receive()
                if message["type"] != "http.request":
                    return
                drained += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return


async def send_problem_and_close(send: Send, problem: dict[str, object]) -> None:
    """Answer with a problem document from raw ASGI middleware (before any route ran) and close the
    connection: the request body was not read to its end, so the connection cannot be reused."""
    from tejido_common.context import current_correlation_id

    body = json.dumps({**problem, "request_id": current_correlation_id()}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": problem["status"],
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_413(send: Send, limit: int, path: str) -> None:
    await send_problem_and_close(
        send,
        {
            "type": "https://tejido.dev/problems/payload-too-large",
            "title": "Request body too large",
            "status": 413,
            "detail": f"the request body exceeds the limit of {limit} bytes",
            "instance": path,
            "errors": [{"field": "body", "pointer": "#/", "reason": f"larger than {limit} bytes"}],
        },
    )
