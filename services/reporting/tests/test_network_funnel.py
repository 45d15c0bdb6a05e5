"""The recruitment funnel: invited → interested from what the network reports (no event tells them),
then started → joined from the registry's events (the sources' 62 invited → 46 interested)."""

from __future__ import annotations

from tejido_reporting.network.queries import network_stats, reported_totals, stats_rows
from tejido_reporting.reports import html
from tejido_reporting.reports.service import ReportService

from .conftest import World


def report(world: World, org: str, key: str, indicator: str, period: str, value: int) -> None:
    outcome = world.observations.record(
        {
            "organization_id": org,
            "observation_key": key,
            "indicator": indicator,
            "period": period,
            "territory": "MX-SON",
            "value": value,
        }
    )
    assert outcome.status == "recorded", outcome


def test_invited_and_interested_come_from_the_reported_indicators(world: World) -> None:
    network = world.organization()
    world.organization()
    stats = network_stats(world.db, reported_totals(world.aggregator))
    assert (stats.funnel.invited, stats.funnel.interested, stats.funnel.interested_share) == (
        None,
        None,
        None,
    )
    assert ("funnel", "invited", None) in stats_rows(stats)

    # summoned in two rounds, and one round corrected: the in-force total counts
    report(world, network, "summoned-2006", "organizations_summoned", "2006", 40)
    report(world, network, "summoned-2007", "organizations_summoned", "2007", 20)
    report(world, network, "interested-2007", "organizations_interested", "2007", 46)
    world.observations.record(
        {
            "organization_id": network,
            "observation_key": "summoned-2007",
            "revision": 2,
            "indicator": "organizations_summoned",
            "period": "2007",
            "territory": "MX-SON",
            "value": 22,
        }
    )
    stats = network_stats(world.db, reported_totals(world.aggregator))
    assert (stats.funnel.invited, stats.funnel.interested) == (62, 46)
    assert stats.funnel.interested_share == round(46 / 62, 4)
    assert stats.funnel.registered == 2
    rows = stats_rows(stats)
    assert ("funnel", "invited", 62) in rows and ("funnel", "interested", 46) in rows

    service = ReportService(world.db, world.aggregator, world.targets)
    data = service.gather("en", None, "all periods")
    page = html.render(data)
    assert "Recruitment: 62 invited → 46 interested → " in page
    assert "Convocatoria: 62 convocadas → 46 interesadas" in html.render(service.gather("es", None, "todos"))
