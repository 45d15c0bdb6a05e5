"""End to end through the gateway: real HTTP from client to gateway to registry, real NATS, real DB."""

from __future__ import annotations

import time
from pathlib import Path

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, EventCollector, wait_until
from tejido_gateway.testing import running_gateway
from tejido_registry.testing import org_body, registry_settings, running_registry


def test_organization_created_through_gateway_emits_exactly_one_registered_event(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    collector = EventCollector(nats_server.url, "registry.>").start()
    try:
        with (
            running_registry(registry_settings(data_dir, nats_server.url, db_target)) as registry,
            running_gateway(data_dir, nats_server.url, registry_url=registry.url) as gw,
            gw.client() as client,
        ):
            r = client.post(
                "/v1/organizations",
                json=org_body("J'Pas Joloviletik"),
                headers={"X-Request-ID": "e2e-corr-42"},
            )
            assert r.status_code == 201, r.text
            assert r.headers["x-request-id"] == "e2e-corr-42"
            org = r.json()
            events = collector.wait_for(1)
            # Give a duplicate the chance to show up before asserting there is none.
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline and len(collector.events) == 1:
                time.sleep(0.05)
            assert len(collector.events) == 1
            event = events[0]
            assert event.type == "registry.organization.registered.v1"
            assert event.source == "tejido/registry"
            assert event.subject == f"organization/{org['id']}"
            assert event.correlationid == "e2e-corr-42"
            assert event.specversion == "1.0"
            assert event.datacontenttype == "application/json"
            assert event.dataschema.endswith("registry.organization.registered.v1.json")
            assert event.data["organization"] == org
            nats_id = collector.raw[0][2].get("Nats-Msg-Id")
            assert nats_id == event.id  # the outbox row id is the message id
            listed = wait_until(lambda: client.get("/v1/organizations").json()["items"])
            assert [o["id"] for o in listed] == [org["id"]]
    finally:
        collector.stop()
