"""Slow clients must not stall a service: health, events and other requests go on, slow bodies are cut."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from tejido_common.identity import PRINCIPAL_HEADER, TEST_ADMIN, load_internal_secret, sign_principal
from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, EventCollector
from tejido_registry.testing import org_body, registry_settings, running_registry

SLOW_UPLOADS = 7


def slow_upload(port: int, identity: str, stop: threading.Event, answers: list[bytes]) -> None:
    """An import upload (vouched for as the gateway would) that announces 100 kB and sends one byte
    every half second."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/organizations:import HTTP/1.1\r\nHost: x\r\n"
            + f"{PRINCIPAL_HEADER}: {identity}\r\n".encode()
            + b"Content-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n"
        )
        sock.settimeout(0.5)
        answer = b""
        while not stop.is_set():
            try:
                sock.sendall(b" ")
            except OSError:
                pass
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
        answers.append(answer)


def test_a_handful_of_slow_uploads_stall_neither_health_nor_events_nor_other_requests(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    settings = registry_settings(
        data_dir, nats_server.url, db_target, body_grace_seconds=8.0, body_idle_timeout_seconds=3.0
    )
    collector = EventCollector(nats_server.url, "registry.>").start()
    with running_registry(settings) as registry:
        port = int(registry.url.rsplit(":", 1)[1])
        identity = sign_principal(
            TEST_ADMIN, load_internal_secret(settings), "POST", "/v1/organizations:import"
        )
        stop, answers = threading.Event(), []
        threads = [
            threading.Thread(target=slow_upload, args=(port, identity, stop, answers), daemon=True)
            for _ in range(SLOW_UPLOADS)
        ]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)  # every slow upload is now holding its request open
            started = time.monotonic()
            assert registry.client.get("/readyz", timeout=3).status_code == 200
            created = registry.client.post("/v1/organizations", json=org_body("Red Ceiba"), timeout=3)
            assert created.status_code == 201
            body = json.dumps(org_body("Colectivo Colibrí")) + "\n"
            imported = registry.client.post(
                "/v1/organizations:import",
                content=body,
                headers={"Content-Type": "application/x-ndjson"},
                timeout=5,
            )
            assert imported.status_code == 200 and imported.json()["created"] == 1
            events = collector.wait_for(2, timeout=5)
            assert {e.data["organization"]["identity"]["legal_name"] for e in events} == {
                "Red Ceiba",
                "Colectivo Colibrí",
            }
            assert time.monotonic() - started < 6  # all of it while the slow uploads were still open
            # The slow uploads are cut off with a 408 problem once past the grace period.
            for t in threads:
                t.join(timeout=20)
        finally:
            stop.set()
    collector.stop()
    assert len(answers) == SLOW_UPLOADS
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"request-timeout" in answer


def test_slow_request_headers_get_a_408_and_the_connection_closed(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEJIDO_HEADER_TIMEOUT_SECONDS", "1.5")
    settings = registry_settings(data_dir, nats_server.url, db_target)
    with running_registry(settings) as registry:
        port = int(registry.url.rsplit(":", 1)[1])
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            answer = b""
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40:
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    break
                sock.settimeout(0.2)
                try:
                    chunk = sock.recv(4096)
                except TimeoutError:
                    continue
                except OSError:  # reset: the server closed after answering and we kept sending
                    break
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"request-timeout" in answer
        assert time.monotonic() - started < 6
        # A normal client on the same server is unaffected.
        assert registry.client.get("/healthz").status_code == 200
