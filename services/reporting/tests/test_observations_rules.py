"""Observation rules through the service layer (fast tier): revisions, validation, known reporters."""

from __future__ import annotations

from typing import Any

import pytest

from tejido_common.problems import Conflict, DomainError, Unprocessable
from tejido_reporting.aggregates.queries import AggregateQuery
from tejido_reporting.kit.errors import UnknownParty

from .conftest import World


def obs(org: str, key: str = "k1", indicator: str = "houses_built", **fields: Any) -> dict[str, Any]:
    return {
        "organization_id": org,
        "observation_key": key,
        "indicator": indicator,
        "period": "2009-Q1",
        "territory": "HN-FM",
        **fields,
    }


def houses(world: World) -> float | None:
    totals = world.aggregator.aggregate(AggregateQuery(indicator="houses_built")).totals
    return totals[0].value if totals else None


def refused(world: World, raw: dict[str, Any], kind: type[DomainError] = Unprocessable) -> dict[str, str]:
    with pytest.raises(kind) as info:
        world.observations.record(raw)
    return {e.field: e.reason for e in info.value.errors or []}


def test_latest_revision_counts_older_kept_and_late_replay_does_not_undo(world: World) -> None:
    org = world.organization()
    first = world.observations.record(obs(org, value=40))
    assert (first.status, houses(world)) == ("recorded", 40)
    fix = world.observations.record(obs(org, value=38, revision=2))
    assert (fix.status, fix.supersedes, houses(world)) == ("recorded", 1, 38)
    # the same revision again: a replay, counted once
    assert world.observations.record(obs(org, value=38, revision=2)).status == "replayed"
    assert world.observations.record(obs(org, value=40)).status == "replayed"
    assert houses(world) == 38
    # revision 3 arrives after 4 (late): kept in the history, the correction stays in force
    world.observations.record(obs(org, value=41, revision=4))
    late = world.observations.record(obs(org, value=39, revision=3))
    assert late.status == "kept_superseded" and not late.observation.in_force
    assert houses(world) == 41
    history = world.observations.history(org, "k1")
    assert [(r.revision, r.value, r.in_force) for r in history.revisions] == [
        (1, 40, False),
        (2, 38, False),
        (3, 39, False),
        (4, 41, True),
    ]


def test_same_revision_with_different_content_is_refused(world: World) -> None:
    org = world.organization()
    world.observations.record(obs(org, value=40))
    errors = refused(world, obs(org, value=41), Conflict)
    assert "revision" in errors
    assert houses(world) == 40


def test_a_correction_moving_a_stock_recomputes_its_month(world: World) -> None:
    org = world.organization()
    world.observations.record(obs(org, "a", "catalysts_active", value=10, period="2009-01"))
    world.observations.record(obs(org, "b", "catalysts_active", value=20, period="2009-02"))
    q = AggregateQuery(indicator="catalysts_active", group_by=["period"], period="quarter")
    assert [r.value for r in world.aggregator.aggregate(q).rows] == [20]
    world.observations.record(obs(org, "b", "catalysts_active", value=25, period="2009-02", revision=2))
    assert [r.value for r in world.aggregator.aggregate(q).rows] == [25]


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"value": "cuarenta"}, "value", "must be a number"),
        ({"value": 40, "unit": "people"}, "unit", "measured in houses"),
        ({"value": 40.5}, "value", "whole number"),
        ({"value": 40, "currency": "USD"}, "currency", "not a money indicator"),
        ({"value": 40, "period_start": "2009-01-01T00:00:00", "period": None}, "period_start", "YYYY-MM-DD"),
        ({"value": 40, "period": "2009-13"}, "period", "month must be"),
        ({"value": 40, "territory": "MX-XXX"}, "territory", "ISO 3166-2"),
        ({"value": 40, "evidence_level": "rumour"}, "evidence_level", "self_declared"),
        (
            {"value": 40, "parts": [{"dimension": "sex", "category": "female", "value": 1}]},
            "parts.0.dimension",
            "allows no",
        ),
    ],
)
def test_invalid_values_are_refused_naming_the_field(
    world: World, fields: dict[str, Any], field: str, reason: str
) -> None:
    org = world.organization()
    raw = {k: v for k, v in {**obs(org), **fields}.items() if v is not None}
    errors = refused(world, raw)
    assert field in errors, errors
    assert reason in errors[field]


