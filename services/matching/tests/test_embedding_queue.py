"""The embedding queue against a real database and the real model: vectors computed before the
snapshot's durable consumer wrote the organization's row are stored once the row arrives (the worker
and that consumer read the stream apart; batching the consumer made the worker win more often)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tejido_common.db import Database
from tejido_common.migrations import upgrade
from tejido_matching.app import MIGRATIONS
from tejido_matching.candidates.handlers import on_organization
from tejido_matching.candidates.models import Candidate
from tejido_matching.ranking.engine import MatchingEngine
from tejido_matching.ranking.weights import resolve_weights
from tejido_matching.testing import org, organization_event
from tejido_matching.text.embeddings import shared_embedder
from tejido_matching.workers.embedding import EmbeddingQueue


def test_vectors_computed_before_the_snapshot_row_are_stored_when_it_arrives(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'matching.db'}")
    upgrade(db, MIGRATIONS)
    engine = MatchingEngine(resolve_weights(), shared_embedder())
    queue = EmbeddingQueue(engine, db, shared_embedder())
    engine.on_profile_change = queue.submit
    profile = org("Microcréditos Sonora", mission="Microcrédito grupal para mujeres", subdivisions=["MX-SON"])
    event = organization_event(profile)
    try:
        engine.apply(event)  # the worker saw the event; the snapshot has no row yet
        assert queue.run_once() == 1
        assert engine.index.embeddings_of(profile["id"]) is not None
        assert queue.store_unstored() == 0  # still no row: kept, not dropped
        with db.session() as session:
            on_organization(session, event)  # the durable consumer catches up
        assert queue.store_unstored() == 1
        with db.read_session() as session:
            row = session.get(Candidate, profile["id"])
            assert row is not None and row.embedded_hash == row.texts_hash
            stored = np.frombuffer(row.embeddings or b"", dtype=np.float32).reshape(3, -1)
        assert np.allclose(stored, engine.index.embeddings_of(profile["id"]))  # type: ignore[arg-type]
        assert queue.store_unstored() == 0 and queue.pending == 0
    finally:
        db.dispose()
