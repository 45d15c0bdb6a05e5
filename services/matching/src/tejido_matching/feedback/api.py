"""HTTP routes of feedback on suggestions."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request

from tejido_common.identity import ORG_EDITOR, current_principal, require_organization
from tejido_common.problems import Forbidden
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
    require_organization(body.requester_id)  # an org_editor marks its own organizations' suggestions
    return await asyncio.to_thread(_service(request).record, body)


@router.get("/v1/matches/feedback/stats", response_model=FeedbackStats, summary="Acceptance rates")
async def feedback_stats(
    request: Request, requester_id: Annotated[str | None, Query(max_length=36)] = None
) -> FeedbackStats:
    if requester_id is not None:
        require_organization(requester_id)
    elif current_principal().role == ORG_EDITOR:
        raise Forbidden("an org_editor reads the rates of one of its organizations (requester_id)")
    return await asyncio.to_thread(_service(request).stats, requester_id)
