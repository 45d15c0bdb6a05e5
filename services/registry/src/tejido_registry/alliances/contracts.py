"""The checked-in JSON schemas of the alliance events, generated from the API models.

Regenerate after a compatible change to the alliance model (new optional fields), then review the diff
(``tests/test_event_contracts.py`` fails if recorded events no longer validate)::

    .venv/bin/python -m tejido_registry.alliances.contracts
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from tejido_registry.alliances.schemas import Alliance, Party

ACTIONS: dict[str, str] = {
    "created": "An alliance was created (stage objectives). Carries the whole alliance.",
    "updated": "An alliance's non-stage fields (or a party's details) changed. Carries the whole alliance "
    "and the changed fields.",
    "stage_changed": "An alliance moved to another stage. Carries the whole alliance, both stages and the "
    "reason.",
    "party_added": "An organization became a party of an alliance. Carries the whole alliance and the party.",
    "party_removed": "An organization stopped being a party of an alliance. Carries the whole alliance "
    "(without it) and the removed party.",
}


def tolerant(node: Any) -> Any:
    """Consumers are tolerant readers: producers may add optional fields within a version."""
    if isinstance(node, dict):
        return {
            k: (True if k == "additionalProperties" and v is False else tolerant(v)) for k, v in node.items()
        }
    if isinstance(node, list):
        return [tolerant(v) for v in node]
    return node


def event_schemas() -> dict[str, dict[str, Any]]:
    """Event type → JSON schema of its ``data``."""
    alliance = Alliance.model_json_schema(mode="serialization", ref_template="#/$defs/{model}")
    defs = {**alliance.pop("$defs"), "Alliance": alliance}
    stage = {"type": "string", "enum": list(alliance["properties"]["stage"]["enum"])}
    extra: dict[str, tuple[dict[str, Any], list[str]]] = {
        "created": ({}, []),
        "updated": (
            {
                "changed_fields": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "dotted paths, e.g. project.cost.amount; lists are named whole (results)",
                }
            },
            ["changed_fields"],
        ),
        "stage_changed": (
            {
                "from_stage": stage,
                "to_stage": stage,
                "reason": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
            ["from_stage", "to_stage"],
        ),
        "party_added": ({"party": {"$ref": "#/$defs/Party"}}, ["party"]),
        "party_removed": ({"party": {"$ref": "#/$defs/Party"}}, ["party"]),
    }
    assert "Party" in defs and defs["Party"]["title"] == Party.__name__
    docs: dict[str, dict[str, Any]] = {}
    for action, description in ACTIONS.items():
        name = f"registry.alliance.{action}.v1"
        properties, required = extra[action]
        docs[name] = tolerant(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "title": name,
                "description": description,
                "type": "object",
                "required": ["alliance", *required],
                "properties": {"alliance": {"$ref": "#/$defs/Alliance"}, **properties},
                "additionalProperties": True,
                "$defs": defs,
            }
        )
    return docs


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    folder = Path(str(resources.files("tejido_common") / "event_schemas"))
    for name, doc in event_schemas().items():
        (folder / f"{name}.json").write_text(render(doc), encoding="utf-8")
        print("wrote", name)


if __name__ == "__main__":
    main()
