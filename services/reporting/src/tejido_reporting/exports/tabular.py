"""CSV of an aggregate: one line per group; formula-like text neutralized."""

from __future__ import annotations

from tejido_reporting.aggregates.schemas import Aggregate
from tejido_reporting.kit.csvsafe import to_csv


def aggregate_csv(result: Aggregate) -> str:
    keys: list[str] = []
    for row in result.rows or result.totals:
        for key in row.group:
            if key not in keys:
                keys.append(key)
    header = ["indicator", *keys, "value", "numerator", "denominator", "currency", "unit", "observations"]
    lines = [
        [
            result.indicator,
            *[row.group.get(k, "") for k in keys],
            row.value,
            row.numerator,
            row.denominator,
            row.currency,
            result.unit,
            row.observations,
        ]
        for row in (result.rows if result.group_by else result.totals)
    ]
    return to_csv(header, lines)
