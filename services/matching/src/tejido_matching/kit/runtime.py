"""The service runtime plus, unless separate worker processes do it, one in-process matching worker."""

from __future__ import annotations

from pathlib import Path

from tejido_common.consumer import ConsumerSpec
from tejido_common.runtime import ServiceRuntime
from tejido_matching.candidates.handlers import (
    DUEDILIGENCE_HANDLERS,
    REGISTRY_HANDLERS,
)
from tejido_matching.settings import MatchingSettings
from tejido_matching.workers.worker import MatchingWorker


class MatchingRuntime(ServiceRuntime):
    def __init__(self, settings: MatchingSettings, migrations_dir: Path):
        # Matching produces no events yet: no stream of its own, no outbox relay.
        super().__init__(settings, migrations_dir=migrations_dir, produces=False)
        # The snapshot: durable consumers write the read model to the database (idempotently).
        self.add_consumer(
            ConsumerSpec(
                name="matching",
                stream="REGISTRY",
                filter_subject="registry.>",
                handlers=REGISTRY_HANDLERS,
            )
        )
        self.add_consumer(
            ConsumerSpec(
                name="matching",
                stream="DUEDILIGENCE",
                filter_subject="duediligence.>",
                handlers=DUEDILIGENCE_HANDLERS,
            )
        )
        self.worker = MatchingWorker(settings, self.db, name="embedded") if settings.embedded_worker else None

    async def start(self) -> None:
        await super().start()
        if self.worker is not None:
            await self.worker.start()

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
        await super().stop()
