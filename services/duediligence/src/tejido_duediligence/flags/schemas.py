from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tejido_duediligence.flags.events import FlagLevel

FlagCategory = Literal[
    "reputational",
    "financial",
    "operational",
    "compliance",
    "sexual_exploitation_abuse",
    "safeguarding",
    "sanctions_match",
    "other",
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


class FlagCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organization_id: str = Field(min_length=1, max_length=36)
    level: Literal["observation", "yellow"] = "observation"
    category: FlagCategory
    title: str = Field(min_length=1, max_length=300)
    reason: str = Field(min_length=1, max_length=5000, description="why the flag is raised")

    _blank = field_validator("title", "reason")(_not_blank)


class FlagTransition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: FlagLevel
    reason: str = Field(min_length=1, max_length=5000)

    _blank = field_validator("reason")(_not_blank)


class FlagChange(BaseModel):
    from_level: str | None
    to_level: str
    reason: str
    at: datetime
    by: str


class Flag(BaseModel):
    id: str
    organization_id: str
    level: str
    category: str
    title: str
    hit_id: str | None
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    history: list[FlagChange]


class OrganizationFlags(BaseModel):
    organization_id: str
    blocking: bool
    flags: list[Flag]
