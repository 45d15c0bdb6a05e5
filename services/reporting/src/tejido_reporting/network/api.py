"""``GET /v1/reports/network``: statistics of the network, kept from other services' events."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from tejido_common.http import problem_responses
from tejido_reporting.kit.csvsafe import to_csv
from tejido_reporting.network.queries import network_stats, reported_totals, stats_rows
from tejido_reporting.network.schemas import NetworkStats

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/network", response_model=NetworkStats, responses=problem_responses(422))
def network(
    request: Request, format: Annotated[Literal["json", "csv"], Query()] = "json"
) -> Response | NetworkStats:
    """Organizations by type and region, the recruitment funnel, alliances by stage, type, modality,
    legitimacy and strategy, and the due-diligence band distribution."""
    state = request.app.state
    stats = network_stats(state.runtime.db, reported_totals(state.aggregator))
    if format == "csv":
        return Response(
            to_csv(["section", "key", "count"], stats_rows(stats)), media_type="text/csv; charset=utf-8"
        )
    return stats
