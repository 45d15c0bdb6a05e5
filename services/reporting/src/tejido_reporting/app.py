"""Impact reporting service. This slice only stands up the service (health, database, broker);
indicators and aggregates arrive in their own issue."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from tejido_common.service import ServiceRuntime, build_app
from tejido_reporting.settings import ReportingSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: ReportingSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS)
    return build_app(
        settings, runtime, title="Tejido reporting", description="Aggregated impact reporting (placeholder)."
    )


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings come from ``TEJIDO_REPORTING_*`` variables."""
    return create_app(ReportingSettings())
