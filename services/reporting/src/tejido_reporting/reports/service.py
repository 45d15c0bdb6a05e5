"""The collective-impact report: what the network achieved over a period, gathered for rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tejido_common.db import Database
from tejido_reporting.aggregates.queries import AggregateQuery, Aggregator
from tejido_reporting.aggregates.repository import RollupRepository
from tejido_reporting.aggregates.schemas import Aggregate
from tejido_reporting.exports import charts
from tejido_reporting.kit.periods import MonthRange
from tejido_reporting.network.models import AllianceView
from tejido_reporting.network.queries import network_stats, reported_totals
from tejido_reporting.network.repository import NetworkRepository
from tejido_reporting.network.schemas import NetworkStats
from tejido_reporting.targets.schemas import Target
from tejido_reporting.targets.service import TargetService

MAX_CHARTS = 6


@dataclass
class ReportData:
    lang: str
    period_label: str
    generated_at: datetime
    network: NetworkStats
    new_alliances: list[AllianceView]
    concluded_alliances: list[AllianceView]
    indicators: list[Aggregate]
    targets: list[tuple[Target, str, str]]  # target, indicator name, scope name
    charts: list[tuple[str, bytes]] = field(default_factory=list)  # (caption, SVG)


def _within(moment: datetime | None, months: MonthRange | None) -> bool:
    if moment is None:
        return False
    return months is None or months.start <= moment.date() <= months.end


class ReportService:
    def __init__(self, db: Database, aggregator: Aggregator, targets: TargetService):
        self.db = db
        self.aggregator = aggregator
        self.targets = targets

    def gather(
        self, lang: str, months: MonthRange | None, label: str, as_of: date | None = None
    ) -> ReportData:
        all_targets = self.targets.search(None, None, [], as_of)
        with self.db.read_session() as session:
            network = NetworkRepository(session)
            alliances = network.alliances()
            codes = RollupRepository(session).indicators_with_data(
                months=(months.first, months.last) if months else None
            )
            named = {t.scope_id for t in all_targets if t.scope == "organization"}
            org_names = {o.id: o.name for o in network.organizations(named)}
        new = [a for a in alliances if _within(a.created_at, months)]
        concluded = [a for a in alliances if a.stage == "concluded" and _within(a.stage_changed_at, months)]
        indicators = [
            self.aggregator.aggregate(AggregateQuery(indicator=code, months=months)) for code in codes
        ]
        indicators = [i for i in indicators if i.totals]
        names = {i.indicator: i.name.get(lang, i.indicator) for i in indicators}
        alliance_names = {a.id: a.name for a in alliances}
        targets: list[tuple[Target, str, str]] = []
        for target in all_targets:
            if months is not None and (target.period_end < months.start or target.period_start > months.end):
                continue
            name = (
                names.get(target.indicator)
                or self.aggregator.definition(target.indicator)[1].name.model_dump()[lang]
            )
            scope = {"organization": org_names, "alliance": alliance_names}.get(target.scope, {}).get(
                target.scope_id, target.scope_id
            )
            targets.append((target, name, scope))
        data = ReportData(
            lang=lang,
            period_label=label,
            generated_at=datetime.now(UTC),
            network=network_stats(self.db, reported_totals(self.aggregator)),
            new_alliances=new,
            concluded_alliances=concluded,
            indicators=indicators,
            targets=targets,
        )
        for aggregate in indicators[:MAX_CHARTS]:
            over_time = self.aggregator.aggregate(
                AggregateQuery(
                    indicator=aggregate.indicator, months=months, group_by=["period"], period="quarter"
                )
            )
            data.charts.append((names[aggregate.indicator], charts.render(over_time, "period", "svg", lang)))
        if indicators:
            first = indicators[0].indicator
            by_place = self.aggregator.aggregate(
                AggregateQuery(
                    indicator=first, months=months, group_by=["territory"], territory_level="subdivision"
                )
            )
            data.charts.append((names[first], charts.render(by_place, "territory", "svg", lang)))
        return data
