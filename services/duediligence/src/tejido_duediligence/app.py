"""Due-diligence service: the composition root. It installs each domain package and nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI

from tejido_common.logging import get_logger
from tejido_common.runtime import ServiceRuntime, build_app
from tejido_duediligence.assessments.api import router as assessments_router
from tejido_duediligence.assessments.service import AssessmentService
from tejido_duediligence.audit.api import router as audit_router
from tejido_duediligence.audit.service import AuditLog
from tejido_duediligence.flags.api import router as flags_router
from tejido_duediligence.flags.service import FlagService
from tejido_duediligence.frameworks.api import router as frameworks_router
from tejido_duediligence.frameworks.service import FrameworkCatalog
from tejido_duediligence.kit.storage import FileStorage
from tejido_duediligence.organizations.handlers import registry_consumer
from tejido_duediligence.organizations.service import OrganizationDirectory
from tejido_duediligence.ratings.api import assessment_router as rating_of_assessment_router
from tejido_duediligence.ratings.api import router as ratings_router
from tejido_duediligence.ratings.service import RatingService
from tejido_duediligence.screening.api import lists_router
from tejido_duediligence.screening.api import router as screening_router
from tejido_duediligence.screening.service import ScreeningService
from tejido_duediligence.settings import DuediligenceSettings

MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)


class Domains:
    """Every domain service of one app, wired together (also what service-level tests build)."""

    def __init__(self, runtime: ServiceRuntime, settings: DuediligenceSettings):
        db = runtime.db
        self.directory = OrganizationDirectory(db)
        self.catalog = FrameworkCatalog()
        self.audit = AuditLog(db)
        self.flags = FlagService(db, self.directory, self.audit)
        self.ratings = RatingService(
            db, self.catalog, self.flags, self.audit, validity_days=settings.rating_validity_days
        )
        self.assessments = AssessmentService(
            db,
            self.catalog,
            self.directory,
            FileStorage(settings.resolved_evidence_dir()),
            evidence_max_bytes=settings.evidence_max_bytes,
        )
        self.screening = ScreeningService(
            db,
            self.flags,
            self.audit,
            threshold=settings.screening_threshold,
            max_bytes=settings.watchlist_max_bytes,
        )
        self.assessments.finalizer = self.ratings.finalize
        self.assessments.rating_of = self.ratings.rating_id_of
        # A registry event that changes a name or a key person re-screens the organization.
        self.directory.on_names_changed.append(self.screening.screen_organization)
        runtime.add_consumer(registry_consumer(self.directory))


def create_app(settings: DuediligenceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS)
    domains = Domains(runtime, settings)
    app = build_app(
        settings,
        runtime,
        title="Tejido due diligence",
        description="Frameworks, assessments, explainable ratings, screening, flags, verifiable audit log.",
        routers=[
            frameworks_router,
            rating_of_assessment_router,
            assessments_router,
            ratings_router,
            flags_router,
            screening_router,
            lists_router,
            audit_router,
        ],
        body_limit_overrides={
            r"^/v1/assessments/[^/]+/answers/[^/]+/evidence$": settings.evidence_max_bytes + 64 * 1024,
            r"^/v1/watchlists:import$": settings.watchlist_max_bytes + 64 * 1024,
        },
    )
    app.state.directory = domains.directory
    app.state.frameworks = domains.catalog
    app.state.audit = domains.audit
    app.state.flags = domains.flags
    app.state.ratings = domains.ratings
    app.state.assessments = domains.assessments
    app.state.screening = domains.screening
    app.state.domains = domains
    startup: list[Callable[[], object]] = (
        [domains.screening.load_shipped] if settings.load_synthetic_watchlist else []
    )
    _background(app, startup, domains.ratings.expire_due, settings.expiry_check_seconds)
    return app


def _background(
    app: FastAPI, startup: list[Callable[[], object]], job: Callable[[], object], seconds: float
) -> None:
    """After start-up (database migrated), run the ``startup`` jobs once, then ``job`` every ``seconds``
    in a worker thread while the app is up (wraps the app's lifespan)."""
    inner = app.router.lifespan_context

    async def loop() -> None:
        for first in startup:
            try:
                await asyncio.to_thread(first)
            except Exception as exc:
                log.warning(
                    "start-up job failed", job=getattr(first, "__name__", "job"), error=str(exc) or repr(exc)
                )
        while True:
            try:
                await asyncio.to_thread(job)
            except Exception as exc:  # keep going: the next round retries
                log.warning("periodic job failed", error=str(exc) or repr(exc))
            await asyncio.sleep(seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with inner(app_):
            task = asyncio.create_task(loop(), name="duediligence-background")
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app.router.lifespan_context = lifespan


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings come from ``TEJIDO_DUEDILIGENCE_*`` variables."""
    return create_app(DuediligenceSettings())
