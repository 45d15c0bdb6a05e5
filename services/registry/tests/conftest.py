from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget
from tejido_registry.testing import RunningRegistry, registry_settings, running_registry


@pytest.fixture
def registry(data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget) -> Iterator[RunningRegistry]:
    settings = registry_settings(data_dir, nats_server.url, db_target, max_body_bytes=64 * 1024)
    with running_registry(settings) as running:
        yield running
