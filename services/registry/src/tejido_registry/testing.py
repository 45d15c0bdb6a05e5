"""Helpers for tests that need a running registry (this package's tests and cross-service tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tejido_common.testing import DatabaseTarget, ServerThread, service_client, wait_until
from tejido_registry.app import create_app
from tejido_registry.settings import RegistrySettings


@dataclass
class RunningRegistry:
    url: str
    app: Any
    settings: RegistrySettings
    client: httpx.Client

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db


def registry_settings(
    data_dir: Path, nats_url: str, target: DatabaseTarget, **extra: Any
) -> RegistrySettings:
    return RegistrySettings(
        data_dir=data_dir,
        nats_url=nats_url,
        database_url=target.url,
        database_schema=target.schema,
        log_level="WARNING",
        outbox_poll_seconds=0.1,
        **extra,
    )


@contextlib.contextmanager
def running_registry(settings: RegistrySettings) -> Iterator[RunningRegistry]:
    """The real registry app served over HTTP on a free port, ready (database and NATS reachable)."""
    app = create_app(settings)
    with ServerThread(app) as server, service_client(server.url, settings) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, message="registry ready")
        yield RunningRegistry(server.url, app, settings, client)


def org_body(name: str = "Grupo Conciencia", **sections: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identity": {"legal_name": name, "actor_type": "cso", "cso_subtype": "ngo"},
        "where": {"country": "MX", "subdivisions": ["MX-SON"], "languages": ["spa"]},
        "purpose": {"program_areas": ["HE1"], "social_indicators": ["quality_of_life"]},
    }
    for key, value in sections.items():
        body[key] = {**body.get(key, {}), **value}
    return body
