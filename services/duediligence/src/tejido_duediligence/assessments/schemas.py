from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["self", "reviewer"]
Status = Literal["draft", "submitted", "in_review", "finalized"]


class AssessmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organization_id: str = Field(min_length=1, max_length=36)
    kind: Kind
    framework_id: str = Field(default="dd-default", min_length=1, max_length=60)
    framework_version: str | None = Field(default=None, max_length=40, description="default: the latest")


class AnswerPut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: str = Field(
        min_length=1, max_length=20, description="hact: na, low, medium, significant, high; psea: absent, …"
    )
    comment: str | None = Field(default=None, max_length=5000)


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Status
    reason: str | None = Field(default=None, max_length=5000)


class Evidence(BaseModel):
    id: str
    question_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    description: str | None
    uploaded_at: datetime
    uploaded_by: str
    verified: bool
    verified_at: datetime | None
    verified_by: str | None


class Answer(BaseModel):
    question_id: str
    answer: str
    value: int
    comment: str | None
    answered_at: datetime
    answered_by: str
    evidence: list[Evidence] = []


class Step(BaseModel):
    from_status: str | None
    to_status: str
    at: datetime
    by: str
    reason: str | None


class Assessment(BaseModel):
    id: str
    organization_id: str
    framework_id: str
    framework_version: str
    kind: str
    status: str
    version: int
    created_at: datetime
    created_by: str
    answers: list[Answer]
    unanswered: list[str]
    missing_evidence: list[str] = Field(
        description="questions whose framework asks for evidence, with none yet"
    )
    workflow: list[Step]
    rating_id: str | None = None


class AssessmentSummary(BaseModel):
    id: str
    organization_id: str
    framework_id: str
    framework_version: str
    kind: str
    status: str
    created_at: datetime
