"""One matching worker: snapshot restore, event subscriptions, and the rank responder."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from typing import Any

from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from tejido_common.broker import Broker, StreamSpec
from tejido_common.db import Database
from tejido_common.events import Envelope
from tejido_common.logging import get_logger
from tejido_common.natsauth import inbox_prefix
from tejido_matching.candidates import repository
from tejido_matching.candidates.handlers import DUEDILIGENCE_SUBJECTS, REGISTRY_SUBJECTS
from tejido_matching.kit.blas import limit_blas_threads
from tejido_matching.ranking.engine import MatchingEngine
from tejido_matching.ranking.weights import resolve_weights
from tejido_matching.settings import MatchingSettings
from tejido_matching.text.embeddings import shared_embedder
from tejido_matching.workers.embedding import EmbeddingQueue

log = get_logger(__name__)


class MatchingWorker:
    def __init__(self, settings: MatchingSettings, db: Database, name: str = "worker"):
        self.settings = settings
        self.db = db
        self.name = name
        limit_blas_threads(settings.blas_threads)
        embedder = shared_embedder() if settings.embeddings_enabled else None
        self.engine = MatchingEngine(resolve_weights(settings.weights), embedder)
        self.engine.index.exact_limit = settings.exact_limit
        self.embeddings: EmbeddingQueue | None = None
        if embedder is not None:
            self.embeddings = EmbeddingQueue(self.engine, db, embedder, settings.embedding_batch)
            self.engine.on_profile_change = self.embeddings.submit
        self.broker = Broker(
            settings.nats_url,
            f"tejido-matching-{name}",
            [StreamSpec("REGISTRY", ["registry.>"]), StreamSpec("DUEDILIGENCE", ["duediligence.>"])],
            # The service's own NATS user (and inbox prefix, where its permissions allow replies).
            user=settings.nats_user,
            password=settings.nats_password.get_secret_value() if settings.nats_password else None,
            inbox_prefix=inbox_prefix(settings.service_name),
        )
        self.served = 0
        self.events_applied = 0
        self._subscribed = False
        self._subs: list[Any] = []

    async def start(self) -> None:
        await asyncio.to_thread(self.restore)
        self.broker.on_ready(self._subscribe)
        await self.broker.start()
        if self.embeddings is not None:
            await self.embeddings.start()

    def restore(self) -> None:
        with self.db.read_session() as session:
            self.engine.load(repository.iter_candidates(session), repository.all_alliances(session))
        log.info("matching worker restored", worker=self.name, candidates=self.engine.index.size)

    async def _subscribe(self) -> None:
        # Subscriptions survive reconnections (ordered consumers reset themselves): subscribe once.
        if self._subscribed:
            return
        self._subscribed = True
        nc = self.broker.nc
        assert nc is not None
        start = self.engine.high_water
        registry_config = ConsumerConfig(filter_subjects=REGISTRY_SUBJECTS, deliver_policy=DeliverPolicy.ALL)
        if start is not None:
            registry_config.deliver_policy = DeliverPolicy.BY_START_TIME
            since = start - timedelta(seconds=self.settings.resume_margin_seconds)
            registry_config.opt_start_time = since
        js = self.broker.js
        self._subs.append(
            await js.subscribe(
                "registry.>",
                stream="REGISTRY",
                cb=self._on_event,
                ordered_consumer=True,
                config=registry_config,
            )
        )
        # Ratings are few (one per finalized assessment): replayed from the start, so none is missed
        # whatever the snapshot held.
        self._subs.append(
            await js.subscribe(
                "duediligence.>",
                stream="DUEDILIGENCE",
                cb=self._on_event,
                ordered_consumer=True,
                config=ConsumerConfig(
                    filter_subjects=DUEDILIGENCE_SUBJECTS, deliver_policy=DeliverPolicy.ALL
                ),
            )
        )
        self._subs.append(
            await nc.subscribe(
                self.settings.rank_subject, queue=self.settings.worker_queue, cb=self._on_request
            )
        )
        # This worker alone (diagnostics, tests): e.g. matching.rank.worker-1.
        self._subs.append(
            await nc.subscribe(f"{self.settings.rank_subject}.{self.name}", cb=self._on_request)
        )

    async def _on_event(self, msg: Msg) -> None:
        try:
            envelope = Envelope.from_bytes(msg.data)
            if self.engine.apply(envelope):
                self.events_applied += 1
        except (
            Exception
        ) as exc:  # one bad event must not stop the stream; the durable consumer dead-letters it
            log.warning("worker skipped an event", subject=msg.subject, error=str(exc) or repr(exc))

    async def _on_request(self, msg: Msg) -> None:
        try:
            request = json.loads(msg.data)
            response = await asyncio.to_thread(self.engine.handle, request)
        except Exception as exc:
            log.error("rank request failed", error=str(exc) or repr(exc))
            response = {"error": {"status": 500, "field": None, "detail": "ranking failed"}}
        response["worker"] = self.name
        self.served += 1
        with contextlib.suppress(Exception):
            await msg.respond(json.dumps(response).encode())

    async def stop(self) -> None:
        if self.embeddings is not None:
            await self.embeddings.stop()
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        await self.broker.close()
