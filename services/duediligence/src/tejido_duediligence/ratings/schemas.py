from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tejido_duediligence.ratings.rules import Band

MIN_JUSTIFICATION = 20


class OverrideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    band: Band
    justification: str = Field(
        min_length=MIN_JUSTIFICATION,
        max_length=10_000,
        description=f"why the computed band is wrong (at least {MIN_JUSTIFICATION} characters)",
    )

    @field_validator("justification")
    @classmethod
    def _written(cls, value: str) -> str:
        if len(value.strip()) < MIN_JUSTIFICATION:
            raise ValueError(
                f"a written justification of at least {MIN_JUSTIFICATION} characters is required"
            )
        return value.strip()


class Override(BaseModel):
    band: str
    justification: str
    at: datetime
    by: str


class Freshness(BaseModel):
    rated_at: datetime
    valid_until: date
    expired: bool
    due_for_reassessment: bool
    rating_age_days: int
    oldest_evidence_age_days: int | None


class Rating(BaseModel):
    id: str
    assessment_id: str
    organization_id: str
    assessment_kind: str
    framework: str
    band: str | None = Field(description="the band in force: the override when there is one")
    computed_band: str | None
    override: Override | None
    score: float | None
    psea_band: str | None
    confidence: float
    freshness: Freshness
    rated_by: str
    version: int
    result: dict[str, Any] = Field(
        description="per-dimension scores, every question's contribution, thresholds"
    )
