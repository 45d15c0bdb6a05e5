"""Events the screening domain produces. Hits name people: the event is restricted like key people."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tejido_common.event_contracts import EventContract


class ScreeningHit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hit_id: str
    organization_id: str
    subject_kind: Literal["organization", "person"]
    subject_name: str = Field(description="the organization's or key person's name that was screened")
    list_id: str
    list_version_id: str
    entry_ref: str = Field(description="the entry's reference in its list (e.g. the UN reference number)")
    entry_name: str
    score: float = Field(ge=0, le=100)
    matched_fields: list[dict[str, Any]]
    status: Literal["pending"]
    created_at: datetime


SCREENING_HIT = EventContract(
    "duediligence.screening.hit.v1",
    ScreeningHit,
    "Screening found a possible match of an organization or one of its key people on a watch list; it "
    "waits for adjudication. Restricted: it names people.",
    restricted=True,
)
CONTRACTS = [SCREENING_HIT]
