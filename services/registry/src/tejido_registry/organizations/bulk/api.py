"""Bulk import and export routes. The import body is streamed: parsed and imported as it arrives."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from tejido_common.http import problem_responses
from tejido_common.problems import DomainError, field_error
from tejido_registry.organizations.api import Queries, Search, Service
from tejido_registry.organizations.bulk import examples
from tejido_registry.organizations.bulk.export import Format, export_rows
from tejido_registry.organizations.bulk.importer import BulkImporter, ImportReport, import_report
from tejido_registry.organizations.bulk.stream import feed_importer

bulk_router = APIRouter(tags=["bulk"])
PROBLEMS = problem_responses(400, 404, 413, 415, 422)
MEDIA_TYPES: dict[str, Format] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json-lines": "jsonl",
    "application/x-jsonlines": "jsonl",
}


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


def _format_of(request: Request, explicit: Format | None) -> Format:
    if explicit:
        return explicit
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in MEDIA_TYPES:
        return MEDIA_TYPES[media]
    raise UnsupportedMediaType(
        f"send text/csv or application/x-ndjson (or ?format=csv|jsonl), not {media or 'no content type'}",
        errors=[field_error(["headers", "Content-Type"], "expected text/csv or application/x-ndjson")],
    )


@bulk_router.post(
    "/v1/organizations:import",
    response_model=ImportReport,
    responses=PROBLEMS,
    openapi_extra={"requestBody": examples.IMPORT_REQUEST_BODY},
)
async def import_organizations(
    request: Request,
    response: Response,
    service: Service,
    format: Annotated[Format | None, Query(description="overrides the Content-Type")] = None,
    allow_duplicates: Annotated[bool, Query(description="import rows that look like duplicates too")] = False,
) -> ImportReport:
    """Import organizations from CSV or JSON Lines. Valid rows are imported (upserted by identifier);
    the report lists every bad row with its number, field and reason. Sending the same file twice is
    harmless: the second time every row is ``unchanged``. Every import is a job: the report (and the
    ``Location`` header, and any problem that stops the import part-way) names it, and
    ``GET /v1/organizations/imports/{id}`` tells exactly what was committed."""
    fmt = _format_of(request, format)
    settings = request.app.state.settings
    importer = BulkImporter(
        service, fmt, allow_duplicates=allow_duplicates, batch_size=settings.import_batch_size
    )
    await asyncio.to_thread(importer.start)
    response.headers["Location"] = f"/v1/organizations/imports/{importer.report.id}"
    return await feed_importer(request, importer.run, settings.import_max_body_bytes)


@bulk_router.get("/v1/organizations/imports/{import_id}", response_model=ImportReport, responses=PROBLEMS)
def get_import(import_id: str, queries: Queries) -> ImportReport:
    """The durable report of an import: its state, the rows committed so far, every per-row error and,
    if it failed, why it stopped (re-send the rows after ``rows_committed``)."""
    return import_report(queries.db, import_id)


@bulk_router.get(
    "/v1/organizations:export",
    responses={**examples.EXPORT_RESPONSES, **PROBLEMS},
)
def export_organizations(
    queries: Queries,
    params: Search,
    format: Annotated[Format, Query(description="csv or jsonl")] = "jsonl",
) -> StreamingResponse:
    """Export the organizations matching the search filters, streamed (key people are never exported)."""
    queries.search(
        params.model_copy(update={"limit": 1})
    )  # reject bad filters with a problem before streaming starts
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        export_rows(queries, params, format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="organizations.{format}"'},
    )
