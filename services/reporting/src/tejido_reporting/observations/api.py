"""HTTP routes of observations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from tejido_common.http import problem_responses
from tejido_common.identity import current_principal, require_organization
from tejido_reporting.observations import examples
from tejido_reporting.observations.schemas import ImportReport, ObservationHistory, ObservationIn, Outcome
from tejido_reporting.observations.service import ObservationService

router = APIRouter(prefix="/v1/observations", tags=["observations"])
PROBLEMS = problem_responses(400, 404, 409, 413, 422)


def get_service(request: Request) -> ObservationService:
    service: ObservationService = request.app.state.observations
    return service


Service = Annotated[ObservationService, Depends(get_service)]


@router.post("", status_code=201, response_model=Outcome, responses=PROBLEMS)
def record_observation(body: ObservationIn, service: Service, response: Response) -> Outcome:
    """Record one revision of an observation: 201 when recorded, 200 when it changes nothing (a replay,
    or an older revision than the one in force, kept in the history). 409 when this revision was
    recorded with different content; 422 names each invalid field (text in a number, a unit or
    currency that does not fit the indicator, a disaggregation it does not allow, parts adding up to
    more than the total, an organization or alliance the registry never announced)."""
    require_organization(body.organization_id)  # CSO staff report for their own organizations only
    outcome = service.record(body.model_dump(mode="json", exclude_none=True))
    response.status_code = 201 if outcome.status == "recorded" else 200
    return outcome


@router.post(
    ":import",
    response_model=ImportReport,
    responses=PROBLEMS,
    openapi_extra={"requestBody": examples.IMPORT_REQUEST_BODY},
)
async def import_observations(request: Request, service: Service) -> ImportReport:
    """Bulk CSV (UTF-8, comma or semicolon; columns as in ``observations/bulk.py``; parts written
    ``sex:female=12|sex:male=10``). Valid rows are recorded, each bad row is reported with its number
    (header = row 0), field and reason; every row not in ``errors`` was committed."""
    body = await request.body()
    principal = current_principal()
    return await run_in_threadpool(service.import_csv, body, principal.may_act_for)


@router.get("", response_model=ObservationHistory, responses=PROBLEMS)
def observation_history(
    service: Service,
    organization_id: Annotated[str, Query(max_length=36)],
    observation_key: Annotated[str, Query(max_length=200)],
) -> ObservationHistory:
    """Every revision of one observation, oldest first (``in_force`` marks the one that counts)."""
    return service.history(organization_id, observation_key)
