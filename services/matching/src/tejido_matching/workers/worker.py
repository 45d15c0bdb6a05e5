"""One matching worker: snapshot restore, event subscriptions, and the rank responder."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
from datetime import timedelta
from typing import Any

import nats.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from tejido_common.broker import Broker, StreamSpec
from tejido_common.db import Database
from tejido_common.events import Envelope
from tejido_common.logging import get_logger
from tejido_common.natsauth import inbox_prefix
from tejido_matching.candidates import repository
from tejido_matching.candidates.handlers import DUEDILIGENCE_SUBJECTS, REGISTRY_SUBJECTS
from tejido_matching.kit import memory
from tejido_matching.kit.blas import limit_blas_threads
from tejido_matching.ranking.engine import MatchingEngine
from tejido_matching.ranking.weights import resolve_weights
from tejido_matching.settings import MatchingSettings
from tejido_matching.text.embeddings import shared_embedder
from tejido_matching.workers.embedding import EmbeddingQueue

log = get_logger(__name__)

# A follower's consumer outlives a lost worker by this long, then the server deletes it.
FOLLOWER_INACTIVE_SECONDS = 60.0


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
            # Read, never reconciled here: the producers' (or the provisioner's) settings stand.
            [
                StreamSpec("REGISTRY", ["registry.>"], owned=False),
                StreamSpec("DUEDILIGENCE", ["duediligence.>"], owned=False),
            ],
            # The service's own NATS user (and inbox prefix, where its permissions allow replies).
            user=settings.nats_user,
            password=settings.nats_password.get_secret_value() if settings.nats_password else None,
            inbox_prefix=inbox_prefix(settings.service_name),
            provision=settings.provision_streams,
        )
        self.served = 0
        self.events_applied = 0
        self._subscribed = False
        self._subs: list[Any] = []
        self._followers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await asyncio.to_thread(self.restore)
        self.broker.on_ready(self._subscribe)
        await self.broker.start()
        if self.embeddings is not None:
            await self.embeddings.start()

    def restore(self) -> None:
        with self.db.read_session() as session:
            self.engine.load(repository.iter_candidates(session), repository.all_alliances(session))
        memory.settle()  # the restored model out of full collections (see kit/memory.py)
        log.info("matching worker restored", worker=self.name, candidates=self.engine.index.size)

    async def _subscribe(self) -> None:
        # Subscriptions survive reconnections (followers start over by themselves): subscribe once.
        if self._subscribed:
            return
        self._subscribed = True
        nc = self.broker.nc
        assert nc is not None
        start = self.engine.high_water
        registry_config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        if start is not None:
            registry_config.deliver_policy = DeliverPolicy.BY_START_TIME
            since = start - timedelta(seconds=self.settings.resume_margin_seconds)
            registry_config.opt_start_time = since
        # One follower per subscribed type: the filter then travels in the consumer's create subject,
        # where the matching NATS user's permissions check it (restricted types stay out of reach).
        # Order across types of one aggregate is not kept; the read model applies only newer versions.
        followers = [("REGISTRY", subject, registry_config) for subject in REGISTRY_SUBJECTS]
        # Ratings are few (one per finalized assessment): replayed from the start, so none is missed
        # whatever the snapshot held.
        followers += [
            ("DUEDILIGENCE", subject, ConsumerConfig(deliver_policy=DeliverPolicy.ALL))
            for subject in DUEDILIGENCE_SUBJECTS
        ]
        self._followers = [
            asyncio.create_task(self._follow(stream, subject, config), name=f"follow-{subject}")
            for stream, subject, config in followers
        ]
        self._subs.append(
            await nc.subscribe(
                self.settings.rank_subject, queue=self.settings.worker_queue, cb=self._on_request
            )
        )
        # This worker alone (diagnostics, tests): e.g. matching.rank.worker-1.
        self._subs.append(
            await nc.subscribe(f"{self.settings.rank_subject}.{self.name}", cb=self._on_request)
        )

    async def _follow(self, stream: str, subject: str, start: ConsumerConfig) -> None:
        """Apply ``subject``'s events in stream order through a named, non-durable pull consumer (no
        acks; the server drops it after ``FOLLOWER_INACTIVE_SECONDS`` without pulls). On any failure
        (server restart, consumer gone) a fresh consumer resumes after the last message seen."""
        next_seq: int | None = None
        backoff = 0.2
        while True:
            config = dataclasses.replace(
                start,
                name=f"matching-follower-{secrets.token_hex(6)}",
                filter_subject=subject,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=FOLLOWER_INACTIVE_SECONDS,
                mem_storage=True,
                num_replicas=1,
            )
            if next_seq is not None:
                config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
                config.opt_start_seq = next_seq
                config.opt_start_time = None
            sub: Any = None
            try:
                await self.broker.wait_ready()
                await self.broker.js.add_consumer(stream, config=config)
                sub = await self.broker.js.pull_subscribe_bind(config.name, stream=stream)
                backoff = 0.2
                while True:
                    try:
                        msgs = await sub.fetch(256, timeout=5)
                    except nats.errors.TimeoutError:
                        continue
                    for msg in msgs:
                        next_seq = msg.metadata.sequence.stream + 1
                        await self._on_event(msg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("worker follower restarting", subject=subject, error=str(exc) or repr(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                if sub is not None:
                    with contextlib.suppress(Exception):
                        await sub.unsubscribe()

    async def _on_event(self, msg: Msg) -> None:
        try:
            envelope = Envelope.from_bytes(msg.data)
            if self.engine.apply(envelope):
                self.events_applied += 1
                if self.events_applied % memory.FREEZE_EVERY == 0:
                    memory.settle(collect=False)  # catch-up's profiles too, without a full pass
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
        for task in self._followers:
            task.cancel()
        for task in self._followers:
            with contextlib.suppress(BaseException):
                await task
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        await self.broker.close()
