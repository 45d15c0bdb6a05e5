"""Changing and deleting targets over HTTP: the real app on a real port, with NATS and a database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget
from tejido_reporting.testing import RunningReporting, reporting_settings, running_reporting


@pytest.fixture
def reporting(
    nats_server: NatsServer, data_dir: Path, db_target: DatabaseTarget
) -> Iterator[RunningReporting]:
    with running_reporting(reporting_settings(data_dir, nats_server.url, db_target)) as service:
        yield service


def fields(response: httpx.Response) -> list[str]:
    """The fields a problem document names."""
    return [str(e["field"]) for e in response.json().get("errors", [])]


def test_patch_and_delete_a_target(reporting: RunningReporting) -> None:
    api = reporting.client
    created = api.post(
        "/v1/targets",
        json={"indicator": "houses_built", "territory": "MX-ZAC", "period": "2009", "target": 40},
    )
    assert created.status_code == 201, created.text
    target_id = created.json()["id"]

    changed = api.patch(f"/v1/targets/{target_id}", json={"target": 55, "baseline": {"value": 5}})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["target"], changed.json()["baseline"]["value"]) == (55, 5)
    assert api.get(f"/v1/targets/{target_id}").json()["target"] == 55

    for body, field in (
        ({"period": "2009-13"}, "period"),
        ({"target": "many"}, "target"),
        ({"target": None}, "target"),
        ({"indicator": "workshops_held"}, "indicator"),  # the indicator and scope name the target
        ({"territory": "MX-DUR"}, "territory"),
    ):
        refused = api.patch(f"/v1/targets/{target_id}", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert field in fields(refused), (body, refused.text)
    assert api.get(f"/v1/targets/{target_id}").json()["period"] == "2009"

    second = api.post(
        "/v1/targets",
        json={"indicator": "houses_built", "territory": "MX-ZAC", "period": "2010", "target": 1},
    )
    clash = api.patch(f"/v1/targets/{target_id}", json={"period": "2010"})
    assert clash.status_code == 409 and "period" in fields(clash), clash.text

    gone = api.delete(f"/v1/targets/{second.json()['id']}")
    assert gone.status_code == 204 and gone.content == b""
    assert api.get(f"/v1/targets/{second.json()['id']}").status_code == 404
    again = api.delete(f"/v1/targets/{second.json()['id']}")
    assert again.status_code == 404
    assert again.headers["content-type"].startswith("application/problem+json")
    assert api.patch("/v1/targets/nope", json={"target": 1}).status_code == 404
    # the freed period can now be taken
    assert api.patch(f"/v1/targets/{target_id}", json={"period": "2010"}).status_code == 200
