"""Real tier: the read model in the matching database (the workers' snapshot) built from real events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import nats
from sqlmodel import select

from tejido_common.consumer import ProcessedEvent
from tejido_common.testing import wait_until
from tejido_matching.candidates.models import AllianceRecord, Candidate
from tejido_matching.testing import RunningMatching, org, registry_body
from tejido_registry.testing import RunningRegistry


def rows(matching: RunningMatching, model: Any) -> list[Any]:
    with matching.app.state.runtime.db.read_session() as session:
        return list(session.exec(select(model)).all())


def test_restricted_people_events_are_never_consumed(
    registry: RunningRegistry, matching: RunningMatching
) -> None:
    org_id = registry.client.post("/v1/organizations", json=registry_body(org("Con personas"))).json()["id"]
    people = {"people": [{"name": "Ana Pérez", "role": "director"}]}
    assert registry.client.put(f"/v1/organizations/{org_id}/people", json=people).status_code == 200
    registry.client.patch(f"/v1/organizations/{org_id}", json={"purpose": {"mission": "Otra misión"}})
    wait_until(lambda: [c for c in rows(matching, Candidate) if c.version >= 2], message="update applied")
    subjects = {p.subject for p in rows(matching, ProcessedEvent)}
    assert "registry.organization.people_updated.v1" not in subjects
    assert "registry.organization.updated.v1" in subjects

    async def ask() -> list[str]:
        nc = await nats.connect(matching.settings.nats_url)
        filters: list[str] = []
        async for info in _consumers(nc.jetstream(), "REGISTRY"):
            if info.name.startswith("matching"):
                filters += info.config.filter_subjects or [info.config.filter_subject or ""]
        await nc.close()
        return filters

    # One durable per handled type, each with exactly the filter NATS permissions can check.
    filters = asyncio.run(ask())
    assert "registry.organization.updated.*" in filters
    assert not any("people_updated" in f for f in filters)
    assert not any(f.endswith(">") and f.startswith("registry.organization") for f in filters)


async def _consumers(js: Any, stream: str) -> AsyncIterator[Any]:
    for info in await js.consumers_info(stream):
        yield info


def test_snapshot_keeps_profiles_ratings_and_alliances(
    registry: RunningRegistry, matching: RunningMatching
) -> None:
    a = registry.client.post("/v1/organizations", json=registry_body(org("Uno"))).json()["id"]
    b = registry.client.post("/v1/organizations", json=registry_body(org("Dos"))).json()["id"]
    alliance = registry.client.post(
        "/v1/alliances",
        json={
            "name": "Uno y Dos",
            "purpose": "Cooperar",
            "parties": [{"organization_id": a, "role": "executor"}],
        },
    )
    assert alliance.status_code == 201, alliance.text
    alliance_id = alliance.json()["id"]
    added = registry.client.post(
        f"/v1/alliances/{alliance_id}/parties", json={"organization_id": b, "role": "counterpart"}
    )
    assert added.status_code in (200, 201), added.text
    wait_until(
        lambda: {c.organization_id for c in rows(matching, Candidate)} == {a, b}, message="both profiles"
    )
    wait_until(
        lambda: [r for r in rows(matching, AllianceRecord) if len(r.parties) == 2],
        message="alliance with two parties",
    )
    record = next(c for c in rows(matching, Candidate) if c.organization_id == a)
    assert record.profile is not None and record.profile["identity"]["legal_name"] == "Uno"
    assert record.texts_hash and record.status == "active"
