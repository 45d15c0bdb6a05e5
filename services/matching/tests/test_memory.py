"""Fast tier: a worker's restored read model is kept out of full garbage collections."""

from __future__ import annotations

import gc
from pathlib import Path

from tejido_common.db import Database
from tejido_common.migrations import upgrade
from tejido_common.testing import DatabaseTarget
from tejido_matching.testing import matching_settings
from tejido_matching.workers.worker import MatchingWorker

MIGRATIONS = Path(__file__).resolve().parents[1] / "src/tejido_matching/migrations"


def test_restore_freezes_the_model(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/matching.db")
    upgrade(db, MIGRATIONS)
    settings = matching_settings(
        tmp_path, "nats://127.0.0.1:1", DatabaseTarget(None, None), embeddings_enabled=False
    )
    worker = MatchingWorker(settings, db)
    gc.unfreeze()
    try:
        worker.restore()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        db.dispose()
