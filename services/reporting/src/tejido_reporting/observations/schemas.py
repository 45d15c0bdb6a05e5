"""Observations as clients send and read them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

EvidenceLevel = Literal["self_declared", "documented", "verified"]
Number = Annotated[float, Field(allow_inf_nan=False, strict=False)]
Text = Annotated[str, StringConstraints(max_length=200)]


class PartIn(BaseModel):
    """One disaggregated part of the total, e.g. ``{"dimension": "sex", "category": "female",
    "value": 12}``."""

    model_config = ConfigDict(extra="forbid")

    dimension: Text
    category: Text
    value: Number | None = None
    numerator: Number | None = None
    denominator: Number | None = None
    weight: Number | None = None


class ObservationIn(BaseModel):
    """``observation_key`` names the observation for its organization, ``revision`` its version: the
    latest revision is in force, older ones are kept, and sending a revision again changes nothing."""

    model_config = ConfigDict(extra="forbid")

    organization_id: Annotated[str, StringConstraints(min_length=1, max_length=36)]
    observation_key: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    revision: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    indicator: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    period: Annotated[str, StringConstraints(max_length=10)] | None = Field(
        default=None, description="instead of period_start/period_end: 2009, 2009-Q2 or 2009-05"
    )
    period_start: date | None = None
    period_end: date | None = None
    territory: Annotated[str, StringConstraints(min_length=2, max_length=140)] = Field(
        description="MX, MX-ZAC or MX-ZAC:Fresnillo (country → subdivision → municipality)"
    )
    alliance_id: Annotated[str, StringConstraints(max_length=36)] | None = None
    value: Number | None = None
    numerator: Number | None = None
    denominator: Number | None = None
    weight: Number | None = Field(
        default=None, description="averages: how many units the value averages over"
    )
    currency: Annotated[str, StringConstraints(max_length=3)] | None = None
    unit: Annotated[str, StringConstraints(max_length=40)] | None = None
    evidence_level: EvidenceLevel = "self_declared"
    parts: list[PartIn] = Field(default_factory=list, max_length=200)


class ObservationOut(BaseModel):
    id: str
    organization_id: str
    observation_key: str
    revision: int
    in_force: bool
    indicator: str
    indicator_version: int
    period_start: date
    period_end: date
    territory: str
    alliance_id: str | None
    value: float | None
    numerator: float | None
    denominator: float | None
    weight: float | None
    currency: str | None
    evidence_level: str
    parts: list[dict[str, object]]
    source: str
    recorded_at: datetime


class Outcome(BaseModel):
    """``recorded``: a new revision now in force (``supersedes`` the one it replaced, if any);
    ``replayed``: this exact revision was already recorded, nothing changed; ``kept_superseded``: an
    older revision than the one in force, kept in the history but not counted."""

    status: Literal["recorded", "replayed", "kept_superseded"]
    observation: ObservationOut
    supersedes: int | None = None


class ObservationHistory(BaseModel):
    organization_id: str
    observation_key: str
    revisions: list[ObservationOut]


class RowError(BaseModel):
    row: int
    field: str
    reason: str


class ImportReport(BaseModel):
    """Every data row not listed in ``errors`` was committed. ``committed`` = recorded + replayed +
    kept_superseded."""

    rows: int
    committed: int
    recorded: int
    corrections: int
    replayed: int
    kept_superseded: int
    failed: int
    errors: list[RowError]
    errors_truncated: bool = False
