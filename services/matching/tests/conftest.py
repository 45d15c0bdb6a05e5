from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, database_target
from tejido_matching.testing import RunningMatching, matching_settings, running_matching
from tejido_registry.testing import RunningRegistry, registry_settings, running_registry


@pytest.fixture
def registry(data_dir: Path, nats_server: NatsServer) -> Iterator[RunningRegistry]:
    # The registry gets its own database: services never share one.
    with database_target("reg") as target:
        settings = registry_settings(data_dir / "registry", nats_server.url, target)
        settings.data_dir.mkdir(exist_ok=True)
        with running_registry(settings) as running:
            yield running


@pytest.fixture
def matching(data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget) -> Iterator[RunningMatching]:
    settings = matching_settings(data_dir, nats_server.url, db_target, embeddings_enabled=False)
    with running_matching(settings) as running:
        yield running
