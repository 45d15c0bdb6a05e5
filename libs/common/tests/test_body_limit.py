"""A body over the limit gets its 413 even when the client sends the whole body before reading: the
server reads (and drops) a bounded rest of the body first, instead of closing on unread data, which
resets the connection under the client (seen as "connection reset" / "broken pipe", no answer)."""

from __future__ import annotations

import socket
import time

from fastapi import FastAPI, Request

from tejido_common.middleware import BodySizeLimitMiddleware
from tejido_common.testing import ServerThread

LIMIT = 1024 * 1024


def app() -> FastAPI:
    api = FastAPI()

    @api.post("/items")
    async def items(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    api.add_middleware(BodySizeLimitMiddleware, max_bytes=LIMIT)
    return api


def post_then_read(port: int, size: int, *, chunked: bool = False) -> bytes:
    """Send the headers, give the server time to answer, then the whole body; only then read."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        framing = b"transfer-encoding: chunked" if chunked else f"content-length: {size}".encode()
        sock.sendall(
            b"POST /items HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" + framing + b"\r\n\r\n"
        )
        time.sleep(0.3)
        body = b"x" * size
        if chunked:
            step = 64 * 1024
            for start in range(0, size, step):
                part = body[start : start + step]
                sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        else:
            sock.sendall(body)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_an_oversized_body_sent_in_full_still_gets_its_413() -> None:
    server = ServerThread(app()).start()
    try:
        for chunked in (False, True):
            answer = post_then_read(server.port, 2 * LIMIT, chunked=chunked)
            assert answer.startswith(b"HTTP/1.1 413"), (chunked, answer[:200])
            assert b"payload-too-large" in answer
    finally:
        server.stop()
