"""HTTP routes of frameworks (read-only: frameworks are versioned files shipped with the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from tejido_common.http import problem_responses
from tejido_duediligence.frameworks.schemas import Framework, FrameworkSummary
from tejido_duediligence.frameworks.service import FrameworkCatalog

router = APIRouter(prefix="/v1/frameworks", tags=["frameworks"])


def get_catalog(request: Request) -> FrameworkCatalog:
    catalog: FrameworkCatalog = request.app.state.frameworks
    return catalog


Catalog = Annotated[FrameworkCatalog, Depends(get_catalog)]


@router.get("", response_model=list[FrameworkSummary])
def list_frameworks(catalog: Catalog) -> list[FrameworkSummary]:
    """Every framework version shipped with this service."""
    return catalog.list()


@router.get("/{framework_id}", response_model=Framework, responses=problem_responses(404))
def get_framework(
    framework_id: str,
    catalog: Catalog,
    version: Annotated[str | None, Query(max_length=40, description="default: the latest")] = None,
) -> Framework:
    """A framework with its dimensions and questions (texts in Spanish and English)."""
    return catalog.get(framework_id, version)
