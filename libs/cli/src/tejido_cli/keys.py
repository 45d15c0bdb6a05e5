"""``tejido keys``: API keys made directly in the gateway's database (how the first admin key is made)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tejido_cli.config import GATEWAY, LauncherConfig
from tejido_common.db import Database
from tejido_common.migrations import upgrade

if TYPE_CHECKING:
    from tejido_gateway.keys.service import KeyService


@contextmanager
def key_service(cfg: LauncherConfig) -> Iterator[KeyService]:
    """The gateway's key service on the configured data dir or database, migrated first."""
    # Imported here: `tejido status` and friends must not depend on the gateway package.
    from tejido_gateway.keys.service import KeyService

    settings = cfg.component_settings(GATEWAY)
    db = Database(settings.resolved_database_url(), settings.resolved_schema())
    try:
        upgrade(db, GATEWAY.load_migrations_dir())
        yield KeyService(db, cache_seconds=0)
    finally:
        db.dispose()
