"""Slow request bodies are cut off: a client trickling bytes must not hold a worker for ever.

A body must keep arriving: no gap longer than ``idle_seconds`` between chunks, and on the whole at least
``min_rate`` bytes per second after a ``grace_seconds`` head start (a 200 MB import at 1 MB/s is fine;
one byte every 5 s is cut after the grace). A cut body gets a 408 problem (if no response has started)
and the connection is closed.
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tejido_common.logging import get_logger
from tejido_common.middleware import send_problem_and_close

log = get_logger(__name__)


class _SlowBody(Exception):
    pass


class BodyReadTimeoutMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        idle_seconds: float = 15.0,
        grace_seconds: float = 30.0,
        min_rate: float = 10_240,
    ):
        self.app = app
        self.idle_seconds = idle_seconds
        self.grace_seconds = grace_seconds
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        received = 0
        body_done = False
        response_started = False

        async def timed_receive() -> Message:
            nonlocal received, body_done
            if body_done:
                return await receive()  # after the body: waiting for a disconnect is not slowness
            allowed_until = started + self.grace_seconds + received / self.min_rate
            wait = min(self.idle_seconds, allowed_until - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), max(wait, 0.001))
            except TimeoutError:
                raise _SlowBody() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, tracking_send)
        except _SlowBody:
            log.warning("request body too slow, cut off", path=scope["path"], received=received)
            if not response_started:
                await _send_408(send, scope["path"], received)


async def _send_408(send: Send, path: str, received: int) -> None:
    await send_problem_and_close(
        send,
        {
            "type": "https://tejido.dev/problems/request-timeout",
            "title": "Request body too slow",
            "status": 408,
            "detail": f"the request body stopped arriving or arrived too slowly (after {received} bytes)",
            "instance": path,
            "errors": [{"field": "body", "pointer": "#/", "reason": "sent too slowly"}],
        },
    )
