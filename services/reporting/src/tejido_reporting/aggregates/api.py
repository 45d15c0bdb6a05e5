"""``GET /v1/reports/aggregate``: JSON, or CSV with ``format=csv``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from tejido_common.http import problem_responses
from tejido_reporting.aggregates.queries import AggregateQuery, Aggregator
from tejido_reporting.aggregates.schemas import Aggregate
from tejido_reporting.exports.tabular import aggregate_csv
from tejido_reporting.kit.errors import invalid
from tejido_reporting.kit.periods import Granularity, MonthRange, PeriodError, parse_period
from tejido_reporting.kit.territory import TerritoryError, parse_territory

router = APIRouter(prefix="/v1/reports", tags=["reports"])
PROBLEMS = problem_responses(400, 404, 422)
Many = list[str]


def get_aggregator(request: Request) -> Aggregator:
    aggregator: Aggregator = request.app.state.aggregator
    return aggregator


def months_between(first: str | None, last: str | None) -> MonthRange | None:
    if first is None and last is None:
        return None
    try:
        start = parse_period(first).first if first else 190001
    except PeriodError as exc:
        raise invalid("from", str(exc)) from exc
    try:
        end = parse_period(last).last if last else 220012
    except PeriodError as exc:
        raise invalid("to", str(exc)) from exc
    if start > end:
        raise invalid("to", "must not be before from")
    return MonthRange(start, end)


def split(values: Many) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def build_query(
    indicator: str,
    group_by: Many,
    period: Granularity,
    territory_level: str | None,
    from_: str | None,
    to: str | None,
    territory: str | None,
    organization_id: Many,
    alliance_id: Many,
    program_area: Many,
    social_indicator: Many,
    disaggregation: str | None,
    currency: str | None,
    convert_to: str | None,
) -> AggregateQuery:
    place = None
    if territory:
        try:
            place = parse_territory(territory)
        except TerritoryError as exc:
            raise invalid("territory", str(exc)) from exc
    filters: dict[str, list[str] | str] = {}
    for name, value in (
        ("territory", territory),
        ("from", from_),
        ("to", to),
        ("disaggregation", disaggregation),
        ("currency", currency),
    ):
        if value:
            filters[name] = value
    for name, values in (
        ("organization_id", organization_id),
        ("alliance_id", alliance_id),
        ("program_area", program_area),
        ("social_indicator", social_indicator),
    ):
        if values:
            filters[name] = split(values)
    return AggregateQuery(
        indicator=indicator,
        group_by=split(group_by),
        period=period,
        territory_level=territory_level,
        months=months_between(from_, to),
        territory=place,
        organization_ids=split(organization_id),
        alliance_ids=split(alliance_id),
        program_areas=split(program_area),
        families=split(social_indicator),
        disaggregation=disaggregation,
        currency=currency.upper() if currency else None,
        convert_to=convert_to.upper() if convert_to else None,
        filters=filters,
    )


def aggregate_query(
    indicator: Annotated[str, Query(max_length=60, description="indicator code")],
    group_by: Annotated[
        Many,
        Query(
            description="period, territory, country, subdivision, municipality, organization, alliance, "
            "category (comma-separated)"
        ),
    ] = [],  # noqa: B006
    period: Annotated[Granularity, Query(description="month, quarter or year")] = "quarter",
    territory_level: Annotated[Literal["country", "subdivision", "municipality"] | None, Query()] = None,
    from_: Annotated[
        str | None, Query(alias="from", max_length=10, description="2009, 2009-Q1 or 2009-01")
    ] = None,
    to: Annotated[str | None, Query(max_length=10)] = None,
    territory: Annotated[
        str | None, Query(max_length=140, description="MX, MX-ZAC or MX-ZAC:Fresnillo")
    ] = None,
    organization_id: Annotated[Many, Query()] = [],  # noqa: B006
    alliance_id: Annotated[Many, Query()] = [],  # noqa: B006
    program_area: Annotated[Many, Query(description="of the reporting organizations, e.g. ED or ED1")] = [],  # noqa: B006
    social_indicator: Annotated[Many, Query(description="family the reporting organizations target")] = [],  # noqa: B006
    disaggregation: Annotated[str | None, Query(max_length=100, description="sex, or sex:female")] = None,
    currency: Annotated[str | None, Query(max_length=3)] = None,
    convert_to: Annotated[
        str | None, Query(max_length=3, description="money: convert with the configured yearly rates")
    ] = None,
) -> AggregateQuery:
    """The aggregate's query parameters (shared by the JSON/CSV aggregate and the charts)."""
    return build_query(
        indicator,
        group_by,
        period,
        territory_level,
        from_,
        to,
        territory,
        organization_id,
        alliance_id,
        program_area,
        social_indicator,
        disaggregation,
        currency,
        convert_to,
    )


Selection = Annotated[AggregateQuery, Depends(aggregate_query)]


@router.get("/aggregate", response_model=Aggregate, responses=PROBLEMS)
def aggregate(
    aggregator: Annotated[Aggregator, Depends(get_aggregator)],
    query: Selection,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response | Aggregate:
    """Aggregate one indicator over the selection, grouped (see the module docs for the math)."""
    result = aggregator.aggregate(query)
    if format == "csv":
        return Response(
            aggregate_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{result.indicator}.csv"'},
        )
    # Serialized once by pydantic-core (a large grouping would otherwise be validated again).
    return Response(result.model_dump_json(), media_type="application/json")
