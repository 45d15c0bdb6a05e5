"""Outbox under broker failure: writes keep succeeding while NATS is down, and every event arrives once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import select

from tejido_common.natsserver import NatsServer
from tejido_common.outbox import OutboxRow
from tejido_common.testing import DatabaseTarget, EventCollector, wait_until
from tejido_registry.testing import org_body, registry_settings, running_registry


def test_nats_down_during_200_creates_loses_and_duplicates_nothing(
    tmp_path: Path, data_dir: Path, db_target: DatabaseTarget
) -> None:
    server = NatsServer(tmp_path / "nats").start()
    settings = registry_settings(data_dir, server.url, db_target)
    try:
        with running_registry(settings) as registry:
            server.stop()
            wait_until(
                lambda: registry.client.get("/readyz").status_code == 503, message="registry sees NATS down"
            )
            created = []
            for i in range(200):
                r = registry.client.post("/v1/organizations", json=org_body(f"Organización {i}"))
                assert r.status_code == 201, r.text
                created.append(r.json()["id"])
            with registry.db.read_session() as s:
                pending = list(s.scalars(select(OutboxRow).where(OutboxRow.published_at.is_(None))))
            assert len(pending) == 200  # all kept, none published yet

            server.start()  # same port, same JetStream store
            collector = EventCollector(server.url, "registry.>").start()
            try:
                events = collector.wait_for(200, timeout=60)
                wait_until(lambda: registry.client.get("/readyz").status_code == 200, message="ready again")
                ids = Counter(e.id for e in collector.events)
                assert len(ids) == 200 and max(ids.values()) == 1
                assert {e.type for e in events} == {"registry.organization.registered.v1"}
                # Commit order is preserved on the stream.
                assert [e.data["organization"]["id"] for e in events[:200]] == created
                with registry.db.read_session() as s:
                    outbox_ids = set(s.scalars(select(OutboxRow.id)))
                assert outbox_ids == set(ids)
            finally:
                collector.stop()
    finally:
        server.stop()


def test_events_pending_when_the_service_stops_are_sent_after_it_restarts(
    tmp_path: Path, data_dir: Path, db_target: DatabaseTarget
) -> None:
    server = NatsServer(tmp_path / "nats").start()
    settings = registry_settings(data_dir, server.url, db_target)
    try:
        with running_registry(settings) as registry:
            server.stop()
            created = [
                registry.client.post("/v1/organizations", json=org_body(f"Colectivo {word}")).json()["id"]
                for word in ("Ceiba", "Colibrí", "Maíz")
            ]
        # The registry is gone with three events still in its outbox; NATS comes back first.
        server.start()
        collector = EventCollector(server.url, "registry.>").start()
        try:
            with running_registry(settings):
                events = collector.wait_for(3, timeout=30)
            assert [e.data["organization"]["id"] for e in events] == created
            assert len({e.id for e in collector.events}) == 3
        finally:
            collector.stop()
    finally:
        server.stop()
