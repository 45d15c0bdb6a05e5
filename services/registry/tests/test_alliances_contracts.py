"""Alliance event contracts: the checked-in schemas are the ones the models generate, the recorded
examples validate against them, and the stage machine matches the taxonomy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tejido_common.events import Envelope, known_event_types, load_schema
from tejido_common.taxonomy import taxonomy
from tejido_registry.alliances import stages
from tejido_registry.alliances.contracts import event_schemas, render

CONTRACTS = Path(__file__).resolve().parents[3] / "tests" / "contracts"
TYPES = sorted(event_schemas())


def test_alliance_event_types() -> None:
    assert TYPES == [
        "registry.alliance.created.v1",
        "registry.alliance.party_added.v1",
        "registry.alliance.party_removed.v1",
        "registry.alliance.stage_changed.v1",
        "registry.alliance.updated.v1",
    ]
    assert set(TYPES) <= set(known_event_types())


@pytest.mark.parametrize("type_", TYPES)
def test_checked_in_schema_is_generated_from_the_models(type_: str) -> None:
    """If this fails, run ``.venv/bin/python -m tejido_registry.alliances.contracts`` and review the diff."""
    Draft202012Validator.check_schema(load_schema(type_))
    assert load_schema(type_) == json.loads(render(event_schemas()[type_]))


@pytest.mark.parametrize("type_", TYPES)
def test_recorded_example_validates(type_: str) -> None:
    event = Envelope.model_validate(json.loads((CONTRACTS / f"{type_}.json").read_text(encoding="utf-8")))
    assert event.type == type_ and event.subject.startswith("alliance/")
    Draft202012Validator(load_schema(type_)).validate(event.model_dump(mode="json")["data"])


def test_stage_machine_matches_the_taxonomy() -> None:
    assert list(stages.STAGES) == taxonomy().alliance["stages"]
    assert set(stages.GATES_IN_FORCE) == set(stages.STAGES)
    assert stages.allowed_targets("objectives") == ["prospecting", "dissolved"]
    assert stages.allowed_targets("negotiation") == ["prospecting", "trial", "commitments", "dissolved"]
    assert stages.allowed_targets("trial") == ["negotiation", "commitments", "dissolved"]
    assert stages.allowed_targets("established") == ["concluded", "dissolved"]
    assert stages.allowed_targets("concluded") == stages.allowed_targets("dissolved") == []
