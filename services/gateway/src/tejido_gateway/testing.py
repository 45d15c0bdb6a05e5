"""Helpers for tests that go through a real gateway (this package's tests and cross-service tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tejido_common.testing import ServerThread, database_target, wait_until
from tejido_gateway.app import create_app
from tejido_gateway.settings import GatewaySettings


@dataclass
class RunningGateway:
    url: str
    app: Any
    settings: GatewaySettings
    admin_key: str

    def new_key(self, role: str, organizations: list[str] | None = None, name: str | None = None) -> str:
        """A fresh API key with ``role`` (and organization scope), straight from the key service."""
        return str(self.app.state.keys.create(name or f"test {role}", role, organizations or []).key)

    def client(self, key: str | None = None, **kwargs: Any) -> httpx.Client:
        """A client of the gateway using ``key`` (default: the admin key; ``""`` for anonymous)."""
        key = self.admin_key if key is None else key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        kwargs.setdefault("timeout", 10)
        return httpx.Client(base_url=self.url, headers=headers, trust_env=False, **kwargs)


@contextlib.contextmanager
def running_gateway(data_dir: Path, nats_url: str, **settings: Any) -> Iterator[RunningGateway]:
    """The real gateway over HTTP, with its own database (SQLite in ``data_dir``, or a throw-away
    PostgreSQL schema when ``TEST_DATABASE_URL`` is set) and an admin key. ``data_dir`` should be the
    services' data dir, so the gateway signs with the internal secret they verify; pass upstream URLs
    (``registry_url=…``) and any other setting as keywords."""
    with database_target("gw") as target:
        values: dict[str, Any] = {
            "data_dir": data_dir,
            "nats_url": nats_url,
            "database_url": target.url,
            "database_schema": target.schema,
            "log_level": "WARNING",
            **settings,
        }
        gateway_settings = GatewaySettings(**values)
        app = create_app(gateway_settings)
        with ServerThread(app) as server:
            wait_until(lambda: app.state.runtime.broker.connected, message="gateway connected to NATS")
            admin = app.state.keys.create("test admin", "admin")
            yield RunningGateway(server.url, app, gateway_settings, admin.key)
