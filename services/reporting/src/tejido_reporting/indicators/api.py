"""HTTP routes of the indicator catalog."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from tejido_common.http import problem_responses
from tejido_reporting.indicators.schemas import (
    Indicator,
    IndicatorDefinition,
    IndicatorList,
    IndicatorVersions,
)
from tejido_reporting.indicators.service import IndicatorService

router = APIRouter(prefix="/v1/indicators", tags=["indicators"])
PROBLEMS = problem_responses(400, 404, 409, 413, 422)


def get_service(request: Request) -> IndicatorService:
    service: IndicatorService = request.app.state.indicators
    return service


Service = Annotated[IndicatorService, Depends(get_service)]


@router.get("", response_model=IndicatorList, responses=PROBLEMS)
def list_indicators(
    service: Service,
    family: Annotated[str | None, Query(description="social indicator family, e.g. quality_of_life")] = None,
    program_area: Annotated[str | None, Query(description="program area or category, e.g. ED1 or ED")] = None,
) -> IndicatorList:
    """The latest version of every indicator, default catalog included."""
    return IndicatorList(items=service.list(family, program_area))


@router.post(
    "",
    status_code=201,
    response_model=Indicator,
    responses={**PROBLEMS, 200: {"model": Indicator, "description": "identical to the current version"}},
)
def define_indicator(
    service: Service,
    response: Response,
    body: IndicatorDefinition,
) -> Indicator:
    """Define an indicator, or a new version of one (a version is never changed in place; an
    indicator in use keeps its unit and value type: 409). Sending the current definition again
    changes nothing (200)."""
    indicator, created = service.define(body.model_dump(mode="json", exclude_none=True))
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/v1/indicators/{indicator.code}?version={indicator.version}"
    return indicator


@router.get("/{code}", response_model=Indicator, responses=PROBLEMS)
def get_indicator(
    code: str, service: Service, version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None
) -> Indicator:
    return service.get(code, version)


@router.get("/{code}/versions", response_model=IndicatorVersions, responses=PROBLEMS)
def indicator_versions(code: str, service: Service) -> IndicatorVersions:
    return IndicatorVersions(code=code, versions=service.versions(code))
