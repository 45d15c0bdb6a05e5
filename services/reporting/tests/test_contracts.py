"""The reporting service's event contracts: checked-in schemas match the models; the consumer reads the
recorded example."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from tejido_common.event_contracts import stale_schemas
from tejido_common.events import Envelope, load_schema
from tejido_reporting.observations.events import CONTRACTS, OBSERVATION_SUBMITTED

EXAMPLE = Path(__file__).resolve().parents[3] / "tests" / "contracts" / f"{OBSERVATION_SUBMITTED.type}.json"


def test_checked_in_schemas_match_the_models() -> None:
    assert stale_schemas(CONTRACTS) == []


def test_recorded_example_validates_and_parses() -> None:
    event = Envelope.model_validate(json.loads(EXAMPLE.read_text()))
    Draft202012Validator(load_schema(event.type)).validate(event.model_dump(mode="json")["data"])
    payload = OBSERVATION_SUBMITTED.parse(event)
    assert (payload.indicator, payload.revision, payload.value) == ("houses_built", 2, 40)
