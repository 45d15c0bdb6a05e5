"""Assessment tables: the assessment with its workflow stamps, one row per answer, one per evidence file."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime


class AssessmentRow(SQLModel, table=True):
    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_org", "organization_id", "id"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    organization_id: str = Field(sa_column=Column(String(36), nullable=False))
    framework_id: str = Field(sa_column=Column(String(60), nullable=False))
    framework_version: str = Field(sa_column=Column(String(40), nullable=False))
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    status: str = Field(sa_column=Column(String(20), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by: str = Field(sa_column=Column(String(200), nullable=False))


class WorkflowStepRow(SQLModel, table=True):
    """Every status change with who, when and why (draft → submitted → in review → finalized)."""

    __tablename__ = "assessment_steps"

    assessment_id: str = Field(sa_column=Column(String(36), primary_key=True))
    seq: int = Field(sa_column=Column(Integer, primary_key=True))
    from_status: str | None = Field(default=None, sa_column=Column(String(20)))
    to_status: str = Field(sa_column=Column(String(20), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    by: str = Field(sa_column=Column(String(200), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text))


class AnswerRow(SQLModel, table=True):
    __tablename__ = "assessment_answers"

    assessment_id: str = Field(sa_column=Column(String(36), primary_key=True))
    question_id: str = Field(sa_column=Column(String(40), primary_key=True))
    answer: str = Field(sa_column=Column(String(20), nullable=False))
    value: int = Field(sa_column=Column(Integer, nullable=False))
    comment: str | None = Field(default=None, sa_column=Column(Text))
    answered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    answered_by: str = Field(sa_column=Column(String(200), nullable=False))


class EvidenceRow(SQLModel, table=True):
    __tablename__ = "assessment_evidence"
    __table_args__ = (Index("ix_evidence_assessment", "assessment_id", "question_id"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    assessment_id: str = Field(sa_column=Column(String(36), nullable=False))
    question_id: str = Field(sa_column=Column(String(40), nullable=False))
    filename: str = Field(sa_column=Column(String(255), nullable=False))
    content_type: str = Field(sa_column=Column(String(100), nullable=False))
    size: int = Field(sa_column=Column(Integer, nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    storage_key: str = Field(sa_column=Column(String(200), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    uploaded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    uploaded_by: str = Field(sa_column=Column(String(200), nullable=False))
    verified: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    verified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    verified_by: str | None = Field(default=None, sa_column=Column(String(200)))
