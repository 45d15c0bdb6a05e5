"""Exports: charts of an aggregate, and an alliance's results as IATI activity XML."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from tejido_common.http import problem_responses
from tejido_common.problems import NotFound
from tejido_reporting.aggregates.api import Selection, get_aggregator
from tejido_reporting.aggregates.queries import Aggregator
from tejido_reporting.exports import charts, examples, iati
from tejido_reporting.exports.results import alliance_results
from tejido_reporting.network.repository import NetworkRepository
from tejido_reporting.settings import ReportingSettings

router = APIRouter(prefix="/v1/reports", tags=["reports"])
PROBLEMS = problem_responses(400, 404, 422)
MEDIA = {"svg": "image/svg+xml", "png": "image/png"}


@router.get(
    "/chart",
    responses={**PROBLEMS, **examples.CHART_RESPONSES},
    response_class=Response,
)
def chart(
    aggregator: Annotated[Aggregator, Depends(get_aggregator)],
    query: Selection,
    by: Annotated[Literal["period", "territory"], Query(description="over time, or by territory")] = "period",
    format: Annotated[charts.ChartFormat, Query()] = "svg",
    lang: Annotated[Literal["es", "en"], Query()] = "en",
) -> Response:
    """A bar chart of an indicator over time (``by=period``, with ``period=month|quarter|year``) or by
    territory (``by=territory``, with ``territory_level``), with the aggregate's filters."""
    query.group_by = [by]
    result = aggregator.aggregate(query)
    return Response(charts.render(result, by, format, lang), media_type=MEDIA[format])


@router.get(
    "/alliances/{alliance_id}/iati",
    responses={**PROBLEMS, **examples.IATI_RESPONSES},
    response_class=Response,
)
def alliance_iati(alliance_id: str, request: Request) -> Response:
    """The alliance's results as an IATI 2.03 activity file: the alliance as the activity, its parties
    as participating organisations, each indicator with its baseline and per period target and actual."""
    state = request.app.state
    settings: ReportingSettings = state.settings
    db = state.runtime.db
    with db.read_session() as session:
        network = NetworkRepository(session)
        alliance = network.alliance(alliance_id)
        if alliance is None:
            raise NotFound(f"alliance {alliance_id} is not known to reporting")
        parties = {
            o.id: o for o in network.organizations(str(p["organization_id"]) for p in alliance.parties)
        }
    results = alliance_results(db, state.aggregator, state.targets, alliance_id)
    document = iati.activity_xml(
        alliance,
        parties,
        results,
        reporting_ref=settings.iati_reporting_org_ref,
        reporting_name=settings.iati_reporting_org_name,
        reporting_type=settings.iati_reporting_org_type,
    )
    return Response(
        document,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="iati-{alliance_id}.xml"'},
    )
