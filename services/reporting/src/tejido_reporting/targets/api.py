"""HTTP routes of targets."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from tejido_common.http import problem_responses
from tejido_reporting.targets.schemas import Target, TargetIn, TargetList, TargetPatch
from tejido_reporting.targets.service import TargetService

router = APIRouter(prefix="/v1/targets", tags=["targets"])
PROBLEMS = problem_responses(400, 404, 409, 413, 422)


def get_service(request: Request) -> TargetService:
    service: TargetService = request.app.state.targets
    return service


Service = Annotated[TargetService, Depends(get_service)]
AsOf = Annotated[date | None, Query(description="judge progress on this day (default today)")]


@router.post("", status_code=201, response_model=Target, responses=PROBLEMS)
def create_target(body: TargetIn, service: Service, response: Response) -> Target:
    """A target (and optional baseline) of an indicator for one organization, alliance or territory
    over a period; 409 if that scope and period already has one."""
    target = service.create(body)
    response.headers["Location"] = f"/v1/targets/{target.id}"
    return target


@router.get("", response_model=TargetList, responses=PROBLEMS)
def list_targets(
    service: Service,
    indicator: Annotated[str | None, Query(max_length=60)] = None,
    scope: Annotated[Literal["organization", "alliance", "territory"] | None, Query()] = None,
    scope_id: Annotated[list[str], Query()] = [],  # noqa: B006
    as_of: AsOf = None,
) -> TargetList:
    """Targets with their progress (met / on track / behind / no data)."""
    return TargetList(items=service.search(indicator, scope, scope_id, as_of))


@router.get("/{target_id}", response_model=Target, responses=PROBLEMS)
def get_target(target_id: str, service: Service, as_of: AsOf = None) -> Target:
    return service.get(target_id, as_of)


@router.patch("/{target_id}", response_model=Target, responses=PROBLEMS)
def update_target(target_id: str, body: TargetPatch, service: Service) -> Target:
    """Change a target's value, baseline (``null`` removes it), period or currency, checked as on
    creation; 409 if another target already has that scope and period. The indicator and the scope
    name the target and cannot change (422)."""
    return service.update(target_id, body)


@router.delete("/{target_id}", status_code=204, responses=PROBLEMS)
def delete_target(target_id: str, service: Service) -> Response:
    """Delete a target (its progress is computed, nothing else refers to it)."""
    service.delete(target_id)
    return Response(status_code=204)
