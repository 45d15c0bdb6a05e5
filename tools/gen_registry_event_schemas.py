"""Regenerate the registry's organization event schemas from the API models.

Run after a compatible change to the profile model (new optional fields), then review the diff:
`tests/test_event_contracts.py` fails if recorded events no longer validate.
    .venv/bin/python tools/gen_registry_event_schemas.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tejido_registry.schemas import Organization, Person

OUT = Path(__file__).resolve().parents[1] / "libs/common/src/tejido_common/event_schemas"


def tolerant(node: Any) -> Any:
    """Consumers are tolerant readers: producers may add optional fields within a version."""
    if isinstance(node, dict):
        return {
            k: (True if k == "additionalProperties" and v is False else tolerant(v)) for k, v in node.items()
        }
    if isinstance(node, list):
        return [tolerant(v) for v in node]
    return node


def schema(
    title: str, description: str, properties: dict[str, Any], required: list[str], defs: dict[str, Any]
) -> dict[str, Any]:
    return tolerant(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": title,
            "description": description,
            "type": "object",
            "required": required,
            "properties": properties,
            "additionalProperties": True,
            "$defs": defs,
        }
    )


def main() -> None:
    org = Organization.model_json_schema(mode="serialization", ref_template="#/$defs/{model}")
    defs = {**org.pop("$defs"), "Organization": org}
    ref = {"$ref": "#/$defs/Organization"}
    docs = {
        "registry.organization.registered.v1": schema(
            "registry.organization.registered.v1",
            "An organization was registered. Carries the whole public profile (never key people).",
            {"organization": ref},
            ["organization"],
            defs,
        ),
        "registry.organization.updated.v1": schema(
            "registry.organization.updated.v1",
            "An organization's public profile changed. Carries the whole profile and the changed fields.",
            {
                "organization": ref,
                "changed_fields": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "e.g. identity.acronym",
                },
            },
            ["organization", "changed_fields"],
            defs,
        ),
        "registry.organization.archived.v1": schema(
            "registry.organization.archived.v1",
            "An organization was archived. Carries the whole public profile (status archived).",
            {"organization": ref},
            ["organization"],
            defs,
        ),
    }
    person = Person.model_json_schema(mode="serialization")
    docs["registry.organization.people_updated.v1"] = schema(
        "registry.organization.people_updated.v1",
        "RESTRICTED: an organization's key people changed (for due-diligence screening only; never "
        "forwarded to webhooks or shown publicly).",
        {
            "organization_id": {"type": "string"},
            "legal_name": {"type": "string"},
            "country": {"type": "string"},
            "version": {"type": "integer"},
            "people": {"type": "array", "items": {"$ref": "#/$defs/Person"}},
        },
        ["organization_id", "legal_name", "country", "people"],
        {"Person": person},
    )
    docs["registry.organization.people_updated.v1"]["x-restricted"] = True
    for name, doc in docs.items():
        (OUT / f"{name}.json").write_text(
            json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print("wrote", name)


if __name__ == "__main__":
    main()
