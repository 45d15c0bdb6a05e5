"""Real HTTP for the gateway tests: uvicorn servers in background threads, echo upstreams standing in
for arbitrary services, and the real matching service on a real NATS server."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, SecretStr, create_model
from starlette.requests import ClientDisconnect

from tejido_common.natsserver import NatsServer, free_port
from tejido_common.testing import ServerThread
from tejido_gateway.app import create_app
from tejido_gateway.settings import GatewaySettings
from tejido_matching.app import create_app as create_matching_app
from tejido_matching.settings import MatchingSettings


@contextlib.contextmanager
def servers() -> Iterator[Callable[[Any], str]]:
    """Yields ``serve(app) -> base URL``; every server started through it is stopped on exit."""
    started: list[ServerThread] = []

    def serve(app: Any) -> str:
        started.append(ServerThread(app).start())
        return started[-1].url

    try:
        yield serve
    finally:
        for server in reversed(started):
            server.stop()


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=2, trust_env=False).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"{url} did not become ready")


# -- echo upstreams ----------------------------------------------------------------------------


class Probe:
    """Lets a test observe and pace an upstream from the test thread."""

    def __init__(self) -> None:
        self.first_chunk = threading.Event()  # set when a request body's first chunk arrives
        self.release = threading.Event()  # a slow streamed response sends its rest once this is set

    def reset(self) -> None:
        self.first_chunk.clear()
        self.release.clear()


class Shared(BaseModel):
    """Defined identically by both typed doubles: must stay one unprefixed schema."""

    ok: bool


class InternalOnly(BaseModel):
    """Only used by a non-/v1 route: must not reach the merged document."""

    secret: str


def echo_app(service: str, resource: str | None = None, item_fields: dict[str, Any] | None = None) -> FastAPI:
    """An upstream double. ``resource`` adds typed GET routes (for the OpenAPI merge), each double with
    its own ``Item`` schema, so the merge must prefix it; every other request is echoed back as JSON."""
    tags = [{"name": resource, "description": f"{resource} of the {service} double"}] if resource else None
    app = FastAPI(title=f"{service} double", openapi_tags=tags)
    probe = Probe()
    app.state.probe = probe

    if resource:
        item: Any = create_model("Item", id=(str, ...), **(item_fields or {}))
        page: Any = create_model("Page", items=(list[item], ...))

        @app.get(f"/v1/{resource}", response_model=page, tags=[resource])
        async def list_items(limit: int = 10) -> Any:
            return {"items": []}

        @app.get(f"/v1/{resource}/{{item_id}}", response_model=item, tags=[resource])
        async def get_item(item_id: str) -> Any:
            return {"id": item_id}

        @app.get(f"/v1/{resource}/{{item_id}}/shared", response_model=Shared, tags=[resource])
        async def get_shared(item_id: str) -> Any:
            return {"ok": True}

        @app.get("/internal/stats", response_model=InternalOnly)
        async def internal() -> Any:
            return {"secret": "x"}

    @app.api_route(
        "/{rest:path}",
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
    )
    async def echo(request: Request, rest: str) -> Response:
        if sleep := request.query_params.get("sleep"):
            await asyncio.sleep(float(sleep))
        if request.query_params.get("stream") == "slow":

            async def slow_body() -> Any:
                yield b"first;"
                await asyncio.to_thread(probe.release.wait, 10)
                yield b"second"

            return StreamingResponse(slow_body(), media_type="text/plain")
        if request.query_params.get("gzip"):
            packed = gzip.compress(json.dumps({"service": service, "packed": True}).encode())
            return Response(packed, media_type="application/json", headers={"content-encoding": "gzip"})
        size, digest = 0, hashlib.sha256()
        try:
            async for chunk in request.stream():
                if chunk:
                    probe.first_chunk.set()
                    size += len(chunk)
                    digest.update(chunk)
        except ClientDisconnect:
            # The gateway gave up on this request (timeout or body limit tests): nobody to answer.
            return Response(status_code=499)
        response = JSONResponse(
            {
                "service": service,
                "method": request.method,
                "path": request.url.path,
                "raw_path": request.scope["raw_path"].decode("latin-1"),
                "query": request.scope["query_string"].decode("latin-1"),
                "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
                "body_bytes": size,
                "body_sha256": digest.hexdigest(),
            }
        )
        response.headers.append("set-cookie", "a=1")
        response.headers.append("set-cookie", "b=2")
        response.headers["x-upstream"] = service
        return response

    return app


# -- the platform under test -------------------------------------------------------------------


class Upstreams:
    def __init__(self, urls: dict[str, str], probes: dict[str, Probe], secret: SecretStr, nats_url: str):
        self.urls = urls  # GatewaySettings field → URL
        self.nats_url = nats_url
        self.probes = probes  # service → probe of its echo double
        self.secret = secret  # the internal secret the gateway and the real matching service share


@pytest.fixture(scope="session")
def upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstreams]:
    """Registry, due diligence and reporting as echo doubles; matching as the real service."""
    root: Path = tmp_path_factory.mktemp("gateway-upstreams")
    nats = NatsServer(store_dir=root / "nats").start()
    try:
        with servers() as serve:
            doubles = {
                "registry": echo_app("registry", "alliances", {"name": (str, ...)}),
                "duediligence": echo_app("duediligence", "frameworks", {"version": (int, ...)}),
                "reporting": echo_app("reporting"),
            }
            urls = {f"{name}_url": serve(app) for name, app in doubles.items()}
            (root / "matching").mkdir()
            secret = SecretStr(secrets.token_urlsafe(32))
            matching = MatchingSettings(
                data_dir=root / "matching", nats_url=nats.url, log_level="WARNING", internal_secret=secret
            )
            urls["matching_url"] = serve(create_matching_app(matching))
            wait_ready(urls["matching_url"])
            yield Upstreams(urls, {name: app.state.probe for name, app in doubles.items()}, secret, nats.url)
    finally:
        nats.stop()


@pytest.fixture
def dead_url() -> str:
    """An address nothing listens on: connections are refused."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def gateway(upstreams: Upstreams, tmp_path: Path, client: httpx.Client) -> Iterator[Callable[..., str]]:
    """``gateway(**settings) -> base URL``: a gateway in front of the upstreams, settings overridable.
    ``client`` gets an admin key of the last gateway started (pass ``headers={"Authorization": ""}``
    or use another client to call anonymously)."""
    with servers() as serve:

        def start(**overrides: Any) -> str:
            values: dict[str, Any] = {
                "log_level": "WARNING",
                "data_dir": tmp_path,
                "nats_url": upstreams.nats_url,
                "internal_secret": upstreams.secret,
                **upstreams.urls,
                **overrides,
            }
            app = create_app(GatewaySettings(**values))
            url = serve(app)
            admin = app.state.keys.create("test admin", "admin")
            client.headers["Authorization"] = f"Bearer {admin.key}"
            return url

        yield start


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30, trust_env=False) as c:
        yield c
