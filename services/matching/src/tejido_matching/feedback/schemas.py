from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from tejido_matching.ranking.weights import Mode

Verdict = Literal["contacted", "not_relevant"]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requester_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=36)]
    candidate_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=36)]
    verdict: Verdict
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)] | None = (
        None
    )
    mode: Mode | None = None

    @model_validator(mode="after")
    def _reason_for_dismissal(self) -> FeedbackIn:
        if self.verdict == "not_relevant" and not self.reason:
            raise ValueError("reason is required when the verdict is not_relevant")
        return self


class FeedbackOut(BaseModel):
    id: str
    requester_id: str
    candidate_id: str
    verdict: Verdict
    reason: str | None
    mode: str | None
    created_at: datetime


class FeedbackStats(BaseModel):
    requester_id: str | None
    marked: int = Field(description="Suggestions with a verdict (latest per requester and candidate)")
    contacted: int
    not_relevant: int
    acceptance_rate: float | None = Field(description="contacted / marked")
    by_mode: dict[str, dict[str, float | int | None]]
    not_relevant_reasons: dict[str, int]
