"""The collective-impact report's content (fast tier; the browser test is in tests/)."""

from __future__ import annotations

from datetime import date

from tejido_reporting.kit.periods import parse_period
from tejido_reporting.reports import html
from tejido_reporting.reports.service import ReportService
from tejido_reporting.targets.schemas import TargetIn

from .conftest import World


def test_report_lists_new_and_concluded_alliances_results_and_targets(world: World) -> None:
    a, b = world.organization(), world.organization()
    world.alliance([a, b], stage="concluded")
    world.observations.record(
        {
            "organization_id": a,
            "observation_key": "h",
            "indicator": "houses_built",
            "period": "2026",
            "territory": "HN-FM",
            "value": 40,
        }
    )
    world.targets.create(TargetIn(indicator="houses_built", organization_id=a, period="2026", target=40))
    service = ReportService(world.db, world.aggregator, world.targets)
    for lang, concluded, met, results in (
        ("es", "Alianzas concluidas", "cumplida", "Viviendas construidas"),
        ("en", "Concluded alliances", "met", "Houses built"),
    ):
        page = html.render(service.gather(lang, parse_period("2026"), "2026", date(2027, 1, 2)))
        assert concluded in page and met in page and results in page
        section = page.split(concluded, 1)[1]
        assert "SERVIVIENDA – FEDECOH" in section.split("</ul>", 1)[0]  # listed as concluded
        assert page.count("<img ") == 2 and "data:image/svg+xml;base64," in page
        assert "http://" not in page and "https://" not in page.replace("http://www.w3.org", "")
    empty = html.render(service.gather("en", parse_period("2001"), "2001"))
    assert "None in the period." in empty
