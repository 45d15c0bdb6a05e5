"""Test helpers shared by every package's tests (loaded as a pytest plugin from the root conftest).

Everything here is real: a ``nats-server`` child process on a free port, SQLite files or a fresh
PostgreSQL schema (when ``TEST_DATABASE_URL`` is set), and uvicorn serving apps over real HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import nats
import pytest
import uvicorn
from sqlalchemy import create_engine, text

from tejido_common.broker import DEAD_LETTER_STREAM, ensure_stream, service_stream
from tejido_common.db import normalize_url
from tejido_common.events import Envelope
from tejido_common.http_protocol import HEADER_TIMEOUT_PROTOCOL
from tejido_common.identity import TEST_ADMIN, Principal, PrincipalAuth, load_internal_secret
from tejido_common.natsserver import NatsServer, free_port
from tejido_common.settings import ServiceSettings

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], timeout: float = 15.0, interval: float = 0.05, message: str = ""
) -> T:
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T = predicate()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message or predicate}")
        time.sleep(interval)
        last = predicate()
    return last


@dataclass
class DatabaseTarget:
    url: str | None  # None: SQLite file under data_dir
    schema: str | None


def postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


@contextlib.contextmanager
def database_target(prefix: str = "t") -> Iterator[DatabaseTarget]:
    """SQLite by default; with ``TEST_DATABASE_URL`` a throwaway PostgreSQL schema, dropped afterwards."""
    url = postgres_url()
    if not url:
        yield DatabaseTarget(None, None)
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        yield DatabaseTarget(url, schema)
    finally:
        engine = create_engine(normalize_url(url))
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


class ServerThread:
    """Runs an ASGI app with uvicorn on a free port in a background thread (real HTTP, real lifespan)."""

    def __init__(self, app: Any, port: int | None = None):
        self.port = port or free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="on",
                # Handlers still running (a deliberately slow upstream) must not hold up teardown long.
                timeout_graceful_shutdown=5,
                # As `tejido up` serves: slow request headers are cut with a 408.
                http=HEADER_TIMEOUT_PROTOCOL,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerThread:
        self.thread.start()
        wait_until(
            lambda: self.server.started or not self.thread.is_alive(), timeout, message="uvicorn start"
        )
        if not self.server.started:
            raise RuntimeError("server failed to start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def service_client(
    base_url: str, settings: Any = None, *, principal: Principal | None = TEST_ADMIN, **kwargs: Any
) -> httpx.Client:
    """The HTTP client tests use to call one service directly, as the gateway would.

    ``settings`` (the called service's settings) give the internal secret: every request is signed as
    ``principal`` (an administrator by default; ``tejido_common.identity.scoped(...)`` for role tests;
    None sends no identity, as an outsider reaching the service's port would)."""
    kwargs.setdefault("timeout", 10)
    if settings is not None and principal is not None:
        kwargs.setdefault("auth", PrincipalAuth(load_internal_secret(settings), principal))
    return httpx.Client(base_url=base_url, **kwargs)


S = TypeVar("S", bound=ServiceSettings)


def settings_for_test(
    settings_class: type[S], data_dir: Path, nats_url: str, target: DatabaseTarget, **extra: Any
) -> S:
    """A service's settings for a test: its data dir, the test's NATS and database, quiet logs, a
    quick outbox relay (``extra`` overrides any of them)."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "nats_url": nats_url,
        "database_url": target.url,
        "database_schema": target.schema,
        "log_level": "WARNING",
        "outbox_poll_seconds": 0.1,
        **extra,
    }
    return settings_class(**values)


@dataclass
class RunningService(Generic[S]):
    """A real service app served over HTTP, with a client that calls it as the gateway would."""

    url: str
    app: Any
    settings: S
    client: httpx.Client

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db


@contextlib.contextmanager
def running_service(app: Any, settings: S) -> Iterator[RunningService[S]]:
    """``app`` served on a free port and ready (database and NATS reachable)."""
    with ServerThread(app) as server, service_client(server.url, settings) as client:
        name = getattr(settings, "service_name", "service")
        wait_until(lambda: client.get("/readyz").status_code == 200, message=f"{name} ready")
        yield RunningService(server.url, app, settings, client)


class EventCollector:
    """Collects every event on a subject filter from JetStream (ordered, ephemeral consumer)."""

    def __init__(self, nats_url: str, subject: str, credentials: dict[str, str] | None = None):
        self.nats_url = nats_url
        # ``user``/``password`` where the server requires users (e.g. the launcher's operator).
        self.credentials = credentials or {}
        self.subject = subject
        self.events: list[Envelope] = []
        self.raw: list[tuple[str, bytes, dict[str, str]]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._nc: Any = None

    def start(self) -> EventCollector:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._subscribe(), self._loop).result(30)
        return self

    async def _subscribe(self) -> None:
        self._nc = await nats.connect(
            self.nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.2, **self.credentials
        )
        js = self._nc.jetstream()
        # The producer may not have started yet: create its stream exactly as it would.
        stream = (
            DEAD_LETTER_STREAM
            if self.subject.startswith("deadletter.")
            # Create-only: a test's collector must never change the producer's stream settings.
            else service_stream(self.subject.split(".")[0], owned=False)
        )
        await ensure_stream(js, stream)

        async def on_msg(msg: Any) -> None:
            self.raw.append((msg.subject, msg.data, dict(msg.headers or {})))
            with contextlib.suppress(Exception):
                self.events.append(Envelope.from_bytes(msg.data))

        # Ordered consumers are re-created by the client after a server restart.
        await js.subscribe(self.subject, cb=on_msg, ordered_consumer=True)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Envelope]:
        wait_until(lambda: len(self.events) >= count, timeout, message=f"{count} events on {self.subject}")
        return list(self.events)

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._nc is not None:
                with contextlib.suppress(Exception):
                    await self._nc.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


# -- pytest fixtures ---------------------------------------------------------------------------


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh JetStream server per test: streams and consumers never leak between tests."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def db_target() -> Iterator[DatabaseTarget]:
    with database_target() as target:
        yield target


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches a database, so CI can re-run exactly those on PostgreSQL."""
    for item in items:
        if "db_target" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
