"""Bulk import and export routes. The import body is streamed: parsed and imported as it arrives."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import queue
from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from tejido_common.http import problem_responses
from tejido_common.problems import BadRequest, DomainError, field_error
from tejido_registry.api import Search, Service
from tejido_registry.bulk import BulkImporter, Format, ImportReport, export_rows

bulk_router = APIRouter(tags=["bulk"])
PROBLEMS = problem_responses(400, 413, 415, 422)
MEDIA_TYPES: dict[str, Format] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json-lines": "jsonl",
    "application/x-jsonlines": "jsonl",
}
_END = object()
_ABORT = object()


class ImportAborted(Exception):
    """The client went away mid-upload: the rows of the unfinished batch are not imported."""


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


def _lines(chunks: queue.Queue[object]) -> Iterator[str]:
    """Text lines (with their newline) from the byte chunks the request handler feeds in."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    while True:
        chunk = chunks.get()
        if chunk is _ABORT:
            raise ImportAborted
        final = chunk is _END
        try:
            text = pending + decoder.decode(b"" if final else chunk, final=final)  # type: ignore[arg-type]
        except UnicodeDecodeError as exc:
            raise BadRequest(
                "the file is not UTF-8 text",
                errors=[field_error(["file"], f"invalid UTF-8 at byte {exc.start}")],
            ) from exc
        *complete, pending = text.split("\n")
        for line in complete:
            yield line + "\n"
        if final:
            if pending:
                yield pending
            return


@bulk_router.post(
    "/v1/organizations:import",
    response_model=ImportReport,
    responses=PROBLEMS,
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
            "required": True,
        }
    },
)
async def import_organizations(
    request: Request,
    service: Service,
    format: Annotated[Format | None, Query(description="overrides the Content-Type")] = None,
    allow_duplicates: Annotated[bool, Query(description="import rows that look like duplicates too")] = False,
) -> ImportReport:
    """Import organizations from CSV or JSON Lines. Valid rows are imported (upserted by identifier);
    the report lists every bad row with its number, field and reason. Sending the same file twice is
    harmless: the second time every row is ``unchanged``."""
    fmt = _format_of(request, format)
    importer = BulkImporter(service, fmt, allow_duplicates=allow_duplicates)
    chunks: queue.Queue[object] = queue.Queue(maxsize=16)
    worker = asyncio.ensure_future(asyncio.to_thread(importer.run, _lines(chunks)))

    async def feed(item: object) -> bool:
        """Hand a chunk to the importer thread; False once it has stopped (e.g. a bad header)."""
        while not worker.done():
            try:
                chunks.put_nowait(item)
                return True
            except queue.Full:
                await asyncio.sleep(0.005)
        return False

    try:
        async for chunk in request.stream():
            if chunk and not await feed(chunk):
                break
        await feed(_END)
        return await worker
    finally:
        if not worker.done():
            # Unblock the importer thread so it ends instead of waiting for chunks forever.
            with contextlib.suppress(queue.Empty):
                while True:
                    chunks.get_nowait()
            chunks.put_nowait(_ABORT)
            with contextlib.suppress(BaseException):
                await worker


@bulk_router.get(
    "/v1/organizations:export",
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}, **PROBLEMS},
)
def export_organizations(
    service: Service,
    params: Search,
    format: Annotated[Format, Query(description="csv or jsonl")] = "jsonl",
) -> StreamingResponse:
    """Export the organizations matching the search filters, streamed (key people are never exported)."""
    service.search(replace(params, limit=1))  # reject bad filters with a problem before streaming starts
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        export_rows(service, params, format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="organizations.{format}"'},
    )
