"""HTTP routes of ratings: read, explain, override, and the list due for re-assessment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from tejido_common.http import problem_responses
from tejido_duediligence.ratings.rules import Explanation
from tejido_duediligence.ratings.schemas import OverrideRequest, Rating
from tejido_duediligence.ratings.service import RatingService

router = APIRouter(prefix="/v1/ratings", tags=["ratings"])
assessment_router = APIRouter(prefix="/v1/assessments", tags=["ratings"])
PROBLEMS = problem_responses(400, 404, 409, 422)


def get_ratings(request: Request) -> RatingService:
    service: RatingService = request.app.state.ratings
    return service


Service = Annotated[RatingService, Depends(get_ratings)]


@router.get("", response_model=list[Rating], responses=PROBLEMS)
def list_ratings(
    service: Service,
    organization_id: Annotated[str | None, Query(max_length=36)] = None,
    due: Annotated[bool | None, Query(description="true: expired ratings due for re-assessment")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Rating]:
    """Ratings, newest first."""
    return service.search(organization_id, due, limit)


@router.get("/{rating_id}", response_model=Rating, responses=PROBLEMS)
def get_rating(rating_id: str, service: Service) -> Rating:
    return service.get(rating_id)


@router.get("/{rating_id}/explain", response_model=Explanation, responses=PROBLEMS)
def explain_rating(rating_id: str, service: Service) -> Explanation:
    """The smallest set of answers whose improvement moves the rating to the next better band."""
    return service.explain(rating_id)


@router.post("/{rating_id}:override", response_model=Rating, responses=PROBLEMS)
def override_rating(rating_id: str, body: OverrideRequest, service: Service) -> Rating:
    """A reviewer sets the band in force, with a written justification; the computed band is kept."""
    return service.override(rating_id, body)


@assessment_router.get("/{assessment_id}/rating", response_model=Rating, responses=PROBLEMS)
def assessment_rating(assessment_id: str, service: Service) -> Rating:
    return service.of_assessment(assessment_id)


@assessment_router.get("/{assessment_id}/rating/explain", response_model=Explanation, responses=PROBLEMS)
def assessment_rating_explain(assessment_id: str, service: Service) -> Explanation:
    return service.explain(service.of_assessment(assessment_id).id)
