"""Network statistics: counted from the read model at request time (thousands of rows, not millions)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from tejido_common.db import Database
from tejido_common.problems import NotFound
from tejido_reporting.aggregates.queries import AggregateQuery, Aggregator
from tejido_reporting.network.repository import NetworkRepository
from tejido_reporting.network.schemas import AllianceStats, Funnel, NetworkStats, OrganizationStats

# The invitation steps of the funnel are reported by the network as indicators (no event tells them).
INVITED, INTERESTED = "organizations_summoned", "organizations_interested"
ReportedTotal = Callable[[str], float | None]


def network_stats(db: Database, reported_total: ReportedTotal) -> NetworkStats:
    """``reported_total(indicator)``: the in-force total of an indicator over every period (None when
    nothing is reported), i.e. the aggregator's unfiltered totals."""
    invited, interested = (_count(reported_total(code)) for code in (INVITED, INTERESTED))
    with db.read_session() as session:
        repo = NetworkRepository(session)
        by_status = repo.count_organizations_by_status()
        organizations = OrganizationStats(
            total=sum(v for k, v in by_status.items() if k != "archived"),
            by_type=repo.count_organizations_by("actor_type"),
            by_country=repo.count_organizations_by("country"),
            by_subdivision=repo.count_organizations_by_subdivision(),
            by_status=by_status,
        )
        started = by_status.get("draft", 0)
        joined = by_status.get("active", 0)
        registered = sum(by_status.values())
        funnel = Funnel(
            invited=invited,
            interested=interested,
            interested_share=round(interested / invited, 4) if invited and interested is not None else None,
            registered=registered,
            started=started + joined,
            joined=joined,
            archived=by_status.get("archived", 0),
            joined_share=round(joined / (started + joined), 4) if started + joined else None,
        )
        stage: Counter[str] = Counter()
        type_: Counter[str] = Counter()
        modality: Counter[str] = Counter()
        legitimacy: Counter[str] = Counter()
        strategy: Counter[str] = Counter()
        alliances = repo.alliances()
        for alliance in alliances:
            stage[alliance.stage] += 1
            type_[alliance.type or "unspecified"] += 1
            modality[alliance.modality or "unspecified"] += 1
            strategy[alliance.development_strategy or "unspecified"] += 1
            for code in alliance.legitimacy:
                legitimacy[code] += 1
        return NetworkStats(
            organizations=organizations,
            funnel=funnel,
            alliances=AllianceStats(
                total=len(alliances),
                by_stage=dict(stage),
                by_type=dict(type_),
                by_modality=dict(modality),
                by_legitimacy=dict(legitimacy),
                by_strategy=dict(strategy),
            ),
            due_diligence_bands=repo.count_bands(),
            computed_at=datetime.now(UTC),
        )


def reported_totals(aggregator: Aggregator) -> ReportedTotal:
    def total(indicator: str) -> float | None:
        try:
            totals = aggregator.aggregate(AggregateQuery(indicator=indicator)).totals
        except NotFound:  # a catalog without the indicator
            return None
        return totals[0].value if totals else None

    return total


def _count(total: float | None) -> int | None:
    return None if total is None else round(total)


def stats_rows(stats: NetworkStats) -> list[tuple[str, str, int | None]]:
    """The statistics as (section, key, count) rows for CSV (an empty count: nothing reported)."""
    rows: list[tuple[str, str, int | None]] = [("organizations", "total", stats.organizations.total)]
    for section, counts in (
        ("organizations.by_type", stats.organizations.by_type),
        ("organizations.by_country", stats.organizations.by_country),
        ("organizations.by_subdivision", stats.organizations.by_subdivision),
        ("organizations.by_status", stats.organizations.by_status),
        ("alliances.by_stage", stats.alliances.by_stage),
        ("alliances.by_type", stats.alliances.by_type),
        ("alliances.by_modality", stats.alliances.by_modality),
        ("alliances.by_legitimacy", stats.alliances.by_legitimacy),
        ("alliances.by_strategy", stats.alliances.by_strategy),
        ("due_diligence_bands", stats.due_diligence_bands),
    ):
        rows += [(section, key, count) for key, count in sorted(counts.items())]
    funnel = stats.funnel
    rows += [
        ("funnel", "invited", funnel.invited),
        ("funnel", "interested", funnel.interested),
        ("funnel", "registered", funnel.registered),
        ("funnel", "started", funnel.started),
        ("funnel", "joined", funnel.joined),
        ("funnel", "archived", funnel.archived),
    ]
    rows.append(("alliances", "total", stats.alliances.total))
    return rows
