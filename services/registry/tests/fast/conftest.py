"""The fast tier: service-layer and pure tests, on the database only (no NATS, no HTTP server).
``pytest services/registry/tests/fast`` runs in well under a minute."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tejido_common.db import Database
from tejido_common.migrations import upgrade
from tejido_common.testing import DatabaseTarget
from tejido_registry.app import MIGRATIONS
from tejido_registry.organizations.queries import OrganizationQueries
from tejido_registry.organizations.service import OrganizationService
from tejido_registry.testing import registry_settings


@pytest.fixture
def db(data_dir: Path, db_target: DatabaseTarget) -> Iterator[Database]:
    settings = registry_settings(data_dir, "nats://unused:1", db_target)
    database = Database(settings.resolved_database_url(), settings.resolved_schema())
    upgrade(database, MIGRATIONS)
    yield database
    database.dispose()


@pytest.fixture
def service(db: Database) -> OrganizationService:
    return OrganizationService(db)


@pytest.fixture
def queries(db: Database) -> OrganizationQueries:
    return OrganizationQueries(db, page_size_default=2, page_size_max=3)
