"""Targets, baselines and progress (fast tier)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tejido_common.problems import Conflict, Unprocessable
from tejido_reporting.targets.schemas import TargetIn

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
