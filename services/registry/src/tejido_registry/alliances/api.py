"""HTTP routes of alliances: thin handlers over :class:`AllianceService`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from tejido_common.http import Cursor, IfMatch, parse_if_match, problem_responses, with_etag
from tejido_registry.alliances.schemas import (
    Alliance,
    AllianceCreate,
    AllianceHistory,
    AlliancePage,
    AlliancePatch,
    OrganizationAlliances,
    Party,
    PartyCreate,
    PartyPatch,
    TransitionRequest,
)
from tejido_registry.alliances.service import AllianceQuery, AllianceService

router = APIRouter(prefix="/v1/alliances", tags=["alliances"])
organization_router = APIRouter(prefix="/v1/organizations", tags=["alliances"])
PROBLEMS = problem_responses(400, 404, 409, 412, 413, 422)
Many = list[str]


def get_service(request: Request) -> AllianceService:
    service: AllianceService = request.app.state.alliances
    return service


Service = Annotated[AllianceService, Depends(get_service)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Alliance, responses=PROBLEMS)
def create_alliance(body: AllianceCreate, service: Service, response: Response) -> Alliance:
    """Create an alliance in stage *objectives*. Parties must be existing, non-archived organizations.
    Emits ``registry.alliance.created.v1``."""
    alliance = service.create(body)
    response.headers["Location"] = f"/v1/alliances/{alliance.id}"
    return with_etag(response, alliance)


@router.get("", response_model=AlliancePage, responses=PROBLEMS)
def list_alliances(
    service: Service,
    organization_id: Annotated[Many, Query(description="alliances this organization is a party of")] = [],  # noqa: B006
    stage: Annotated[Many, Query(description="repeat for several")] = [],  # noqa: B006
    type_: Annotated[Many, Query(alias="type")] = [],  # noqa: B006
    modality: Annotated[Many, Query()] = [],  # noqa: B006
    scope: Annotated[Many, Query()] = [],  # noqa: B006
    development_strategy: Annotated[Many, Query()] = [],  # noqa: B006
    cursor: Cursor = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> AlliancePage:
    """List alliances in creation order, filtered (values of one filter are alternatives)."""
    return service.search(
        AllianceQuery(
            organization_ids=organization_id,
            stages=stage,
            types=type_,
            modalities=modality,
            scopes=scope,
            development_strategies=development_strategy,
            cursor=cursor,
            limit=limit,
        )
    )


@router.post("/{alliance_id}:transition", response_model=Alliance, responses=PROBLEMS)
def transition_alliance(
    alliance_id: str, body: TransitionRequest, service: Service, response: Response, if_match: IfMatch = None
) -> Alliance:
    """Move the alliance to another stage: objectives → prospecting → negotiation → (trial) →
    commitments → established → concluded, or dissolved from any non-terminal stage; one step back
    from negotiation or trial. 409 names ``to_stage`` for an illegal move, or each missing field when
    a gate is not met. Emits ``registry.alliance.stage_changed.v1``."""
    return with_etag(response, service.transition(alliance_id, body, if_match=parse_if_match(if_match)))


@router.get("/{alliance_id}", response_model=Alliance, responses=PROBLEMS)
def get_alliance(alliance_id: str, service: Service, response: Response) -> Alliance:
    return with_etag(response, service.get(alliance_id))


@router.patch("/{alliance_id}", response_model=Alliance, responses=PROBLEMS)
def update_alliance(
    alliance_id: str, body: AlliancePatch, service: Service, response: Response, if_match: IfMatch = None
) -> Alliance:
    """JSON merge patch of the non-stage fields (null clears a field). Emits
    ``registry.alliance.updated.v1`` with the changed fields, only if something changed."""
    changes = body.model_dump(exclude_unset=True)
    return with_etag(response, service.update(alliance_id, changes, if_match=parse_if_match(if_match)))


@router.get("/{alliance_id}/history", response_model=AllianceHistory, responses=PROBLEMS)
def alliance_history(alliance_id: str, service: Service) -> AllianceHistory:
    """Stage changes, oldest first, with time, reason and who made them."""
    return service.history(alliance_id)


@router.post(
    "/{alliance_id}/parties", status_code=status.HTTP_201_CREATED, response_model=Alliance, responses=PROBLEMS
)
def add_party(
    alliance_id: str, body: PartyCreate, service: Service, response: Response, if_match: IfMatch = None
) -> Alliance:
    """Add a party (an existing, non-archived organization). Emits ``registry.alliance.party_added.v1``."""
    alliance = service.add_party(alliance_id, body, if_match=parse_if_match(if_match))
    response.headers["Location"] = f"/v1/alliances/{alliance_id}/parties/{body.organization_id}"
    return with_etag(response, alliance)


@router.get("/{alliance_id}/parties/{organization_id}", response_model=Party, responses=PROBLEMS)
def get_party(alliance_id: str, organization_id: str, service: Service) -> Party:
    return service.get_party(alliance_id, organization_id)


@router.patch("/{alliance_id}/parties/{organization_id}", response_model=Alliance, responses=PROBLEMS)
def update_party(
    alliance_id: str,
    organization_id: str,
    body: PartyPatch,
    service: Service,
    response: Response,
    if_match: IfMatch = None,
) -> Alliance:
    """Merge patch of one party's role, contribution, expected benefit or legitimacy sought. Emits
    ``registry.alliance.updated.v1``."""
    changes = body.model_dump(exclude_unset=True)
    return with_etag(
        response,
        service.update_party(alliance_id, organization_id, changes, if_match=parse_if_match(if_match)),
    )


@router.delete("/{alliance_id}/parties/{organization_id}", response_model=Alliance, responses=PROBLEMS)
def remove_party(
    alliance_id: str, organization_id: str, service: Service, response: Response, if_match: IfMatch = None
) -> Alliance:
    """Remove a party. Refused (409) if fewer than two parties would remain past prospecting, for the
    last party, or while it signs an agreement. Emits ``registry.alliance.party_removed.v1``."""
    return with_etag(
        response, service.remove_party(alliance_id, organization_id, if_match=parse_if_match(if_match))
    )


@organization_router.get("/{org_id}/alliances", response_model=OrganizationAlliances, responses=PROBLEMS)
def organization_alliances(
    org_id: str,
    service: Service,
    cursor: Cursor = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> OrganizationAlliances:
    """The alliances this organization is a party of, with its role in each."""
    return service.organization_alliances(org_id, cursor=cursor, limit=limit)
