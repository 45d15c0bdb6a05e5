"""The typed-event path: payload model → envelope, schema generated from the model, drift detected."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict

from tejido_common import event_contracts
from tejido_common.event_contracts import EventContract, render, stale_schemas


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thing_id: str
    kind: Literal["a", "b"]
    note: str | None = None


THING = EventContract("test.thing.happened.v1", Thing, "A thing happened.", restricted=True)


def test_envelope_carries_the_typed_payload() -> None:
    event = THING.envelope(Thing(thing_id="t1", kind="a"), source="tejido/test", subject="thing/t1")
    assert event.type == "test.thing.happened.v1"
    assert event.data == {"thing_id": "t1", "kind": "a", "note": None}
    assert THING.parse(event) == Thing(thing_id="t1", kind="a")


def test_envelope_refuses_another_payload_model() -> None:
    class Other(BaseModel):
        x: int

    with pytest.raises(TypeError):
        THING.envelope(Other(x=1), source="s", subject="s")  # type: ignore[arg-type]


def test_invalid_type_is_refused() -> None:
    with pytest.raises(ValueError):
        EventContract("Not.A.Type", Thing, "x")


def test_schema_is_tolerant_and_marks_restricted() -> None:
    schema = THING.schema()
    Draft202012Validator.check_schema(schema)
    assert schema["title"] == "test.thing.happened.v1"
    assert schema["additionalProperties"] is True
    assert schema["x-restricted"] is True
    validator = Draft202012Validator(schema)
    validator.validate({"thing_id": "t", "kind": "a", "added_later": 1})
    assert list(validator.iter_errors({"thing_id": "t", "kind": "c"}))


def test_stale_schema_is_detected(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_contracts, "schema_folder", lambda: tmp_path)
    assert stale_schemas([THING]) == ["test.thing.happened.v1"]
    event_contracts.write_schemas([THING])
    assert stale_schemas([THING]) == []
    (tmp_path / "test.thing.happened.v1.json").write_text(render({"changed": True}))
    assert stale_schemas([THING]) == ["test.thing.happened.v1"]
