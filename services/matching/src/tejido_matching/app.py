"""Ally matching service. This slice only stands up the service (health, database, broker);
ranking arrives in its own issue."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from tejido_common.service import ServiceRuntime, build_app
from tejido_matching.settings import MatchingSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: MatchingSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS)
    return build_app(settings, runtime, title="Tejido matching", description="Ally matching (placeholder).")


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings come from ``TEJIDO_MATCHING_*`` variables."""
    return create_app(MatchingSettings())
