"""uvicorn's HTTP protocol with a header timeout: a client must finish sending a request's headers within
``TEJIDO_HEADER_TIMEOUT_SECONDS`` (10 s) of opening the connection or starting the request, or it gets a
408 and the connection is closed. uvicorn has no such timeout of its own; without it a client sending
one header byte at a time holds a connection open for ever.

Use it with ``uvicorn --http tejido_common.http_protocol:HeaderTimeoutProtocol`` (``tejido up`` and
``docker-compose.yml`` do). Slow *bodies* are cut by :mod:`tejido_common.timeouts`.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_HEADER_TIMEOUT = 10.0
HEADER_TIMEOUT_PROTOCOL = "tejido_common.http_protocol:HeaderTimeoutProtocol"
_BODY = json.dumps(
    {
        "type": "https://tejido.dev/problems/request-timeout",
        "title": "Request headers too slow",
        "status": 408,
        "detail": "the request headers did not arrive in time",
    }
).encode()
RESPONSE_408 = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\nconnection: close\r\n"
    + f"content-length: {len(_BODY)}\r\n\r\n".encode()
    + _BODY
)


def header_timeout() -> float:
    try:
        return float(os.environ.get("TEJIDO_HEADER_TIMEOUT_SECONDS", DEFAULT_HEADER_TIMEOUT))
    except ValueError:
        return DEFAULT_HEADER_TIMEOUT


class HeaderTimeoutProtocol(HttpToolsProtocol):
    _header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(header_timeout(), self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Idle keep-alive connections are uvicorn's own keep-alive timeout's business.
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.write(RESPONSE_408)
            self.transport.close()
