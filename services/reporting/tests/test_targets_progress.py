"""Targets, baselines and progress (fast tier)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tejido_common.problems import Conflict, NotFound, Unprocessable
from tejido_reporting.targets.schemas import TargetIn, TargetPatch

from .conftest import World


def record(world: World, org: str, key: str, indicator: str, period: str, **values: Any) -> None:
    world.observations.record(
        {
            "organization_id": org,
            "observation_key": key,
            "indicator": indicator,
            "period": period,
            "territory": "HN-FM",
            **values,
        }
    )


def test_count_progress_against_the_elapsed_share(world: World) -> None:
    org = world.organization()
    target = world.targets.create(
        TargetIn(indicator="houses_built", organization_id=org, period="2009", target=40)
    )
    assert target.progress.status == "no_data"
    record(world, org, "q1", "houses_built", "2009-Q1", value=12)
    # on 30 June about half the year has passed: 12 < 40 × 0.5 → behind; by 31 March 12 ≥ 40 × 0.25
    assert world.targets.get(target.id, date(2009, 6, 30)).progress.status == "behind"
    assert world.targets.get(target.id, date(2009, 3, 31)).progress.status == "on_track"
    record(world, org, "q2", "houses_built", "2009-Q2", value=28)
    progress = world.targets.get(target.id, date(2009, 7, 1)).progress
    assert (progress.status, progress.actual) == ("met", 40)


def test_percentages_are_met_only_once_the_period_is_over(world: World) -> None:
    org = world.organization()
    target = world.targets.create(
        TargetIn(
            indicator="projects_finished_share",
            organization_id=org,
            period="2009",
            target=50,
            baseline={"value": 20},
        )
    )
    record(world, org, "s", "projects_finished_share", "2009-Q1", numerator=886, denominator=1568)
    assert world.targets.get(target.id, date(2009, 6, 30)).progress.status == "on_track"
    done = world.targets.get(target.id, date(2010, 1, 1)).progress
    assert done.status == "met" and round(done.actual or 0, 1) == 56.5
    low = world.targets.create(
        TargetIn(indicator="projects_finished_share", organization_id=org, period="2009-Q1", target=60)
    )
    assert world.targets.get(low.id, date(2009, 4, 1)).progress.status == "behind"


def test_target_scopes_are_checked(world: World) -> None:
    org = world.organization()
    with pytest.raises(Unprocessable):
        world.targets.create(TargetIn(indicator="houses_built", period="2009", target=1))
    with pytest.raises(Unprocessable) as info:
        world.targets.create(
            TargetIn(indicator="funds_invested", organization_id=org, period="2009", target=1)
        )
    assert info.value.errors and info.value.errors[0].field == "currency"
    world.targets.create(TargetIn(indicator="houses_built", territory="HN-FM", period="2009", target=1))
    with pytest.raises(Conflict):
        world.targets.create(TargetIn(indicator="houses_built", territory="hn-fm", period="2009", target=2))


def test_a_target_is_updated_with_the_checks_of_creation(world: World) -> None:
    org = world.organization()
    record(world, org, "q1", "houses_built", "2009-Q1", value=12)
    target = world.targets.create(
        TargetIn(indicator="houses_built", organization_id=org, period="2009", target=40)
    )
    other = world.targets.create(
        TargetIn(indicator="houses_built", organization_id=org, period="2010", target=10)
    )
    changed = world.targets.update(
        target.id, TargetPatch(target=12, baseline={"value": 2, "date": "2008-12-31"})
    )
    assert (changed.target, changed.baseline and changed.baseline.value) == (12, 2)
    assert world.targets.get(target.id, date(2009, 4, 1)).progress.status == "met"
    moved = world.targets.update(target.id, TargetPatch(period="2009-Q1"))
    assert (moved.period, moved.period_end, moved.target) == ("2009-Q1", date(2009, 3, 31), 12)
    assert world.targets.update(target.id, TargetPatch.model_validate({"baseline": None})).baseline is None
    with pytest.raises(Unprocessable) as bad_period:
        world.targets.update(target.id, TargetPatch(period="2009-Q5"))
    assert bad_period.value.errors and bad_period.value.errors[0].field == "period"
    with pytest.raises(Unprocessable) as no_target:
        world.targets.update(target.id, TargetPatch.model_validate({"target": None}))
    assert no_target.value.errors and no_target.value.errors[0].field == "target"
    with pytest.raises(Unprocessable) as not_money:
        world.targets.update(target.id, TargetPatch(currency="MXN"))
    assert not_money.value.errors and not_money.value.errors[0].field == "currency"
    with pytest.raises(Conflict):  # the 2010 target of this organization exists already
        world.targets.update(target.id, TargetPatch(period="2010"))
    assert world.targets.get(target.id).period == "2009-Q1"  # a refused change changes nothing
    assert world.targets.get(other.id).period == "2010"
    with pytest.raises(NotFound):
        world.targets.update("no-such-target", TargetPatch(target=1))


def test_a_money_target_keeps_a_currency(world: World) -> None:
    org = world.organization()
    target = world.targets.create(
        TargetIn(indicator="funds_invested", organization_id=org, period="2009", target=100, currency="MXN")
    )
    with pytest.raises(Unprocessable) as info:
        world.targets.update(target.id, TargetPatch.model_validate({"currency": None}))
    assert info.value.errors and info.value.errors[0].field == "currency"
    assert world.targets.update(target.id, TargetPatch(currency="usd")).currency == "USD"


def test_a_deleted_target_is_gone(world: World) -> None:
    org = world.organization()
    target = world.targets.create(
        TargetIn(indicator="houses_built", organization_id=org, period="2009", target=40)
    )
    world.targets.delete(target.id)
    with pytest.raises(NotFound):
        world.targets.get(target.id)
    with pytest.raises(NotFound):
        world.targets.delete(target.id)
    # the scope and period are free again
    world.targets.create(TargetIn(indicator="houses_built", organization_id=org, period="2009", target=1))
