"""The aggregation math, through the service layer over a real database (fast tier)."""

from __future__ import annotations

from typing import Any

import pytest

from tejido_reporting.aggregates.queries import AggregateQuery
from tejido_reporting.kit.periods import parse_period
from tejido_reporting.kit.territory import parse_territory

from .conftest import World


def obs(org: str, key: str, indicator: str, **fields: Any) -> dict[str, Any]:
    return {
        "organization_id": org,
        "observation_key": key,
        "indicator": indicator,
        "period": fields.pop("period", "2009"),
        "territory": fields.pop("territory", "MX-ZAC"),
        **fields,
    }


def total(world: World, indicator: str, **kw: Any) -> Any:
    result = world.aggregator.aggregate(AggregateQuery(indicator=indicator, **kw))
    return result.totals[0] if result.totals else None


def test_counts_sum_and_workshop_average_is_weighted(world: World) -> None:
    org = world.organization()
    world.observations.record(obs(org, "p-zac", "workshop_participants", value=2700))
    world.observations.record(obs(org, "p-dgo", "workshop_participants", value=1474, territory="MX-DUR"))
    world.observations.record(obs(org, "w-zac", "workshops_held", value=100))
    world.observations.record(obs(org, "w-dgo", "workshops_held", value=57, territory="MX-DUR"))
    assert total(world, "workshop_participants").value == 4174
    assert total(world, "workshops_held").value == 157
    # per-state averages 27.0 over 100 workshops and 25.86 over 57: the network's is 4174 / 157
    world.observations.record(obs(org, "a-zac", "participants_per_workshop", value=27.0, weight=100))
    world.observations.record(
        obs(org, "a-dgo", "participants_per_workshop", value=1474 / 57, weight=57, territory="MX-DUR")
    )
    average = total(world, "participants_per_workshop")
    assert round(average.value, 1) == 26.6
    assert average.value == pytest.approx(4174 / 157)
    assert average.value != pytest.approx((27.0 + 1474 / 57) / 2)  # not a mean of means


def test_percentage_is_sum_of_numerators_over_sum_of_denominators(world: World) -> None:
    org = world.organization()
    # Peru mining fund: 886 of 1,568 projects finished, reported by region
    for key, region, num, den in (
        ("anc", "PE-ANC", 400, 600),
        ("cus", "PE-CUS", 300, 500),
        ("are", "PE-ARE", 186, 468),
    ):
        world.observations.record(
            obs(org, key, "projects_finished_share", numerator=num, denominator=den, territory=region)
        )
    share = total(world, "projects_finished_share")
    assert (share.numerator, share.denominator) == (886, 1568)
    assert round(share.value, 1) == 56.5
    mean_of_percentages = (400 / 600 + 300 / 500 + 186 / 468) / 3 * 100
    assert round(mean_of_percentages, 1) != 56.5


def test_community_actions_parts_are_not_added_to_the_total(world: World) -> None:
    org = world.organization()
    parts = [
        {"dimension": "action_area", "category": c, "value": v}
        for c, v in (("health", 2), ("environment", 8), ("income_generation", 36), ("infrastructure", 13))
    ]
    outcome = world.observations.record(obs(org, "actions", "community_actions", parts=parts))
    assert outcome.observation.value == 59  # no total given: the parts of one dimension are the whole
    assert total(world, "community_actions").value == 59
    by_area = world.aggregator.aggregate(
        AggregateQuery(indicator="community_actions", group_by=["category"], disaggregation="action_area")
    )
    assert {r.group["category"]: r.value for r in by_area.rows} == {
        "health": 2,
        "environment": 8,
        "income_generation": 36,
        "infrastructure": 13,
    }
    assert total(world, "community_actions", disaggregation="action_area:income_generation").value == 36


