"""Organization registry service: the composition root, installing each domain package."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from tejido_common.runtime import ServiceRuntime, build_app
from tejido_registry.alliances import install_alliances
from tejido_registry.organizations import install_organizations
from tejido_registry.settings import RegistrySettings

MIGRATIONS = Path(__file__).parent / "migrations"
IMPORT_LIMIT_SLACK = 16 * 1024 * 1024


def create_app(settings: RegistrySettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS)
    app = build_app(
        settings,
        runtime,
        title="Tejido registry",
        description="Organizations and their profiles: the source of truth for who is out there.",
        # The import route enforces import_max_body_bytes itself, so it can report what it committed;
        # the middleware only backs it up.
        body_limit_overrides={r":import$": settings.import_max_body_bytes + IMPORT_LIMIT_SLACK},
    )
    install_organizations(app, runtime, settings)
    install_alliances(app, runtime.db, settings)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings come from ``TEJIDO_REGISTRY_*`` variables."""
    return create_app(RegistrySettings())
