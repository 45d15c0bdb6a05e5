"""Ally matching service: composition root (installs each domain package, nothing else)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from tejido_common.runtime import build_app
from tejido_matching.feedback.api import router as feedback_router
from tejido_matching.feedback.service import FeedbackService
from tejido_matching.kit.runtime import MatchingRuntime
from tejido_matching.matches.api import router as matches_router
from tejido_matching.matches.cursor import CursorCodec
from tejido_matching.matches.service import MatchService
from tejido_matching.settings import MatchingSettings
from tejido_matching.workers.client import RankingClient

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: MatchingSettings) -> FastAPI:
    runtime = MatchingRuntime(settings, MIGRATIONS)
    app = build_app(
        settings,
        runtime,
        title="Tejido matching",
        description="Ally matching: explainable two-sided ranking of organizations to ally with.",
        routers=[feedback_router, matches_router],
    )
    secret = settings.cursor_secret.get_secret_value().encode() if settings.cursor_secret else os.urandom(32)
    app.state.matches = MatchService(
        runtime.db,
        RankingClient(runtime.broker, settings.rank_subject, settings.rank_timeout_seconds),
        CursorCodec(secret),
        settings.page_size_default,
        settings.page_size_max,
    )
    app.state.feedback = FeedbackService(runtime.db)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings come from ``TEJIDO_MATCHING_*`` variables."""
    return create_app(MatchingSettings())
