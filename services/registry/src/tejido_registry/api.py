"""HTTP routes of the registry: thin handlers over :class:`OrganizationService`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from tejido_common.problems import Problem, Unprocessable, field_error

from tejido_registry.schemas import Organization, OrganizationCreate, OrganizationPage, OrganizationPatch
from tejido_registry.service import OrganizationService

router = APIRouter(prefix="/v1/organizations", tags=["organizations"])
PROBLEMS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (400, 404, 409, 412, 413, 422)
}


def get_service(request: Request) -> OrganizationService:
    service: OrganizationService = request.app.state.organizations
    return service


Service = Annotated[OrganizationService, Depends(get_service)]


def _etag(response: Response, org: Organization) -> Organization:
    response.headers["ETag"] = f'W/"{org.version}"'
    return org


def _parse_if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise Unprocessable(
            "If-Match must carry an ETag this API returned",
            errors=[field_error(["headers", "If-Match"], 'expected W/"<version>"')],
        )
    return int(raw)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Organization, responses=PROBLEMS)
def register_organization(body: OrganizationCreate, service: Service, response: Response) -> Organization:
    """Register an organization. Emits ``registry.organization.registered.v1``."""
    org = service.create(body)
    response.headers["Location"] = f"/v1/organizations/{org.id}"
    return _etag(response, org)


@router.get("", response_model=OrganizationPage, responses=PROBLEMS)
def list_organizations(
    service: Service,
    actor_type: Annotated[list[str], Query(description="actor type code; repeat for several")] = [],  # noqa: B006
    country: Annotated[list[str], Query(description="ISO 3166-1 alpha-2; repeat for several")] = [],  # noqa: B006
    program_area: Annotated[list[str], Query(description="program code (HE1) or category (HE)")] = [],  # noqa: B006
    status_: Annotated[list[str], Query(alias="status", description="draft, active or archived")] = [],  # noqa: B006
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> OrganizationPage:
    """List organizations (archived ones only when asked for), oldest first, with cursor pagination."""
    bad = [s for s in status_ if s not in ("draft", "active", "archived")]
    if bad:
        raise Unprocessable(
            "unknown status filter", errors=[field_error(["query", "status"], f"unknown status {bad[0]!r}")]
        )
    return service.list_page(
        statuses=status_,
        actor_types=actor_type,
        countries=country,
        program_areas=program_area,
        cursor=cursor,
        limit=limit,
    )


@router.post("/{org_id}:archive", response_model=Organization, responses=PROBLEMS)
def archive_organization(org_id: str, service: Service, response: Response) -> Organization:
    """Archive an organization (idempotent). Emits ``registry.organization.archived.v1`` once."""
    return _etag(response, service.archive(org_id))


@router.get("/{org_id}", response_model=Organization, responses=PROBLEMS)
def get_organization(org_id: str, service: Service, response: Response) -> Organization:
    return _etag(response, service.get(org_id))


@router.patch("/{org_id}", response_model=Organization, responses=PROBLEMS)
def update_organization(
    org_id: str,
    body: OrganizationPatch,
    service: Service,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> Organization:
    """Partially update sections (JSON merge patch). ``If-Match`` guards against lost updates.
    Emits ``registry.organization.updated.v1`` with the changed fields, only if something changed."""
    return _etag(response, service.update(org_id, body, if_match=_parse_if_match(if_match)))
