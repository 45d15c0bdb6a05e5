"""The registry consumer over a real NATS: idempotent (a redelivered event applies once), ordered by
profile version (a late older event changes nothing), and one bad message never stops the flow."""

from __future__ import annotations

import asyncio
from typing import Any

import nats

from tejido_common.events import Envelope
from tejido_common.testing import EventCollector, wait_until
from tejido_duediligence.testing import RunningDuediligence

ORG = "01a20a4c-8a2f-7272-a847-97fc09c6c5be"


def profile_event(action: str, name: str, version: int, status: str = "active") -> Envelope:
    organization = {
        "id": ORG,
        "status": status,
        "version": version,
        "identity": {"legal_name": name, "aliases": [], "actor_type": "cso"},
        "where": {"country": "MX"},
    }
    return Envelope.new(
        f"registry.organization.{action}.v1",
        source="tejido/registry",
        subject=f"organization/{ORG}",
        data={"organization": organization},
    )


def publish(nats_url: str, *items: Envelope | tuple[str, bytes, str]) -> None:
    async def send() -> None:
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            for item in items:
                if isinstance(item, Envelope):
                    await js.publish(item.type, item.to_bytes(), headers={"Nats-Msg-Id": item.id})
                else:
                    subject, body, msg_id = item
                    await js.publish(subject, body, headers={"Nats-Msg-Id": msg_id})
        finally:
            await nc.close()

    asyncio.run(send())


def test_registry_events_are_applied_once_in_version_order(
    service: RunningDuediligence, nats_server: Any
) -> None:
    dead = EventCollector(nats_server.url, "deadletter.>").start()
    try:
        registered = profile_event("registered", "Grupo Conciencia", 1)
        renamed = profile_event("updated", "Grupo Conciencia Sonora", 3)
        late = profile_event("updated", "Nombre Viejo", 2)
        # Not an envelope at all: dead-lettered at once, the events after it still flow.
        publish(nats_server.url, registered, ("registry.organization.updated.v1", b"{not json", "poison-1"))
        publish(nats_server.url, renamed, late)
        # One durable per registry event type (tejido_common.consumer.split_by_family).
        consumers = service.app.state.runtime.consumers

        def applied() -> int:
            return sum(c.applied for c in consumers)

        wait_until(lambda: applied() == 3, 20, message="three events applied")
        wait_until(lambda: dead.raw, 20, message="the poison message dead-lettered")
        assert [(subject, body) for subject, body, _ in dead.raw] == [
            (
                "deadletter.duediligence-registry_organization_updated.registry.organization.updated.v1",
                b"{not json",
            )
        ]
        org = service.domains.directory.get(ORG)
        assert (org.legal_name, org.version) == ("Grupo Conciencia Sonora", 3)
        # The same event delivered again (a new message id, so JetStream keeps it) is skipped by its id.
        again = registered.model_copy()
        publish(nats_server.url, (again.type, again.to_bytes(), "redelivery-1"))
        wait_until(lambda: applied() == 3 and consumer_idle(service), 10, message="redelivery skipped")
        assert service.domains.directory.get(ORG).legal_name == "Grupo Conciencia Sonora"
        archived = profile_event("archived", "Grupo Conciencia Sonora", 4, status="archived")
        publish(nats_server.url, archived)
        wait_until(lambda: service.domains.directory.get(ORG).status == "archived", 10)
        r = service.client.post("/v1/assessments", json={"organization_id": ORG, "kind": "self"})
        assert r.status_code == 409 and r.json()["type"].endswith("/organization-archived")
    finally:
        dead.stop()


def consumer_idle(service: RunningDuediligence) -> bool:
    from sqlalchemy import func, select

    from tejido_common.consumer import ProcessedEvent

    with service.domains.directory.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0) == 3
