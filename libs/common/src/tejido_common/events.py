"""The event envelope (CloudEvents-style), subject naming, and the checked-in JSON schemas."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tejido_common.context import current_correlation_id
from tejido_common.ids import new_id

_PART = r"[a-z][a-z0-9_]*"
EVENT_TYPE_RE = re.compile(rf"^({_PART})\.({_PART})\.({_PART})\.v([1-9][0-9]*)$")
DEAD_LETTER_PREFIX = "deadletter"


def event_type(service: str, aggregate: str, action: str, version: int = 1) -> str:
    """``registry``, ``organization``, ``updated`` → ``registry.organization.updated.v1``.

    The event type doubles as the NATS subject, so every part must be a plain token.
    """
    value = f"{service}.{aggregate}.{action}.v{version}"
    if not EVENT_TYPE_RE.match(value):
        raise ValueError(f"invalid event type {value!r}")
    return value


def stream_name(service: str) -> str:
    """One JetStream stream per producing service: ``registry`` → ``REGISTRY`` (subjects ``registry.>``)."""
    return service.upper()


def dead_letter_subject(consumer: str, subject: str) -> str:
    return f"{DEAD_LETTER_PREFIX}.{consumer}.{subject}"


class Envelope(BaseModel):
    """Every event on the bus. ``type`` is also the NATS subject; ``subject`` names the aggregate."""

    model_config = ConfigDict(extra="allow")

    specversion: str = "1.0"
    id: str = Field(default_factory=new_id)
    type: str
    source: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str
    datacontenttype: str = "application/json"
    dataschema: str
    correlationid: str | None = None
    data: dict[str, Any]

    @classmethod
    def new(
        cls, type_: str, *, source: str, subject: str, data: dict[str, Any], correlation_id: str | None = None
    ) -> Envelope:
        match = EVENT_TYPE_RE.match(type_)
        if not match:
            raise ValueError(f"invalid event type {type_!r}")
        return cls(
            type=type_,
            source=source,
            subject=subject,
            dataschema=schema_ref(type_),
            correlationid=correlation_id or current_correlation_id(),
            data=data,
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)

    @property
    def version(self) -> int:
        match = EVENT_TYPE_RE.match(self.type)
        return int(match.group(4)) if match else 0


def schema_ref(type_: str) -> str:
    """The ``dataschema`` value: where the checked-in schema of this event type lives."""
    return f"https://tejido.dev/schemas/events/{type_}.json"


@cache
def load_schema(type_: str) -> dict[str, Any]:
    """The checked-in JSON schema of an event type's ``data`` (``event_schemas/<type>.json``)."""
    path = resources.files("tejido_common") / "event_schemas" / f"{type_}.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def known_event_types() -> list[str]:
    folder = resources.files("tejido_common") / "event_schemas"
    return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))
