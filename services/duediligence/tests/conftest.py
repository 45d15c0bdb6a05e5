from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget
from tejido_duediligence.app import Domains
from tejido_duediligence.testing import (
    RunningDuediligence,
    duediligence_settings,
    migrated_domains,
    running_duediligence,
)


@pytest.fixture
def domains(data_dir: Path, db_target: DatabaseTarget) -> Iterator[Domains]:
    """Fast tier: the service layer on a real (migrated) database, no NATS, no HTTP."""
    settings = duediligence_settings(data_dir, "nats://127.0.0.1:1", db_target, evidence_max_bytes=4096)
    with migrated_domains(settings) as built:
        yield built


@pytest.fixture
def service(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> Iterator[RunningDuediligence]:
    """Real tier: the app over HTTP with a real NATS."""
    settings = duediligence_settings(data_dir, nats_server.url, db_target, evidence_max_bytes=4096)
    with running_duediligence(settings) as running:
        yield running
