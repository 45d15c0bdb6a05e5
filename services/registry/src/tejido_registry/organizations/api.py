"""HTTP routes of organizations: thin handlers over :class:`OrganizationService` (writes) and
:class:`OrganizationQueries` (reads)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse

from tejido_common.http import Cursor, IfMatch, parse_if_match, problem_responses, with_etag
from tejido_common.identity import OPERATOR, ORG_EDITOR, REVIEWER, require_organization, require_role
from tejido_registry.kit.types import UtcDateTime
from tejido_registry.organizations.queries import OrganizationQueries
from tejido_registry.organizations.schemas import (
    LIMIT_DOC,
    SECTIONS,
    TIME_DOC,
    Organization,
    OrganizationCreate,
    OrganizationHistory,
    OrganizationPage,
    OrganizationPatch,
    People,
    SearchQuery,
)
from tejido_registry.organizations.service import OrganizationService

router = APIRouter(prefix="/v1/organizations", tags=["organizations"])
PROBLEMS = problem_responses(400, 404, 409, 412, 413, 422)
Many = list[str]


def get_service(request: Request) -> OrganizationService:
    service: OrganizationService = request.app.state.organizations
    return service


def get_queries(request: Request) -> OrganizationQueries:
    queries: OrganizationQueries = request.app.state.organization_queries
    return queries


Service = Annotated[OrganizationService, Depends(get_service)]
Queries = Annotated[OrganizationQueries, Depends(get_queries)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Organization, responses=PROBLEMS)
def register_organization(
    body: OrganizationCreate,
    service: Service,
    response: Response,
    allow_duplicate: Annotated[
        bool, Query(description="register even if organizations with very similar names exist")
    ] = False,
) -> Organization:
    """Register an organization. 409 lists likely duplicates (same identifier, or a similar name or
    alias in the same country). Emits ``registry.organization.registered.v1``."""
    org = service.create(body, allow_duplicate=allow_duplicate)
    response.headers["Location"] = f"/v1/organizations/{org.id}"
    return with_etag(response, org)


# One pydantic model for every search parameter, shared by search and export.
Search = Annotated[SearchQuery, Query()]


@router.get("", response_model=OrganizationPage, responses=PROBLEMS)
def search_organizations(queries: Queries, params: Search) -> JSONResponse:
    """Search and list organizations (archived ones only when asked for, or in the modified_since feed).
    Key people are never part of the results."""
    # The page is built from stored, already validated profiles: skip FastAPI's re-validation.
    return JSONResponse(queries.search(params))


@router.post("/{org_id}:archive", response_model=Organization, responses=PROBLEMS)
def archive_organization(org_id: str, service: Service, response: Response) -> Organization:
    """Archive an organization (idempotent). Emits ``registry.organization.archived.v1`` once."""
    return with_etag(response, service.archive(org_id))


@router.get("/{org_id}", response_model=Organization, responses=PROBLEMS)
def get_organization(
    org_id: str,
    queries: Queries,
    response: Response,
    as_of: Annotated[
        UtcDateTime | None, Query(description="the profile as it was at this time" + TIME_DOC)
    ] = None,
) -> Organization:
    return with_etag(response, queries.get(org_id, as_of=as_of))


@router.patch("/{org_id}", response_model=Organization, responses=PROBLEMS)
def update_organization(
    org_id: str, body: OrganizationPatch, service: Service, response: Response, if_match: IfMatch = None
) -> Organization:
    """Partially update sections (JSON merge patch; null clears a field). Emits
    ``registry.organization.updated.v1`` with the changed fields, only if something changed."""
    changes = body.model_dump(exclude_unset=True)
    return with_etag(response, service.update(org_id, changes, if_match=parse_if_match(if_match)))


@router.get("/{org_id}/history", response_model=OrganizationHistory, responses=PROBLEMS)
def organization_history(
    org_id: str,
    queries: Queries,
    cursor: Cursor = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description=LIMIT_DOC)] = None,
) -> OrganizationHistory:
    """Every change, newest first: version, who, when, and each field's old → new value."""
    return queries.history(org_id, cursor=cursor, limit=limit)


@router.get("/{org_id}/people", response_model=People, responses=PROBLEMS, tags=["restricted"])
def get_people(org_id: str, queries: Queries, response: Response) -> People:
    """Key people (restricted: for due-diligence reviewers; never in public reads, exports or search).
    The ETag is the organization's version, to send back in ``If-Match`` when replacing them."""
    require_roles_for_people(org_id, OPERATOR, REVIEWER, ORG_EDITOR)
    people, version = queries.get_people(org_id)
    response.headers["ETag"] = f'W/"{version}"'
    return people


@router.put("/{org_id}/people", response_model=People, responses=PROBLEMS, tags=["restricted"])
def put_people(
    org_id: str, body: People, service: Service, response: Response, if_match: IfMatch = None
) -> People:
    require_roles_for_people(org_id, OPERATOR, ORG_EDITOR)
    people, version = service.replace_people(org_id, body, if_match=parse_if_match(if_match))
    response.headers["ETag"] = f'W/"{version}"'
    return people


def _section_routes(section: str, model: type[Any]) -> None:
    """GET, PATCH (merge) and PUT (replace) of one profile section as its own sub-resource."""

    def read(org_id: str, queries: Queries, response: Response) -> Any:
        org = with_etag(response, queries.get(org_id))
        return getattr(org, section)

    def patch(
        org_id: str,
        service: Service,
        response: Response,
        body: dict[str, Any],
        if_match: IfMatch = None,
    ) -> Any:
        org = with_etag(response, service.update(org_id, {section: body}, if_match=parse_if_match(if_match)))
        return getattr(org, section)

    def put(org_id: str, service: Service, response: Response, body: Any, if_match: IfMatch = None) -> Any:
        payload = body.model_dump(mode="json", exclude_unset=True)
        org = with_etag(
            response,
            service.update(org_id, {section: payload}, if_match=parse_if_match(if_match), replace=True),
        )
        return getattr(org, section)

    # Annotations are strings under ``from __future__ import annotations``; these two refer to
    # closure variables, so give FastAPI the real objects.
    patch.__annotations__["body"] = Annotated[
        dict[str, Any], Body(description=f"fields of {section} to change")
    ]
    put.__annotations__["body"] = model
    path = f"/{{org_id}}/{section}"
    common: dict[str, Any] = {
        "response_model": model,
        "responses": PROBLEMS,
        "tags": ["organization sections"],
    }
    router.add_api_route(
        path, read, methods=["GET"], name=f"get_{section}", summary=f"Read {section}", **common
    )
    router.add_api_route(
        path, patch, methods=["PATCH"], name=f"patch_{section}", summary=f"Merge into {section}", **common
    )
    router.add_api_route(
        path, put, methods=["PUT"], name=f"put_{section}", summary=f"Replace {section}", **common
    )


for _section, _model in SECTIONS.items():
    _section_routes(_section, _model)


def require_roles_for_people(org_id: str, *roles: str) -> None:
    """Restricted data is checked here too, not only at the gateway: 401/403 unless the caller has one
    of ``roles`` and (org_editors) the organization is in its scope."""
    require_role(*roles)()
    require_organization(org_id)
