"""Events the ratings domain produces. ``rating.published`` keeps every field of the contract the
registry consumes (designed before this service); the fields after ``red_flag`` are optional additions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tejido_common.event_contracts import EventContract

Band = Literal["low", "medium", "significant", "high"]


class RatingPublished(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: str
    band: Band = Field(description="HACT risk band in force (the reviewer's override when there is one)")
    rated_at: datetime
    assessment_id: str | None = None
    framework_version: str | None = None
    score: float | None = Field(default=None, description="HACT points per applicable question")
    confidence: float | None = Field(default=None, ge=0, le=1)
    valid_until: date | None = None
    overridden: bool | None = None
    red_flag: bool | None = None
    rating_id: str | None = None
    computed_band: Band | None = None
    psea_band: Literal["low", "moderate", "high"] | None = None
    assessment_kind: Literal["self", "reviewer"] | None = None


class RatingExpired(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: str
    rating_id: str
    assessment_id: str
    band: Band | None
    valid_until: date
    expired_at: datetime


RATING_PUBLISHED = EventContract(
    "duediligence.rating.published.v1",
    RatingPublished,
    "A rating of an organization was finalized (computed or overridden by a reviewer). The registry keeps "
    "the band to show on profiles; matching uses it for trust.",
)
RATING_EXPIRED = EventContract(
    "duediligence.rating.expired.v1",
    RatingExpired,
    "A rating passed its valid-until date: the organization is due for re-assessment.",
)
CONTRACTS = [RATING_PUBLISHED, RATING_EXPIRED]
