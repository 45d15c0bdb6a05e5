"""Events the flags domain produces."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tejido_common.event_contracts import EventContract

FlagLevel = Literal["observation", "yellow", "escalated", "red", "closed"]


class FlagChanged(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: str
    flag_id: str
    level: FlagLevel = Field(description="the flag's level after the change (closed: no longer in force)")
    previous_level: FlagLevel | None = Field(description="null when the flag was just raised")
    category: str
    reason: str
    changed_by: str
    changed_at: datetime
    blocking: bool = Field(
        description="true while the organization has at least one red flag in force (this one or another): "
        "matching excludes it and it cannot be verified"
    )
    red_flags: int = Field(ge=0, description="red flags in force on the organization after this change")


FLAG_CHANGED = EventContract(
    "duediligence.flag.changed.v1",
    FlagChanged,
    "A flag on an organization was raised or changed level (observation, yellow, escalated, red, closed). "
    "`blocking` is the organization's state after the change.",
)
CONTRACTS = [FLAG_CHANGED]
