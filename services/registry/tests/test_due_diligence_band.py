"""The registry keeps the current due-diligence band from duediligence.rating.published.v1 events."""

from __future__ import annotations

import asyncio

import nats

from tejido_common.events import Envelope
from tejido_common.testing import wait_until
from tejido_registry.testing import RunningRegistry, org_body


def publish_rating(nats_url: str, org_id: str, band: str, rated_at: str) -> Envelope:
    event = Envelope.new(
        "duediligence.rating.published.v1",
        source="tejido/duediligence",
        subject=f"organization/{org_id}",
        data={"organization_id": org_id, "band": band, "rated_at": rated_at},
    )

    async def send() -> None:
        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().publish(event.type, event.to_bytes(), headers={"Nats-Msg-Id": event.id})
        finally:
            await nc.close()

    asyncio.run(send())
    return event


def test_band_follows_the_latest_rating(registry: RunningRegistry, nats_server) -> None:
    c = registry.client
    org = c.post("/v1/organizations", json=org_body()).json()
    other = c.post("/v1/organizations", json=org_body("Red LASES")).json()
    assert org["due_diligence"] is None
    publish_rating(nats_server.url, org["id"], "significant", "2026-11-01T10:00:00Z")
    wait_until(
        lambda: (
            (c.get(f"/v1/organizations/{org['id']}").json()["due_diligence"] or {}).get("band")
            == "significant"
        )
    )
    publish_rating(nats_server.url, org["id"], "low", "2026-11-20T10:00:00Z")
    # An older rating delivered late must not win.
    publish_rating(nats_server.url, org["id"], "high", "2026-10-01T10:00:00Z")
    publish_rating(nats_server.url, other["id"], "medium", "2026-11-02T10:00:00Z")
    wait_until(lambda: c.get("/v1/organizations", params={"dd_band": "medium"}).json()["items"])
    profile = c.get(f"/v1/organizations/{org['id']}").json()
    assert profile["due_diligence"]["band"] == "low"
    assert profile["version"] == 1  # a rating is not an edit of the profile
    low = c.get("/v1/organizations", params={"dd_band": "low"}).json()["items"]
    assert low == [profile]
    # A rating for an organization this registry does not know is acknowledged and ignored.
    publish_rating(nats_server.url, "unknown-org", "high", "2026-11-21T10:00:00Z")
    consumer = registry.app.state.runtime.consumers[0]
    wait_until(lambda: consumer.applied == 5)
    assert consumer.dead_lettered == 0
