"""``GET /v1/reports/collective-impact``: the report as a self-contained HTML page."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tejido_common.http import problem_responses
from tejido_reporting.kit.errors import invalid
from tejido_reporting.kit.periods import PeriodError, parse_period
from tejido_reporting.reports import html
from tejido_reporting.reports.service import ReportService

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/collective-impact", response_class=HTMLResponse, responses=problem_responses(422))
def collective_impact(
    request: Request,
    lang: Annotated[Literal["es", "en"], Query()] = "es",
    period: Annotated[
        str | None, Query(max_length=10, description="2009, 2009-Q2 or 2009-05; default all")
    ] = None,
    as_of: Annotated[date | None, Query(description="judge progress on this day (default today)")] = None,
) -> HTMLResponse:
    """New and concluded alliances, results, indicators against targets, and charts — in Spanish or
    English, as one page with nothing to fetch (styles inline, charts embedded)."""
    months = None
    if period:
        try:
            months = parse_period(period)
        except PeriodError as exc:
            raise invalid("period", str(exc)) from exc
    service: ReportService = request.app.state.reports
    label = period or html.TEXT[lang]["all"]
    return HTMLResponse(html.render(service.gather(lang, months, label, as_of)))
