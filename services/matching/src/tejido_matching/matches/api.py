"""HTTP routes of matches: thin handlers over :class:`MatchService`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request

from tejido_common.identity import ORG_EDITOR, current_principal, require_organization
from tejido_common.problems import Forbidden
from tejido_matching.matches.schemas import MatchPage, SearchRequest
from tejido_matching.matches.service import MatchService, build_filters, language_of
from tejido_matching.ranking.weights import Mode

router = APIRouter(tags=["matches"])


def _service(request: Request) -> MatchService:
    service: MatchService = request.app.state.matches
    return service


@router.get("/v1/matches", response_model=MatchPage, summary="Rank allies for an organization or an alliance")
async def list_matches(
    request: Request,
    organization_id: Annotated[str | None, Query(max_length=64)] = None,
    alliance_id: Annotated[str | None, Query(max_length=64)] = None,
    mode: Mode = "complementary",
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[
        str | None,
        Query(
            max_length=500,
            description="next_cursor of the previous page, unchanged (valid for the same query only)",
            # Documented only (a bad cursor stays a 400 naming the field): base64url body, signature.
            json_schema_extra={"pattern": r"^[A-Za-z0-9_-]+\.[0-9a-f]{32}$"},
        ),
    ] = None,
    include_blocked: bool = False,
    actor_type: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 - FastAPI copies defaults
    country: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    subdivision: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006
    program_area: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    language: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    accept_language: Annotated[str | None, Header()] = None,
) -> MatchPage:
    # CSO staff (org_editors) ask for allies of their own organizations only.
    if organization_id is not None:
        require_organization(organization_id)
    elif current_principal().role == ORG_EDITOR:
        raise Forbidden("an org_editor asks for allies of one of its organizations (organization_id)")
    filters = build_filters(actor_type, country, subdivision, program_area, language)
    return await _service(request).for_requester(
        organization_id=organization_id,
        alliance_id=alliance_id,
        mode=mode,
        limit=limit,
        cursor=cursor,
        include_blocked=include_blocked,
        filters=filters,
        lang=language_of(accept_language),
    )


@router.post("/v1/matches:search", response_model=MatchPage, summary="Rank allies for a free-text need")
async def search_matches(
    request: Request, body: SearchRequest, accept_language: Annotated[str | None, Header()] = None
) -> MatchPage:
    return await _service(request).search(body, language_of(accept_language))
