"""The checked-in schemas of this service's events are generated from the payload models, and the
rating event still accepts what the registry was built against."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from tejido_common.event_contracts import stale_schemas
from tejido_common.events import load_schema
from tejido_duediligence.flags.events import CONTRACTS as FLAG_CONTRACTS
from tejido_duediligence.ratings.events import CONTRACTS as RATING_CONTRACTS
from tejido_duediligence.screening.events import CONTRACTS as SCREENING_CONTRACTS

CONTRACTS = [*RATING_CONTRACTS, *FLAG_CONTRACTS, *SCREENING_CONTRACTS]
RECORDED = Path(__file__).parents[3] / "tests" / "contracts"


def test_checked_in_schemas_match_the_models() -> None:
    assert stale_schemas(CONTRACTS) == []


def test_every_contract_has_a_recorded_example_that_validates() -> None:
    for contract in CONTRACTS:
        example = json.loads((RECORDED / f"{contract.type}.json").read_text())
        Draft202012Validator(load_schema(contract.type)).validate(example["data"])
        contract.model.model_validate(example["data"])  # and the producer's own model reads it


def test_screening_hits_are_marked_restricted() -> None:
    assert load_schema("duediligence.screening.hit.v1")["x-restricted"] is True
    assert "x-restricted" not in load_schema("duediligence.flag.changed.v1")
