"""Fast tier: a worker's restored read model is kept out of full garbage collections."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tejido_common.db import Database
from tejido_common.migrations import upgrade
from tejido_common.testing import DatabaseTarget
from tejido_matching.kit import memory
from tejido_matching.testing import matching_settings, org, organization_event
from tejido_matching.workers.worker import MatchingWorker

MIGRATIONS = Path(__file__).resolve().parents[1] / "src/tejido_matching/migrations"


def worker_on_sqlite(tmp_path: Path) -> tuple[MatchingWorker, Database]:
    db = Database(f"sqlite:///{tmp_path}/matching.db")
    upgrade(db, MIGRATIONS)
    settings = matching_settings(
        tmp_path, "nats://127.0.0.1:1", DatabaseTarget(None, None), embeddings_enabled=False
    )
    return MatchingWorker(settings, db), db


def test_restore_freezes_the_model(tmp_path: Path) -> None:
    worker, db = worker_on_sqlite(tmp_path)
    gc.unfreeze()
    try:
        worker.restore()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        db.dispose()


def test_applied_events_are_frozen_every_so_often(tmp_path: Path) -> None:
    worker, db = worker_on_sqlite(tmp_path)

    def message(i: int) -> Any:
        envelope = organization_event(org(f"Org {i}"))
        return SimpleNamespace(data=envelope.to_bytes(), subject=envelope.type)

    gc.unfreeze()
    try:
        worker.events_applied = memory.FREEZE_EVERY - 2
        asyncio.run(worker._on_event(message(1)))
        assert gc.get_freeze_count() == 0  # not yet
        asyncio.run(worker._on_event(message(2)))
        assert worker.events_applied == memory.FREEZE_EVERY
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        db.dispose()
