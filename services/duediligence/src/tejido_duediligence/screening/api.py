"""HTTP routes of screening and watch lists. Hits name people: restricted to due-diligence reviewers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from tejido_common.http import problem_responses
from tejido_duediligence.screening.schemas import (
    CheckRequest,
    CheckResult,
    Decision,
    Hit,
    ListVersion,
    LoadReport,
    ScreeningRun,
    WatchList,
)
from tejido_duediligence.screening.service import ScreeningService

# Hits and checks name people: tagged restricted, like the registry's key people.
router = APIRouter(prefix="/v1/screening", tags=["screening", "restricted"])
lists_router = APIRouter(prefix="/v1/watchlists", tags=["watchlists"])
PROBLEMS = problem_responses(400, 404, 409, 413, 422)
HitStatus = Literal["pending", "confirmed", "dismissed", "withdrawn"]


def get_screening(request: Request) -> ScreeningService:
    service: ScreeningService = request.app.state.screening
    return service


Service = Annotated[ScreeningService, Depends(get_screening)]


@router.post("/checks", response_model=CheckResult, responses=PROBLEMS)
def check(body: CheckRequest, service: Service) -> CheckResult:
    """A reviewer's quick check of one name against the current list versions (nothing is stored)."""
    return service.check(body)


@router.get("/hits", response_model=list[Hit], responses=PROBLEMS)
def list_hits(
    service: Service,
    organization_id: Annotated[str | None, Query(max_length=36)] = None,
    status_: Annotated[list[HitStatus], Query(alias="status")] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Hit]:
    """The adjudication queue (``status=pending``), oldest first."""
    return service.hits(organization_id, list(status_), limit)


@router.get("/hits/{hit_id}", response_model=Hit, responses=PROBLEMS)
def get_hit(hit_id: str, service: Service) -> Hit:
    return service.get_hit(hit_id)


@router.post("/hits/{hit_id}:adjudicate", response_model=Hit, responses=PROBLEMS)
def adjudicate(hit_id: str, body: Decision, service: Service) -> Hit:
    """Confirm (raises a red flag) or dismiss a hit, with the reason."""
    return service.adjudicate(hit_id, body)


@router.post("/organizations/{organization_id}:rescreen", response_model=ScreeningRun, responses=PROBLEMS)
def rescreen(organization_id: str, service: Service) -> ScreeningRun:
    """Screen one organization again now (it also happens on every name or key-person change)."""
    return service.rescreen(organization_id)


# ":import" like the registry's bulk import: the gateway lets bulk files of that name through.
@lists_router.post(
    ":import", response_model=LoadReport, status_code=status.HTTP_201_CREATED, responses=PROBLEMS
)
async def load_list(
    service: Service,
    response: Response,
    file: Annotated[UploadFile, File(description="UN SC consolidated list XML, or CSV")],
    format_: Annotated[Literal["un-xml", "csv"] | None, Form(alias="format")] = None,
    list_id: Annotated[str | None, Form(max_length=60, pattern=r"^[a-z0-9][a-z0-9._-]*$")] = None,
) -> LoadReport:
    """Load a new version of one or more lists (kept alongside earlier versions); bad records are
    listed and skipped; every organization is screened again against a new version."""
    data = await file.read(service.max_bytes + 1)
    report = await run_in_threadpool(
        service.load,
        data,
        filename=file.filename,
        content_type=file.content_type,
        fmt=format_,
        list_id=list_id,
    )
    if not report.versions:
        response.status_code = status.HTTP_200_OK
    return report


@lists_router.get("", response_model=list[WatchList])
def list_lists(service: Service) -> list[WatchList]:
    return service.watchlists()


@lists_router.get("/{list_id}/versions", response_model=list[ListVersion], responses=PROBLEMS)
def list_versions(list_id: str, service: Service) -> list[ListVersion]:
    return service.versions(list_id)
