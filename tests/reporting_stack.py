"""A registry and a reporting service over HTTP on one real NATS, each with its own database (SQLite,
or a PostgreSQL schema with TEST_DATABASE_URL): what reporting's cross-service tests start."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tejido_common.natsserver import NatsServer
from tejido_common.testing import database_target
from tejido_registry.testing import RunningRegistry, registry_settings, running_registry
from tejido_reporting.testing import RunningReporting, reporting_settings, running_reporting


@contextlib.contextmanager
def registry_and_reporting(root: Path) -> Iterator[tuple[str, RunningRegistry, RunningReporting]]:
    """(NATS URL, registry, reporting), stopped and removed on exit."""
    server = NatsServer(root / "nats")
    server.start()
    try:
        with (
            database_target("reg") as reg_db,
            database_target("rep") as rep_db,
            running_registry(registry_settings(root / "registry", server.url, reg_db)) as registry,
            running_reporting(reporting_settings(root / "reporting", server.url, rep_db)) as reporting,
        ):
            yield server.url, registry, reporting
    finally:
        server.stop()
