"""Ratings: the computed result (with every contribution and threshold), and the reviewer's override."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Column, Date, Float, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime
from tejido_duediligence.kit.columns import JsonDoc


class RatingRow(SQLModel, table=True):
    __tablename__ = "ratings"
    __table_args__ = (
        Index("ix_ratings_org", "organization_id", "rated_at"),
        Index("ix_ratings_valid_until", "expired", "valid_until"),
    )

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    assessment_id: str = Field(sa_column=Column(String(36), nullable=False, unique=True))
    organization_id: str = Field(sa_column=Column(String(36), nullable=False))
    assessment_kind: str = Field(sa_column=Column(String(20), nullable=False))
    framework: str = Field(sa_column=Column(String(100), nullable=False))
    computed_band: str | None = Field(default=None, sa_column=Column(String(20)))
    band: str | None = Field(default=None, sa_column=Column(String(20)))
    score: float | None = Field(default=None, sa_column=Column(Float))
    psea_band: str | None = Field(default=None, sa_column=Column(String(20)))
    confidence: float = Field(sa_column=Column(Float, nullable=False))
    # The whole RatingResult: per-dimension scores, every contribution, thresholds.
    result: dict[str, Any] = Field(sa_column=Column(JsonDoc, nullable=False))
    rated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    rated_by: str = Field(sa_column=Column(String(200), nullable=False))
    oldest_evidence_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    valid_until: date = Field(sa_column=Column(Date, nullable=False))
    expired: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    expired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    override_band: str | None = Field(default=None, sa_column=Column(String(20)))
    override_justification: str | None = Field(default=None, sa_column=Column(Text))
    overridden_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    overridden_by: str | None = Field(default=None, sa_column=Column(String(200)))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
