"""Event contracts: every event type has a checked-in JSON schema; what producers emit conforms to it,
and recorded events of earlier releases (tests/contracts/*.json) still validate (compatibility)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator

from tejido_common.events import EVENT_TYPE_RE, Envelope, known_event_types, load_schema, schema_ref
from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, EventCollector
from tejido_registry.testing import org_body, registry_settings, running_registry

CONTRACTS = Path(__file__).parent / "contracts"
EXPECTED_TYPES = {
    "registry.organization.registered.v1",
    "registry.organization.updated.v1",
    "registry.organization.archived.v1",
    "registry.organization.people_updated.v1",
    "duediligence.rating.published.v1",
    "duediligence.rating.expired.v1",
    "duediligence.flag.changed.v1",
    "duediligence.screening.hit.v1",
    "reporting.observation.submitted.v1",
}
PUBLIC_ORGANIZATION_TYPES = {
    t for t in EXPECTED_TYPES if t.startswith("registry.organization.") and "people" not in t
}


def validate(event: Envelope) -> None:
    Draft202012Validator(load_schema(event.type)).validate(event.model_dump(mode="json")["data"])


def test_every_event_type_has_a_valid_schema() -> None:
    types = set(known_event_types())
    assert EXPECTED_TYPES <= types
    for type_ in types:
        assert EVENT_TYPE_RE.match(type_), type_
        Draft202012Validator.check_schema(load_schema(type_))


@pytest.mark.parametrize("path", sorted(CONTRACTS.glob("*.json")), ids=lambda p: p.stem)
def test_recorded_events_still_validate(path: Path) -> None:
    event = Envelope.model_validate(json.loads(path.read_text()))
    assert event.type == path.stem
    validate(event)


def test_recorded_examples_cover_every_type() -> None:
    assert {p.stem for p in CONTRACTS.glob("*.json")} == set(known_event_types())


def test_registry_emits_conforming_events(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    collector = EventCollector(nats_server.url, "registry.>").start()
    try:
        with running_registry(registry_settings(data_dir, nats_server.url, db_target)) as registry:
            c: httpx.Client = registry.client
            org = c.post(
                "/v1/organizations", json=org_body(), headers={"X-Request-ID": "req-create-1"}
            ).json()
            c.patch(
                f"/v1/organizations/{org['id']}",
                json={"identity": {"acronym": "GC"}},
                headers={"X-Request-ID": "req-patch-1"},
            )
            c.post(f"/v1/organizations/{org['id']}:archive", headers={"X-Request-ID": "req-archive-1"})
            events = collector.wait_for(3)
    finally:
        collector.stop()
    assert [e.type.split(".")[2] for e in events] == ["registered", "updated", "archived"]
    by_type = {e.type: e for e in events}
    assert set(by_type) == PUBLIC_ORGANIZATION_TYPES
    for event in events:
        validate(event)
        assert event.source == "tejido/registry"
        assert event.subject == f"organization/{org['id']}"
        assert event.dataschema == schema_ref(event.type)
        assert event.datacontenttype == "application/json"
        assert event.time.tzinfo is not None
    assert by_type["registry.organization.registered.v1"].correlationid == "req-create-1"
    assert by_type["registry.organization.updated.v1"].correlationid == "req-patch-1"
    assert by_type["registry.organization.updated.v1"].data["changed_fields"] == ["identity.acronym"]
    assert by_type["registry.organization.archived.v1"].data["organization"]["status"] == "archived"
