"""Due-diligence scoring service. This slice only stands up the service (health, database, broker);
assessments and screening arrive in their own issue."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from tejido_common.service import ServiceRuntime, build_app
from tejido_duediligence.settings import DuediligenceSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: DuediligenceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS)
    return build_app(
        settings, runtime, title="Tejido due diligence", description="Due-diligence scoring (placeholder)."
    )


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings come from ``TEJIDO_DUEDILIGENCE_*`` variables."""
    return create_app(DuediligenceSettings())
