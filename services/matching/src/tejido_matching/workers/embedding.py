"""The embedding work queue: profiles whose texts changed are embedded in batches, off the request
path, and the vectors are stored with the read model so a restart does not embed them again."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import numpy as np

from tejido_common.db import Database
from tejido_common.logging import get_logger
from tejido_matching.candidates import repository
from tejido_matching.ranking.engine import MatchingEngine
from tejido_matching.text.embeddings import TextEmbedder
from tejido_matching.text.profile_texts import profile_texts

log = get_logger(__name__)


class EmbeddingQueue:
    def __init__(self, engine: MatchingEngine, db: Database, embedder: TextEmbedder, batch: int = 32):
        self.engine, self.db, self.embedder, self.batch = engine, db, embedder, batch
        self._pending: dict[str, str] = {}  # organization id → texts hash to embed
        self._lock = threading.Lock()
        self._wake = threading.Event()
        # Vectors computed before the snapshot had the row (its consumer runs apart from the
        # worker's): stored once the row is there, never embedded again.
        self._unstored: dict[str, tuple[str, bytes]] = {}
        self._task: asyncio.Task[None] | None = None
        self.embedded = 0

    def submit(self, organization_id: str, texts_hash: str) -> None:
        """Thread-safe; called by the engine when a profile's texts change."""
        with self._lock:
            self._pending[organization_id] = texts_hash
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="matching-embeddings")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.to_thread(self._wake.wait, 0.5)
            self._wake.clear()
            if self._unstored:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.store_unstored)
            while self._pending:
                try:
                    await asyncio.to_thread(self.run_once)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("embedding batch failed, will retry", error=str(exc) or repr(exc))
                    await asyncio.sleep(1.0)
                    break

    def run_once(self) -> int:
        """Embed one batch (also used directly by benchmarks). Returns how many were computed."""
        with self._lock:
            batch = list(self._pending.items())[: self.batch]
        todo: list[tuple[str, str, list[str]]] = []
        with self.db.read_session() as session:
            for org, texts_hash in batch:
                stored = repository.embeddings_for(session, org, texts_hash)
                if stored is not None:  # another worker (or an earlier run) embedded these texts
                    self.engine.set_embeddings(
                        org, texts_hash, np.frombuffer(stored, dtype=np.float32).copy()
                    )
                    continue
                profile = self.engine.index.profile_of(org)
                if profile is None:
                    continue
                texts = profile_texts(profile)
                if texts.digest() == texts_hash:
                    todo.append((org, texts_hash, texts.as_list()))
        if todo:
            flat = [t for _, _, texts in todo for t in texts]
            vectors = self.embedder.embed(flat).reshape(len(todo), 3, -1)
            with self.db.session() as session:
                for (org, texts_hash, _), v in zip(todo, vectors, strict=True):
                    blob = v.astype(np.float32).tobytes()
                    if repository.store_embeddings(session, org, texts_hash, blob) is None:
                        self._unstored[org] = (texts_hash, blob)
            for (org, texts_hash, _), v in zip(todo, vectors, strict=True):
                self.engine.set_embeddings(org, texts_hash, v)
            self.embedded += len(todo)
        with self._lock:
            for org, texts_hash in batch:
                if self._pending.get(org) == texts_hash:
                    del self._pending[org]
        return len(todo)

    def store_unstored(self) -> int:
        """Store the vectors whose snapshot row has arrived since. Returns how many were stored."""
        stored = 0
        with self.db.session() as session:
            for org, (texts_hash, blob) in list(self._unstored.items()):
                outcome = repository.store_embeddings(session, org, texts_hash, blob)
                if outcome is not None:  # stored, or the texts changed (the newer ones are queued)
                    del self._unstored[org]
                    stored += bool(outcome)
        return stored
