"""Impact reporting service: composition root (installs each domain package, nothing else)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from tejido_common.runtime import ServiceRuntime, build_app
from tejido_reporting.aggregates.api import router as aggregates_router
from tejido_reporting.aggregates.queries import Aggregator
from tejido_reporting.exports.api import router as exports_router
from tejido_reporting.indicators.api import router as indicators_router
from tejido_reporting.indicators.service import IndicatorService, seed_defaults
from tejido_reporting.network.api import router as network_router
from tejido_reporting.network.handlers import consumer_specs
from tejido_reporting.observations.api import router as observations_router
from tejido_reporting.observations.handlers import consumer_spec as observation_consumer
from tejido_reporting.observations.service import ObservationService
from tejido_reporting.reports.api import router as reports_router
from tejido_reporting.reports.service import ReportService
from tejido_reporting.settings import ReportingSettings
from tejido_reporting.targets.api import router as targets_router
from tejido_reporting.targets.service import TargetService

MIGRATIONS = Path(__file__).parent / "migrations"


class ReportingRuntime(ServiceRuntime):
    def migrate(self) -> None:
        super().migrate()
        # The default catalog ships as data: indicators a database does not have yet are added.
        try:
            with self.db.session() as session:
                seed_defaults(session)
        except IntegrityError:
            pass  # another replica starting at the same time added them first


def create_app(settings: ReportingSettings) -> FastAPI:
    runtime = ReportingRuntime(settings, migrations_dir=MIGRATIONS)
    for spec in [*consumer_specs(), observation_consumer()]:
        runtime.add_consumer(spec)
    app = build_app(
        settings,
        runtime,
        title="Tejido reporting",
        description="Indicator catalog, targets, observations, aggregates, exports and reports.",
        routers=[
            indicators_router,
            observations_router,
            targets_router,
            aggregates_router,
            network_router,
            exports_router,
            reports_router,
        ],
        body_limit_overrides={r":import$": settings.import_max_body_bytes},
    )
    app.state.indicators = IndicatorService(runtime.db)
    app.state.observations = ObservationService(runtime.db, batch_size=settings.import_batch_size)
    app.state.aggregator = aggregator = Aggregator(runtime.db, settings.fx_rates)
    app.state.targets = targets = TargetService(runtime.db, aggregator)
    app.state.reports = ReportService(runtime.db, aggregator, targets)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings come from ``TEJIDO_REPORTING_*`` variables."""
    return create_app(ReportingSettings())
