"""The demo observations' loader: slugs become the registry's ids, rows refused only because reporting
has not learned an organization yet are sent again, any other refusal stops it with the reasons."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tejido_cli.demo_observations import (
    DemoObservationError,
    demo_observation_rows,
    demo_observation_slugs,
    load_demo_observations,
)
from tejido_common.testing import ServerThread

UNKNOWN = {"row": 1, "field": "organization_id", "reason": "unknown organization: only organizations …"}


def fake_reporting(answers: list[list[dict[str, object]]], received: list[bytes]) -> FastAPI:
    fake = FastAPI()

    @fake.post("/v1/observations:import")
    async def import_(request: Request) -> JSONResponse:
        received.append(await request.body())
        errors = answers.pop(0) if answers else []
        rows = len(demo_observation_rows())
        return JSONResponse({"committed": rows - len(errors), "errors": errors})

    return fake


def ids() -> dict[str, str]:
    return {slug: f"id-of-{slug}" for slug in demo_observation_slugs()}


def test_rows_for_organizations_reporting_does_not_know_yet_are_sent_again() -> None:
    received: list[bytes] = []
    with ServerThread(fake_reporting([[UNKNOWN], [UNKNOWN]], received)) as server:
        with httpx.Client(base_url=server.url) as client:
            assert load_demo_observations(client, ids()) == len(demo_observation_rows())
    assert len(received) == 3
    sent = list(csv.DictReader(io.StringIO(received[-1].decode())))
    assert {row["organization_id"] for row in sent} == {f"id-of-{s}" for s in demo_observation_slugs()}
    assert [row["observation_key"] for row in sent] == [r["observation_key"] for r in demo_observation_rows()]


def test_other_refusals_and_a_passed_deadline_stop_with_the_reasons() -> None:
    bad = {"row": 3, "field": "value", "reason": "not a number"}
    with ServerThread(fake_reporting([[bad]], [])) as server, httpx.Client(base_url=server.url) as client:
        with pytest.raises(DemoObservationError, match="row 3: value: not a number"):
            load_demo_observations(client, ids())
    forever = [[UNKNOWN]] * 100
    with ServerThread(fake_reporting(forever, [])) as server, httpx.Client(base_url=server.url) as client:
        with pytest.raises(DemoObservationError, match="unknown organization"):
            load_demo_observations(client, ids(), deadline_seconds=0.6)
    with pytest.raises(DemoObservationError, match="not registered"):
        load_demo_observations(httpx.Client(), {})
