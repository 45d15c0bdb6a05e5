"""The demo's observations (the sources' own figures) are recorded for the demo organizations right
after they are imported, with real services: the loader waits until reporting has learned them from the
registry's events, a second load changes nothing, and the figures come out of the API as the sources
print them (62 invited → 46 interested; 4,174 participants in 157 workshops ≈ 26.6 per workshop;
community actions 2 + 8 + 36 + 13 = 59)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tejido_cli.demo_alliances import demo_org_ids_by_slug
from tejido_cli.demo_observations import demo_observation_rows, demo_observation_slugs, load_demo_observations
from tejido_cli.launcher import demo_organizations
from tejido_registry.testing import RunningRegistry
from tejido_reporting.testing import RunningReporting

from .reporting_stack import registry_and_reporting

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningRegistry, RunningReporting]]:
    with registry_and_reporting(tmp_path_factory.mktemp("demo-observations")) as (_, registry, reporting):
        yield registry, reporting


def total(reporting: RunningReporting, indicator: str) -> float:
    response = reporting.client.get("/v1/reports/aggregate", params={"indicator": indicator})
    assert response.status_code == 200, response.text
    (row,) = response.json()["totals"]
    value: float = row["value"]
    return value


def test_demo_observations_load_right_after_the_demo_organizations(
    services: tuple[RunningRegistry, RunningReporting],
) -> None:
    registry, reporting = services
    body = "".join(line + "\n" for line in demo_organizations()).encode()
    imported = registry.client.post(
        "/v1/organizations:import", content=body, headers={"content-type": "application/x-ndjson"}
    )
    assert imported.status_code == 200 and imported.json()["failed"] == 0, imported.text
    ids = demo_org_ids_by_slug(registry.client, demo_observation_slugs())
    # no wait for the events: the loader itself retries rows refused for an unknown organization
    assert load_demo_observations(reporting.client, ids) == len(demo_observation_rows())
    assert load_demo_observations(reporting.client, ids) == len(demo_observation_rows())  # replayed

    funnel = reporting.client.get("/v1/reports/network").json()["funnel"]
    assert (funnel["invited"], funnel["interested"]) == (62, 46)
    participants, workshops = total(reporting, "workshop_participants"), total(reporting, "workshops_held")
    assert (participants, workshops, round(participants / workshops, 1)) == (4174, 157, 26.6)
    actions = reporting.client.get(
        "/v1/reports/aggregate",
        params={"indicator": "community_actions", "group_by": "category", "disaggregation": "action_area"},
    ).json()
    parts = {row["group"]["category"]: row["value"] for row in actions["rows"]}
    assert parts == {"health": 2, "environment": 8, "income_generation": 36, "infrastructure": 13}
    assert sum(parts.values()) == total(reporting, "community_actions") == 59
