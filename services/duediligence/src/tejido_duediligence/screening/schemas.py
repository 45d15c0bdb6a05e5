from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Kind = Literal["person", "organization"]


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=500)
    kind: Kind
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    threshold: float | None = Field(default=None, ge=50, le=100, description="default: the service setting")

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class CheckHit(BaseModel):
    list_id: str
    list_version_id: str
    entry_ref: str
    entry_name: str
    entry_kind: str
    entry_countries: list[str]
    score: float
    matched_fields: list[dict[str, Any]]


class ListVersionRef(BaseModel):
    list_id: str
    version_id: str
    seq: int


class CheckResult(BaseModel):
    name: str
    kind: str
    threshold: float
    lists: list[ListVersionRef]
    hits: list[CheckHit]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["confirm", "dismiss"]
    reason: str = Field(min_length=1, max_length=5000)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class Hit(BaseModel):
    id: str
    organization_id: str
    subject_kind: str
    subject_name: str
    list_id: str
    version_id: str
    entry_ref: str
    entry_name: str
    score: float
    matched: list[dict[str, Any]]
    status: str
    reason: str | None
    decided_at: datetime | None
    decided_by: str | None
    created_at: datetime
    flag_id: str | None = None


class ScreeningRun(BaseModel):
    organizations: int
    new_hits: int


class RowProblem(BaseModel):
    row: int
    field: str
    reason: str


class ListVersion(BaseModel):
    id: str
    list_id: str
    seq: int
    source_format: str
    source_name: str | None
    sha256: str
    generated_at: str | None
    entries: int
    loaded_at: datetime
    loaded_by: str


class LoadReport(BaseModel):
    format: str
    versions: list[ListVersion]
    unchanged: list[str] = Field(
        description="lists whose content equals their current version (nothing loaded)"
    )
    entries_loaded: int
    errors: list[RowProblem]
    rescreened: ScreeningRun | None


class WatchList(BaseModel):
    list_id: str
    current: ListVersion
    versions: int