def test_stocks_take_the_latest_per_organization_and_place_within_each_period(world: World) -> None:
    a, b = world.organization(), world.organization()

    def stock(org: str, key: str, value: int, start: str, end: str, territory: str = "MX-ZAC") -> None:
        world.observations.record(
            obs(
                org,
                key,
                "catalysts_active",
                value=value,
                period=None,
                period_start=start,
                period_end=end,
                territory=territory,
            )
        )

    stock(a, "s1", 100, "2009-01-01", "2009-01-31")
    stock(a, "s2", 120, "2009-02-01", "2009-02-28")
    stock(a, "s3", 90, "2009-03-01", "2009-03-15", "MX-DUR")
    stock(b, "s4", 50, "2009-01-01", "2009-01-31")
    # Q1: a@ZAC latest = 120 (Feb), a@DUR = 90, b@ZAC = 50 → 260; nothing in Q2 (no carry-forward)
    result = world.aggregator.aggregate(
        AggregateQuery(indicator="catalysts_active", group_by=["period"], period="quarter")
    )
    assert [(r.group["period"], r.value) for r in result.rows] == [("2009-Q1", 260)]
    by_month = world.aggregator.aggregate(
        AggregateQuery(indicator="catalysts_active", group_by=["period"], period="month")
    )
    assert [(r.group["period"], r.value) for r in by_month.rows] == [
        ("2009-01", 150),
        ("2009-02", 120),
        ("2009-03", 90),
    ]


def test_money_is_never_added_across_currencies(world: World) -> None:
    org = world.organization()
    world.observations.record(obs(org, "m1", "funds_invested", value=1000, currency="MXN"))
    world.observations.record(obs(org, "m2", "funds_invested", value=500, currency="MXN", period="2010"))
    world.observations.record(obs(org, "m3", "funds_invested", value=200, currency="PEN", territory="PE-ANC"))
    plain = world.aggregator.aggregate(AggregateQuery(indicator="funds_invested"))
    assert {(t.currency, t.value) for t in plain.totals} == {("MXN", 1500), ("PEN", 200)}
    converted = world.aggregator.aggregate(AggregateQuery(indicator="funds_invested", convert_to="USD"))
    assert [(t.currency, t.value) for t in converted.totals] == [
        ("USD", pytest.approx(1000 * 0.074 + 500 * 0.079 + 200 * 0.33))
    ]


def test_territory_rolls_up_and_filters(world: World) -> None:
    org = world.organization()
    world.observations.record(obs(org, "h1", "houses_built", value=10, territory="HN-FM:Tegucigalpa"))
    world.observations.record(obs(org, "h2", "houses_built", value=30, territory="HN-FM:Valle de Ángeles"))
    world.observations.record(obs(org, "h3", "houses_built", value=5, territory="CO-ANT"))
    by_country = world.aggregator.aggregate(AggregateQuery(indicator="houses_built", group_by=["country"]))
    assert {r.group["country"]: r.value for r in by_country.rows} == {"HN": 40, "CO": 5}
    in_fm = world.aggregator.aggregate(
        AggregateQuery(indicator="houses_built", group_by=["territory"], territory=parse_territory("HN-FM"))
    )
    assert {r.group["municipality"]: r.value for r in in_fm.rows} == {
        "Tegucigalpa": 10,
        "Valle de Ángeles": 30,
    }
    assert total(world, "houses_built", months=parse_period("2010")) is None


def test_program_area_and_family_filters_use_the_reporters_profiles(world: World) -> None:
    economy = world.organization(purpose={"program_areas": ["HE1"], "social_indicators": ["quality_of_life"]})
    schools = world.organization(purpose={"program_areas": ["ED2"], "social_indicators": ["survival"]})
    world.observations.record(obs(economy, "e", "workshops_held", value=7))
    world.observations.record(obs(schools, "s", "workshops_held", value=5))

    def held(**kw: Any) -> Any:
        found = total(world, "workshops_held", **kw)
        return found.value if found else None

    assert held() == 12
    assert held(program_areas=["HE"]) == 7  # a category matches its programs
    assert held(program_areas=["ED2"]) == 5
    assert held(program_areas=["HE1", "ED2"]) == 12
    assert held(families=["survival"]) == 5
    assert held(organization_ids=[economy]) == 7
    # a profile update moves the organization to another program area
    world.organization(economy, version=2, purpose={"program_areas": ["ED2"]})
    assert held(program_areas=["ED2"]) == 12
