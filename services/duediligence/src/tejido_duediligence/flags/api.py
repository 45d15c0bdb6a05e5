"""HTTP routes of flags."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status

from tejido_common.http import problem_responses
from tejido_duediligence.flags.schemas import Flag, FlagCreate, FlagTransition, OrganizationFlags
from tejido_duediligence.flags.service import FlagService

router = APIRouter(prefix="/v1/flags", tags=["flags"])
PROBLEMS = problem_responses(400, 404, 409, 422)
Level = Literal["observation", "yellow", "escalated", "red", "closed"]


def get_flags(request: Request) -> FlagService:
    service: FlagService = request.app.state.flags
    return service


Service = Annotated[FlagService, Depends(get_flags)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Flag, responses=PROBLEMS)
def raise_flag(body: FlagCreate, service: Service, response: Response) -> Flag:
    """Raise an observation or a yellow flag on a known organization, with the reason."""
    flag = service.raise_flag(body)
    response.headers["Location"] = f"/v1/flags/{flag.id}"
    return flag


@router.get("", response_model=list[Flag], responses=PROBLEMS)
def list_flags(
    service: Service,
    organization_id: Annotated[str | None, Query(max_length=36)] = None,
    level: Annotated[list[Level], Query()] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Flag]:
    """Flags, newest first."""
    return service.search(organization_id, list(level), limit)


@router.get("/organizations/{organization_id}", response_model=OrganizationFlags, responses=PROBLEMS)
def organization_flags(organization_id: str, service: Service) -> OrganizationFlags:
    """Every flag of one organization, and whether it is blocked (a red flag in force)."""
    return service.of_organization(organization_id)


@router.get("/{flag_id}", response_model=Flag, responses=PROBLEMS)
def get_flag(flag_id: str, service: Service) -> Flag:
    return service.get(flag_id)


@router.post("/{flag_id}:transition", response_model=Flag, responses=PROBLEMS)
def transition_flag(flag_id: str, body: FlagTransition, service: Service) -> Flag:
    """Change the level (observation → yellow → escalated → red, or back to yellow / closed) with why."""
    return service.transition(flag_id, body)
