"""Organization registry service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from tejido_common.consumer import ConsumerSpec
from tejido_common.service import ServiceRuntime, build_app
from tejido_registry.alliances import install_alliances
from tejido_registry.api import router
from tejido_registry.api_bulk import bulk_router
from tejido_registry.service import OrganizationService
from tejido_registry.settings import RegistrySettings

MIGRATIONS = Path(__file__).parent / "migrations"
IMPORT_LIMIT_SLACK = 16 * 1024 * 1024


def create_app(settings: RegistrySettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS)
    organizations = OrganizationService(
        runtime.db,
        page_size_default=settings.page_size_default,
        page_size_max=settings.page_size_max,
        duplicate_threshold=settings.duplicate_name_threshold,
    )
    # The current due-diligence band is shown on profiles: kept from the rating events.
    runtime.add_consumer(
        ConsumerSpec(
            name="registry",
            stream="DUEDILIGENCE",
            filter_subject="duediligence.>",
            handlers={"duediligence.rating.published.v1": organizations.apply_due_diligence_rating},
        )
    )
    app = build_app(
        settings,
        runtime,
        title="Tejido registry",
        description="Organizations and their profiles: the source of truth for who is out there.",
        routers=[bulk_router, router],
        # The import route enforces import_max_body_bytes itself, so it can report what it committed;
        # the middleware only backs it up.
        body_limit_overrides={r":import$": settings.import_max_body_bytes + IMPORT_LIMIT_SLACK},
    )
    app.state.organizations = organizations
    install_alliances(app, runtime.db, settings)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings come from ``TEJIDO_REGISTRY_*`` variables."""
    return create_app(RegistrySettings())
