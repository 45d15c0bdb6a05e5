"""An alliance's results: per indicator, its baseline, and per period the target and the actual
(what the IATI export and the collective-impact report show)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tejido_common.db import Database
from tejido_reporting.aggregates.queries import AggregateQuery, Aggregator
from tejido_reporting.aggregates.repository import RollupRepository
from tejido_reporting.indicators.schemas import IndicatorDefinition
from tejido_reporting.kit.periods import MonthRange, parse_period
from tejido_reporting.targets.service import TargetService


@dataclass
class PeriodResult:
    label: str
    months: MonthRange
    target: float | None
    actual: float | None
    status: str | None = None


@dataclass
class IndicatorResult:
    definition: IndicatorDefinition
    baseline: float | None = None
    baseline_year: int | None = None
    currency: str | None = None
    periods: list[PeriodResult] = field(default_factory=list)


def alliance_results(
    db: Database, aggregator: Aggregator, targets: TargetService, alliance_id: str
) -> list[IndicatorResult]:
    with db.read_session() as session:
        codes = set(RollupRepository(session).indicators_with_data(alliance_id))
    target_list = targets.search(None, "alliance", [alliance_id])
    codes |= {t.indicator for t in target_list}
    results: list[IndicatorResult] = []
    for code in sorted(codes):
        _version, definition = aggregator.definition(code)
        result = IndicatorResult(definition)
        by_label: dict[str, PeriodResult] = {}
        for t in (t for t in target_list if t.indicator == code):
            months = parse_period(t.period)
            by_label[t.period] = PeriodResult(
                t.period, months, t.target, t.progress.actual, t.progress.status
            )
            result.currency = t.currency
            if t.baseline is not None:
                result.baseline = t.baseline.value
                result.baseline_year = t.baseline.date.year if t.baseline.date else months.start.year
        yearly = aggregator.aggregate(
            AggregateQuery(indicator=code, group_by=["period"], period="year", alliance_ids=[alliance_id])
        )
        for row in yearly.rows:
            label = row.group["period"]
            if label not in by_label and row.currency in (None, result.currency or row.currency):
                by_label[label] = PeriodResult(label, parse_period(label), None, row.value)
                result.currency = result.currency or row.currency
        result.periods = sorted(by_label.values(), key=lambda p: (p.months.first, p.months.last))
        results.append(result)
    return results
