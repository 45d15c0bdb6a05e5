"""HTTP routes of feedback on suggestions."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request

from tejido_matching.feedback.schemas import FeedbackIn, FeedbackOut, FeedbackStats
from tejido_matching.feedback.service import FeedbackService

router = APIRouter(tags=["matches"])


def _service(request: Request) -> FeedbackService:
    service: FeedbackService = request.app.state.feedback
    return service


@router.post("/v1/matches/feedback", response_model=FeedbackOut, status_code=201, summary="Mark a suggestion")
async def post_feedback(request: Request, body: FeedbackIn) -> FeedbackOut:
    """``contacted`` or ``not_relevant`` (with a reason): dismissed candidates leave that requester's
    next results."""
    return await asyncio.to_thread(_service(request).record, body)


@router.get("/v1/matches/feedback/stats", response_model=FeedbackStats, summary="Acceptance rates")
async def feedback_stats(
    request: Request, requester_id: Annotated[str | None, Query(max_length=36)] = None
) -> FeedbackStats:
    return await asyncio.to_thread(_service(request).stats, requester_id)
