"""Helpers for tests that need a running registry (this package's tests and cross-service tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tejido_common.testing import DatabaseTarget, RunningService, running_service, settings_for_test
from tejido_registry.app import create_app
from tejido_registry.settings import RegistrySettings

RunningRegistry = RunningService[RegistrySettings]


def registry_settings(
    data_dir: Path, nats_url: str, target: DatabaseTarget, **extra: Any
) -> RegistrySettings:
    return settings_for_test(RegistrySettings, data_dir, nats_url, target, **extra)


@contextlib.contextmanager
def running_registry(settings: RegistrySettings) -> Iterator[RunningRegistry]:
    """The real registry app served over HTTP on a free port, ready (database and NATS reachable)."""
    with running_service(create_app(settings), settings) as registry:
        yield registry


def org_body(name: str = "Grupo Conciencia", **sections: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identity": {"legal_name": name, "actor_type": "cso", "cso_subtype": "ngo"},
        "where": {"country": "MX", "subdivisions": ["MX-SON"], "languages": ["spa"]},
        "purpose": {"program_areas": ["HE1"], "social_indicators": ["quality_of_life"]},
    }
    for key, value in sections.items():
        body[key] = {**body.get(key, {}), **value}
    return body
