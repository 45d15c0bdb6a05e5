"""The gateway as a reverse proxy, over real HTTP to real (double or real-service) upstreams."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tejido_gateway.routes import ROUTES, resource_of, service_for

PROBLEM = "application/problem+json"
MiB = 1_048_576
CSV = {"Content-Type": "text/csv"}


def header_values(echo: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in echo["headers"] if k == name]


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://tejido.dev/problems/") or body["type"] == "about:blank"
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def test_route_table() -> None:
    assert resource_of("/v1/organizations:import") == "organizations"
    assert resource_of("/v1/organizations/abc:archive") == "organizations"
    assert service_for("/v1/match-runs/r1") == "matching"
    assert service_for("/v1/watchlists") == "duediligence"
    assert service_for("/v1/reports/x:render") == "reporting"
    assert service_for("/v1/nothing") is None
    assert service_for("/v1/") is None
    assert service_for("/healthz") is None
    assert service_for("/v1/organizations/../../internal") is None
    assert set(ROUTES.values()) == {"registry", "matching", "duediligence", "reporting", "gateway"}


@pytest.mark.parametrize(
    ("method", "path", "service"),
    [
        ("GET", "/v1/organizations", "registry"),
        ("POST", "/v1/organizations:import", "registry"),
        ("POST", "/v1/organizations/org-1:archive", "registry"),
        ("PATCH", "/v1/alliances/a-1", "registry"),
        ("GET", "/v1/assessments/x", "duediligence"),
        ("DELETE", "/v1/watchlists/w-1", "duediligence"),
        ("PUT", "/v1/targets/t-1", "reporting"),
        ("GET", "/v1/reports", "reporting"),
    ],
)
def test_routes_by_first_segment(
    gateway: Callable[..., str], client: httpx.Client, method: str, path: str, service: str
) -> None:
    gw = gateway()
    response = client.request(method, gw + path)
    assert response.status_code == 200, response.text
    echo = response.json()
    assert (echo["service"], echo["method"], echo["path"]) == (service, method, path)


def test_real_matching_service_is_reached(gateway: Callable[..., str], client: httpx.Client) -> None:
    # The real matching service answers (here its own problem for a request naming no organization),
    # and its problem document comes back unchanged with the request id.
    response = client.get(gateway() + "/v1/matches", headers={"x-request-id": "via-matching"})
    body = assert_problem(response, 422)
    assert body["instance"] == "/v1/matches"
    assert body["request_id"] == "via-matching"


def test_query_path_and_headers_are_forwarded(gateway: Callable[..., str], client: httpx.Client) -> None:
    gw = gateway()
    response = client.post(
        gw + "/v1/organizations/a%2Fb:archive?q=a+b&tag=1&tag=2&name=%C3%A9",
        headers={
            "Content-Type": "application/json",
            "X-Custom": "value",
            "Connection": "x-hop",
            "X-Hop": "must not pass",
            "Proxy-Authorization": "must not pass",
        },
        content=b"{}",
    )
    assert response.status_code == 200
    echo = response.json()
    assert echo["raw_path"] == "/v1/organizations/a%2Fb:archive"
    assert echo["query"] == "q=a+b&tag=1&tag=2&name=%C3%A9"
    # The client's credentials stop at the gateway; the upstream gets the signed principal instead.
    assert header_values(echo, "authorization") == []
    assert len(header_values(echo, "x-tejido-principal")) == 1
    assert header_values(echo, "x-custom") == ["value"]
    assert header_values(echo, "x-hop") == []
    assert header_values(echo, "proxy-authorization") == []
    assert header_values(echo, "x-forwarded-for") == ["127.0.0.1"]
    assert header_values(echo, "x-forwarded-proto") == ["http"]
    assert header_values(echo, "x-forwarded-host") == [urlsplit(gw).netloc]
    assert header_values(echo, "host") != [urlsplit(gw).netloc]
    assert echo["body_bytes"] == 2
    # Response headers: repeated ones survive, ours are not duplicated by the upstream's.
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["x-upstream"] == "registry"
    assert len(response.headers.get_list("date")) == 1
    assert len(response.headers.get_list("server")) == 1


def test_small_bodies_pass_still_encoded(gateway: Callable[..., str], client: httpx.Client) -> None:
    """Bodies read whole (declared and small) pass byte for byte, content encoding and length kept."""
    with client.stream("GET", gateway() + "/v1/organizations/x?gzip=1") as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) == len(raw)
    assert json.loads(gzip.decompress(raw)) == {"service": "registry", "packed": True}


def test_an_upstream_cookie_is_never_sent_on_with_later_requests(
    gateway: Callable[..., str], client: httpx.Client
) -> None:
    """The gateway keeps no cookie jar: a Set-Cookie meant for one caller never reaches the upstream
    again on another caller's request, nor do the gateway's own default headers."""
    gw = gateway()
    assert client.get(gw + "/v1/organizations/a").headers.get_list("set-cookie") == ["a=1", "b=2"]
    with httpx.Client(
        timeout=10, trust_env=False, headers={"Authorization": client.headers["Authorization"]}
    ) as other:
        echo = other.get(gw + "/v1/organizations/b", headers={"Accept-Encoding": "identity"}).json()
    assert header_values(echo, "cookie") == []
    assert header_values(echo, "accept-encoding") == ["identity"]


def test_forwarded_for_is_the_resolved_client(gateway: Callable[..., str], client: httpx.Client) -> None:
    # The test client connects from 127.0.0.1, which uvicorn trusts as a proxy by default: it resolves
    # the client from the header, and the upstream gets that one address, not the client's chain.
    response = client.get(gateway() + "/v1/targets", headers={"X-Forwarded-For": "10.0.0.1, 10.0.0.2"})
    assert header_values(response.json(), "x-forwarded-for") == ["10.0.0.2"]


def test_request_id_is_forwarded_and_echoed(gateway: Callable[..., str], client: httpx.Client) -> None:
    gw = gateway()
    given = client.get(gw + "/v1/indicators", headers={"X-Request-ID": "req-42"})
    assert given.headers.get_list("x-request-id") == ["req-42"]
    assert header_values(given.json(), "x-request-id") == ["req-42"]

    made = client.get(gw + "/v1/indicators")
    request_id = made.headers["x-request-id"]
    assert made.headers.get_list("x-request-id") == [request_id]
    assert header_values(made.json(), "x-request-id") == [request_id]


def test_large_body_streams_under_the_import_limit(gateway: Callable[..., str], client: httpx.Client) -> None:
    gw = gateway(max_body_bytes=64 * 1024, import_max_body_bytes=8 * MiB)
    body = os.urandom(5 * MiB)
    response = client.post(gw + "/v1/organizations:import", content=body, headers=CSV)
    assert response.status_code == 200, response.text
    echo = response.json()
    assert echo["body_bytes"] == len(body)
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert header_values(echo, "content-length") == [str(len(body))]


def test_request_body_is_streamed_not_buffered(
    gateway: Callable[..., str], client: httpx.Client, upstreams: Any
) -> None:
    probe = upstreams.probes["registry"]
    probe.reset()

    def body() -> Iterator[bytes]:
        yield b"x" * 1024
        # Only a streaming gateway lets the upstream see this chunk before the client sends the rest.
        assert probe.first_chunk.wait(10), "upstream did not receive the first chunk before the body ended"
        yield b"y" * 1024

    response = client.post(gateway() + "/v1/organizations:import", content=body(), headers=CSV)
    assert response.status_code == 200
    assert response.json()["body_bytes"] == 2048


def test_response_body_is_streamed_not_buffered(
    gateway: Callable[..., str], client: httpx.Client, upstreams: Any
) -> None:
    probe = upstreams.probes["reporting"]
    probe.reset()
    with client.stream("GET", gateway() + "/v1/reports/r-1?stream=slow") as response:
        chunks = response.iter_raw()
        # The upstream sends the rest only after release: a buffering gateway would return nothing yet.
        assert next(chunks) == b"first;"
        probe.release.set()
        assert b"".join(chunks) == b"second"


def test_oversized_body_is_rejected(gateway: Callable[..., str], client: httpx.Client) -> None:
    gw = gateway(max_body_bytes=4096, import_max_body_bytes=8 * MiB)
    body = assert_problem(client.post(gw + "/v1/organizations", content=b"x" * 10_000, headers=CSV), 413)
    assert "4096" in body["detail"]

    def chunked() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000

    # Without Content-Length the limit is enforced while the body streams through.
    assert_problem(client.post(gw + "/v1/organizations", content=chunked(), headers=CSV), 413)
    # The import override is larger, but still a limit.
    too_big = client.post(gw + "/v1/organizations:import", content=b"x" * (8 * MiB + 1), headers=CSV)
    assert_problem(too_big, 413)


def test_unreachable_upstream_is_503_with_retry_after(
    gateway: Callable[..., str], client: httpx.Client, dead_url: str
) -> None:
    gw = gateway(registry_url=dead_url, matching_url="http://tejido-nowhere.invalid")
    response = client.get(gw + "/v1/organizations")
    body = assert_problem(response, 503)
    assert response.headers["retry-after"] == "2"
    assert body["detail"] == "the organization registry is restarting or down"
    assert body["type"] == "https://tejido.dev/problems/service-unavailable"
    dns = assert_problem(client.get(gw + "/v1/matches"), 503)
    assert dns["detail"] == "the ally matching service is restarting or down"
    # Other services are unaffected.
    assert client.get(gw + "/v1/assessments").status_code == 200


class DroppingUpstream:
    """A raw TCP upstream that closes the first ``drops`` connections without a word (a service killed
    mid-request, or a pooled keep-alive connection it closed), then answers every request with 200."""

    def __init__(self, drops: int):
        self.drops = drops
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.recv(65536)
                if self.connections > self.drops:
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n"
                        b"connection: close\r\n\r\n{}"
                    )

    def close(self) -> None:
        self.sock.close()


def test_a_read_is_retried_once_on_a_dropped_connection_a_write_is_not(
    gateway: Callable[..., str], client: httpx.Client
) -> None:
    upstream = DroppingUpstream(drops=1)
    try:
        gw = gateway(registry_url=upstream.url)
        # A GET that lost its connection before any answer is safe to send again: the caller never sees
        # the drop (a restarted service's stale keep-alive connection must not surface as a 502).
        assert client.get(gw + "/v1/organizations").status_code == 200
        assert upstream.connections == 2
        # A POST may have been applied before the connection dropped: never re-sent, 502.
        upstream.drops = upstream.connections + 1
        post = client.post(gw + "/v1/organizations", json={"x": 1})
        assert_problem(post, 502)
        assert upstream.connections == 3
    finally:
        upstream.close()


def test_a_refused_write_sent_in_full_before_reading_still_gets_its_answer(
    gateway: Callable[..., str], client: httpx.Client
) -> None:
    """415 (like 401, 403, 413, 429) is decided from the headers while the client is still sending its
    body, and most clients read only once it is sent (urllib here). The gateway reads a bounded rest of
    the body first, so the client reads the problem instead of a reset connection (it did before)."""
    gw = gateway()
    for _ in range(3):
        request = urllib.request.Request(
            gw + "/v1/organizations:import",
            data=b"x" * 8_000_000,  # more than the sockets' buffers hold, under the import body limit
            method="POST",
            headers={"content-type": "text/plain", "authorization": client.headers["Authorization"]},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=20)
        assert refused.value.code == 415


def test_slow_upstream_is_504(gateway: Callable[..., str], client: httpx.Client) -> None:
    gw = gateway(upstream_timeout=0.3)
    body = assert_problem(client.get(gw + "/v1/assessments?sleep=1.5"), 504)
    assert body["detail"] == "the due diligence service did not respond in time"
    assert body["type"] == "https://tejido.dev/problems/upstream-timeout"


def test_unknown_resource_is_404(gateway: Callable[..., str], client: httpx.Client) -> None:
    gw = gateway()
    body = assert_problem(client.get(gw + "/v1/nothing/here"), 404)
    assert body["detail"] == "there is no API resource at /v1/nothing/here"
    assert_problem(client.post(gw + "/v1/"), 404)
    assert_problem(client.get(gw + "/elsewhere"), 404)


def test_dot_segments_cannot_escape_v1(gateway: Callable[..., str], client: httpx.Client) -> None:
    # httpx (on both sides) resolves "..", so send the request line as raw bytes.
    port = int(urlsplit(gateway()).port or 0)
    admin = f"Authorization: {client.headers['Authorization']}\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        request_line = b"GET /v1/alliances/../../internal/stats HTTP/1.1\r\n"
        sock.sendall(request_line + admin + b"Host: gw\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 404 ")
    assert b"secret" not in reply
