"""The backbone as every service gets it, tried on the real registry over HTTP with a real NATS."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select, text

from tejido_common.db import Database
from tejido_common.leader import RelayLeadership
from tejido_common.natsserver import NatsServer
from tejido_common.outbox import OutboxRow
from tejido_common.testing import DatabaseTarget, EventCollector, wait_until
from tejido_registry.organizations.models import OrganizationRow
from tejido_registry.testing import org_body, registry_settings, running_registry

LIMIT = 20_000


def big_purpose() -> dict[str, list[str]]:
    return {"objectives": [f"Objetivo {i}: " + "acompañar " * 450 for i in range(10)]}


def test_a_write_whose_event_is_too_large_is_refused_with_a_problem_naming_the_field(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    settings = registry_settings(data_dir, nats_server.url, db_target, max_event_bytes=LIMIT)
    with running_registry(settings) as registry:
        r = registry.client.post("/v1/organizations", json=org_body("Colectivo Ceiba", purpose=big_purpose()))
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["type"].endswith("/event-too-large")
        assert [e["field"] for e in problem["errors"]] == ["purpose.objectives"]
        with registry.db.read_session() as s:
            assert s.scalar(select(func.count()).select_from(OutboxRow)) == 0
        assert registry.client.get("/v1/organizations").json()["items"] == []

        # In a bulk import the same row becomes a row error; the valid rows are kept.
        rows = [org_body("Colectivo Ceiba", purpose=big_purpose()), org_body("Red Colibrí")]
        body = "".join(json.dumps(row) + "\n" for row in rows)
        r = registry.client.post(
            "/v1/organizations:import", content=body, headers={"Content-Type": "application/x-ndjson"}
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["created"] == 1 and report["failed"] == 1
        assert report["errors"][0]["row"] == 1 and report["errors"][0]["field"] == "purpose.objectives"
        names = [
            o["identity"]["legal_name"] for o in registry.client.get("/v1/organizations").json()["items"]
        ]
        assert names == ["Red Colibrí"]


def test_the_business_row_and_its_event_commit_together(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    """If staging the event fails, the organization must not be saved either (one transaction)."""
    settings = registry_settings(data_dir, nats_server.url, db_target)
    with running_registry(settings) as registry:
        with registry.db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE outbox RENAME TO outbox_away"))
        try:
            r = registry.client.post("/v1/organizations", json=org_body("Colectivo Maíz"))
            assert r.status_code >= 500
        finally:
            with registry.db.engine.begin() as conn:
                conn.execute(text("ALTER TABLE outbox_away RENAME TO outbox"))
        # Read the database itself: after a 500 the server closes that connection, and a request on the
        # client's pooled copy of it could meet the reset instead of an answer.
        with registry.db.read_session() as session:
            assert session.scalar(select(func.count()).select_from(OrganizationRow)) == 0


def test_parked_rows_make_readiness_degraded_and_show_in_metrics(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    settings = registry_settings(data_dir, nats_server.url, db_target, outbox_park_after=2)
    with running_registry(settings) as registry:
        assert registry.client.get("/readyz").json()["status"] == "ready"
        assert registry.client.post("/v1/organizations", json=org_body("Red Ceiba")).status_code == 201
        # A row written before the write-time bound existed: over NATS's 1 MiB max payload.
        with registry.db.session() as s:
            s.execute(
                insert(OutboxRow.__table__).values(  # type: ignore[attr-defined]
                    id="00000000-0000-4000-8000-000000000001",
                    subject="registry.organization.updated.v1",
                    aggregate_id="legacy",
                    payload=json.dumps({"blob": "x" * 1_100_000}),
                    created_at=datetime.now(UTC),
                    attempts=0,
                )
            )
        registry.app.state.runtime.relay.notify()
        ready = wait_until(
            lambda: (b := registry.client.get("/readyz").json()).get("status") == "degraded" and b,
            message="degraded readiness",
        )
        assert "outbox_parked" in ready["degraded"]
        assert registry.client.get("/readyz").status_code == 200  # still serving
        metrics = registry.client.get("/metrics").text
        assert 'tejido_outbox_parked_rows{service="registry"} 1.0' in metrics
        assert 'tejido_relay_parked_total{service="registry"}' in metrics
        assert (
            'tejido_http_requests_total{method="POST",route="/v1/organizations",service="registry",status="201"}'
            in metrics
        )
        assert "tejido_http_request_duration_seconds_bucket" in metrics
        assert 'tejido_relay_published_total{service="registry"}' in metrics
        assert 'tejido_relay_leader{service="registry"} 1.0' in metrics
        # The registry consumes due-diligence ratings: its durable's lag is reported.
        assert 'tejido_consumer_lag_messages{consumer="registry",service="registry"} 0.0' in metrics


def test_sent_rows_are_pruned_on_schedule_once_past_the_duplicate_window(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    settings = registry_settings(
        data_dir,
        nats_server.url,
        db_target,
        prune_interval_seconds=0.3,
        stream_duplicate_window_seconds=1.0,
    )
    with running_registry(settings) as registry:
        assert registry.client.post("/v1/organizations", json=org_body("Red Maíz")).status_code == 201

        def outbox_rows() -> int:
            with registry.db.read_session() as s:
                return int(s.scalar(select(func.count()).select_from(OutboxRow)) or 0)

        assert outbox_rows() == 1
        wait_until(lambda: outbox_rows() == 0, timeout=10, message="sent row pruned")


def test_a_relay_that_cannot_publish_shows_as_stuck_and_a_standby_takes_over(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    settings = registry_settings(data_dir, nats_server.url, db_target, relay_stuck_after_seconds=1.0)
    # Another replica holds the registry's relay lock and publishes nothing (hung, say).
    other = RelayLeadership(Database(settings.resolved_database_url(), settings.resolved_schema()))
    assert other.acquire()
    collector = EventCollector(nats_server.url, "registry.>").start()
    try:
        with running_registry(settings) as registry:
            assert registry.client.post("/v1/organizations", json=org_body("Red Ceiba")).status_code == 201
            body = wait_until(
                lambda: (b := registry.client.get("/readyz").json()).get("status") == "degraded" and b,
                message="stuck relay reported",
            )
            assert "relay_stuck" in body["degraded"]
            assert collector.events == []
            other.release()  # the other replica goes away: this one takes over and publishes
            collector.wait_for(1, timeout=10)
            wait_until(lambda: registry.client.get("/readyz").json()["status"] == "ready", message="ready")
    finally:
        other.release()
        other.db.dispose()
        collector.stop()
