from __future__ import annotations

from pydantic import BaseModel, Field


class AggregateRow(BaseModel):
    """One group. ``value`` follows the indicator's rule: a sum, a weighted mean, 100 × Σnumerator /
    Σdenominator, or the sum of the latest values per organization and place."""

    group: dict[str, str] = Field(description="the group's key, e.g. {territory: MX-ZAC, period: 2009-Q1}")
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    currency: str | None = None
    observations: int = Field(description="observations (stocks: organization-places) counted")


class Aggregate(BaseModel):
    indicator: str
    indicator_version: int
    name: dict[str, str]
    unit: str
    value_type: str
    aggregation: str
    group_by: list[str]
    period: str | None
    filters: dict[str, list[str] | str]
    converted_to: str | None = None
    rows: list[AggregateRow]
    totals: list[AggregateRow] = Field(description="the whole selection (one row per currency for money)")