def test_parts_may_sum_to_less_but_never_more_than_the_total_per_dimension(world: World) -> None:
    org = world.organization()

    def part(dim: str, cat: str, value: int) -> dict[str, Any]:
        return {"dimension": dim, "category": cat, "value": value}

    ok = obs(
        org,
        "p1",
        "workshop_participants",
        value=100,
        parts=[part("sex", "female", 60), part("sex", "male", 30), part("indigenous", "yes", 80)],
    )
    assert world.observations.record(ok).status == "recorded"
    too_many = obs(
        org,
        "p2",
        "workshop_participants",
        value=100,
        parts=[
            part("sex", "female", 60),
            part("sex", "male", 30),
            part("age_group", "15-24", 70),
            part("age_group", "25-64", 40),
        ],
    )
    errors = refused(world, too_many)
    assert list(errors) == ["parts.2.value"]
    assert "age_group parts add up to 110" in errors["parts.2.value"]
    pct = obs(org, "p3", "projects_finished_share", numerator=1600, denominator=1568)
    assert "numerator" in refused(world, pct)
    assert "numerator" in refused(world, obs(org, "p4", "projects_finished_share", value=56.5))


def test_only_organizations_and_alliances_known_from_the_registry_report(world: World) -> None:
    errors = refused(world, obs("01a20a46-0000-7000-8000-000000000000", value=1), UnknownParty)
    assert "unknown organization" in errors["organization_id"]
    org, other = world.organization(), world.organization()
    alliance = world.alliance([org])
    assert world.observations.record(obs(org, "a1", value=1, alliance_id=alliance)).status == "recorded"
    assert "not a party" in refused(world, obs(other, "a2", value=1, alliance_id=alliance))["alliance_id"]
    assert (
        "unknown alliance"
        in refused(world, obs(org, "a3", value=1, alliance_id="nope"), UnknownParty)["alliance_id"]
    )
    archived = world.organization()
    assert world.observations.record(obs(archived, "x", value=1)).status == "recorded"
    world.organization(archived, version=2, action="archived")
    assert "archived" in refused(world, obs(archived, "y", value=1))["organization_id"]
    world.organization(archived, version=1)  # an older event arriving late changes nothing
    assert "archived" in refused(world, obs(archived, "z", value=1))["organization_id"]


def test_disaggregated_stock_keeps_only_the_latest_values_parts(world: World) -> None:
    org = world.organization()

    def active(key: str, period: str, female: int, male: int, revision: int = 1) -> None:
        parts = [
            {"dimension": "sex", "category": "female", "value": female},
            {"dimension": "sex", "category": "male", "value": male},
        ]
        world.observations.record(
            obs(org, key, "catalysts_active", period=period, parts=parts, revision=revision)
        )

    active("jan", "2009-01", 10, 5)
    active("feb", "2009-02", 30, 20)
    q = AggregateQuery(indicator="catalysts_active", group_by=["category"], disaggregation="sex")
    assert {r.group["category"]: r.value for r in world.aggregator.aggregate(q).rows} == {
        "female": 30,
        "male": 20,
    }
    active("feb", "2009-02", 25, 25, revision=2)
    assert {r.group["category"]: r.value for r in world.aggregator.aggregate(q).rows} == {
        "female": 25,
        "male": 25,
    }
    assert world.aggregator.aggregate(AggregateQuery(indicator="catalysts_active")).totals[0].value == 50


def test_concurrent_sends_of_one_new_revision_record_it_once(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    org = world.organization()
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(lambda _: world.observations.record(obs(org, "race", value=7)), range(6)))
    assert sorted(o.status for o in outcomes) == ["recorded"] + ["replayed"] * 5
    assert houses(world) == 7
