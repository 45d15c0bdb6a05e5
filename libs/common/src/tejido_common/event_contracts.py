"""Typed event payloads and the one path from payload models to checked-in JSON schemas.

A producing domain package declares its events in ``events.py``::

    class RatingPublished(BaseModel):          # strict for the producer
        model_config = ConfigDict(extra="forbid")
        organization_id: str
        band: Band

    RATING_PUBLISHED = EventContract(
        "duediligence.rating.published.v1", RatingPublished, "A rating was finalized or overridden."
    )
    CONTRACTS = [RATING_PUBLISHED]

and builds envelopes with ``RATING_PUBLISHED.envelope(payload, source=..., subject=...)``. The schema
checked in under ``event_schemas/<type>.json`` is generated from the model (made tolerant: consumers
accept optional fields added later within a version)::

    .venv/bin/python -m tejido_common.event_contracts tejido_duediligence.ratings.events

and a test asserts ``stale_schemas(CONTRACTS) == []`` so the checked-in file never drifts from the model.
"""

from __future__ import annotations

import builtins
import importlib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from tejido_common.events import EVENT_TYPE_RE, Envelope

P = TypeVar("P", bound=BaseModel)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class EventContract(Generic[P]):
    """One event type: its subject/type, the payload model of ``data`` and what it means.

    ``restricted`` events carry personal data (key people, screening hits): they are marked in the
    schema (``x-restricted``) so the gateway never forwards them to webhooks."""

    type: str
    model: builtins.type[P]
    description: str
    restricted: bool = False

    def __post_init__(self) -> None:
        if not EVENT_TYPE_RE.match(self.type):
            raise ValueError(f"invalid event type {self.type!r}")

    def envelope(
        self, payload: P, *, source: str, subject: str, correlation_id: str | None = None
    ) -> Envelope:
        if not isinstance(payload, self.model):
            raise TypeError(f"{self.type} carries {self.model.__name__}, not {type(payload).__name__}")
        return Envelope.new(
            self.type,
            source=source,
            subject=subject,
            data=payload.model_dump(mode="json"),
            correlation_id=correlation_id,
        )

    def parse(self, envelope: Envelope) -> P:
        """The payload of a received event (consumers: prefer a tolerant reader model of your own)."""
        return self.model.model_validate(envelope.data)

    def schema(self) -> dict[str, Any]:
        body = self.model.model_json_schema(mode="serialization", ref_template="#/$defs/{model}")
        defs = body.pop("$defs", {})
        doc: dict[str, Any] = {
            "$schema": SCHEMA_DIALECT,
            "title": self.type,
            "description": self.description,
            **{k: v for k, v in body.items() if k not in ("title", "description")},
        }
        doc["additionalProperties"] = True
        if defs:
            doc["$defs"] = defs
        if self.restricted:
            doc["x-restricted"] = True
        result: dict[str, Any] = tolerant(doc)
        return result


def tolerant(node: Any) -> Any:
    """Consumers are tolerant readers: producers may add optional fields within a version."""
    if isinstance(node, dict):
        return {
            k: (True if k == "additionalProperties" and v is False else tolerant(v)) for k, v in node.items()
        }
    if isinstance(node, list):
        return [tolerant(v) for v in node]
    return node


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def schema_folder() -> Path:
    return Path(str(resources.files("tejido_common") / "event_schemas"))


def stale_schemas(contracts: Iterable[EventContract[Any]]) -> list[str]:
    """The event types whose checked-in schema differs from what the model generates (or is missing)."""
    stale = []
    for contract in contracts:
        path = schema_folder() / f"{contract.type}.json"
        if not path.exists() or path.read_text(encoding="utf-8") != render(contract.schema()):
            stale.append(contract.type)
    return stale


def write_schemas(contracts: Iterable[EventContract[Any]]) -> list[str]:
    written = []
    for contract in contracts:
        (schema_folder() / f"{contract.type}.json").write_text(render(contract.schema()), encoding="utf-8")
        written.append(contract.type)
    return written


def main(argv: list[str]) -> int:
    """``python -m tejido_common.event_contracts MODULE …``: regenerate each module's ``CONTRACTS``."""
    if not argv:
        print("usage: python -m tejido_common.event_contracts MODULE [MODULE …]", file=sys.stderr)
        return 2
    for name in argv:
        module = importlib.import_module(name)
        for type_ in write_schemas(module.CONTRACTS):
            print("wrote", type_)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
