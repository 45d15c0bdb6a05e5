"""Registry event contracts: the checked-in schemas are the ones the payload models generate (one
generator, tejido_common.event_contracts), the recorded examples validate against them, producers are
strict, and the stage machine matches the taxonomy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from tejido_common.event_contracts import EventContract, stale_schemas
from tejido_common.events import Envelope, known_event_types, load_schema
from tejido_common.taxonomy import taxonomy
from tejido_registry.alliances import events as alliance_events
from tejido_registry.alliances import stages
from tejido_registry.organizations import events as organization_events

CONTRACTS = Path(__file__).resolve().parents[4] / "tests" / "contracts"
TYPES = sorted(c.type for c in alliance_events.CONTRACTS)
REGISTRY_CONTRACTS = [*organization_events.CONTRACTS, *alliance_events.CONTRACTS]


def test_alliance_event_types() -> None:
    assert TYPES == [
        "registry.alliance.created.v1",
        "registry.alliance.party_added.v1",
        "registry.alliance.party_removed.v1",
        "registry.alliance.stage_changed.v1",
        "registry.alliance.updated.v1",
    ]
    assert set(TYPES) <= set(known_event_types())


def test_checked_in_schemas_are_generated_from_the_models() -> None:
    """If this fails, run ``.venv/bin/python -m tejido_common.event_contracts
    tejido_registry.organizations.events tejido_registry.alliances.events`` and review the diff."""
    assert stale_schemas(REGISTRY_CONTRACTS) == []
    for contract in REGISTRY_CONTRACTS:
        Draft202012Validator.check_schema(load_schema(contract.type))
    assert {c.type for c in REGISTRY_CONTRACTS if c.restricted} == {"registry.organization.people_updated.v1"}


@pytest.mark.parametrize("contract", REGISTRY_CONTRACTS, ids=lambda c: c.type)
def test_recorded_example_validates_and_parses(contract: EventContract[Any]) -> None:
    event = Envelope.model_validate(
        json.loads((CONTRACTS / f"{contract.type}.json").read_text(encoding="utf-8"))
    )
    assert event.type == contract.type
    assert event.subject.startswith(("alliance/", "organization/"))
    Draft202012Validator(load_schema(contract.type)).validate(event.model_dump(mode="json")["data"])
    contract.parse(event)  # the payload model reads what earlier releases wrote


def test_producers_are_strict_people_cannot_ride_on_public_events() -> None:
    example = json.loads((CONTRACTS / "registry.organization.registered.v1.json").read_text(encoding="utf-8"))
    org = organization_events.Organization.model_validate(example["data"]["organization"])
    with pytest.raises(ValidationError):
        organization_events.OrganizationRegistered.model_validate(
            {"organization": org, "people": [{"name": "Persona", "role": "director"}]}
        )
    envelope = organization_events.registered(org)
    assert envelope.type == "registry.organization.registered.v1" and set(envelope.data) == {"organization"}


def test_stage_machine_matches_the_taxonomy() -> None:
    assert list(stages.STAGES) == taxonomy().alliance["stages"]
    assert set(stages.GATES_IN_FORCE) == set(stages.STAGES)
    assert stages.allowed_targets("objectives") == ["prospecting", "dissolved"]
    assert stages.allowed_targets("negotiation") == ["prospecting", "trial", "commitments", "dissolved"]
    assert stages.allowed_targets("trial") == ["negotiation", "commitments", "dissolved"]
    assert stages.allowed_targets("established") == ["concluded", "dissolved"]
    assert stages.allowed_targets("concluded") == stages.allowed_targets("dissolved") == []
