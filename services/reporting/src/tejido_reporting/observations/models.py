"""Observations: every accepted revision is kept; ``in_force`` marks the latest revision of each one."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, Float, Index, Integer, String
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime


class ObservationRow(SQLModel, table=True):
    __tablename__ = "observations"
    __table_args__ = (
        Index("ux_observations_ident_revision", "ident", "revision", unique=True),
        Index("ix_observations_indicator_month", "indicator_code", "month"),
    )

    seq: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    id: str = Field(sa_column=Column(String(36), nullable=False, unique=True))
    # organization id + "/" + the client's observation key: names the observation across revisions
    ident: str = Field(sa_column=Column(String(240), nullable=False))
    organization_id: str = Field(sa_column=Column(String(36), nullable=False))
    observation_key: str = Field(sa_column=Column(String(200), nullable=False))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    in_force: bool = Field(sa_column=Column(Boolean, nullable=False))
    indicator_code: str = Field(sa_column=Column(String(60), nullable=False))
    indicator_version: int = Field(sa_column=Column(Integer, nullable=False))
    alliance_id: str = Field(default="", sa_column=Column(String(36), nullable=False))
    country: str = Field(sa_column=Column(String(2), nullable=False))
    subdivision: str = Field(default="", sa_column=Column(String(10), nullable=False))
    municipality: str = Field(default="", sa_column=Column(String(120), nullable=False))
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    month: int = Field(sa_column=Column(Integer, nullable=False))
    value: float | None = Field(default=None, sa_column=Column(Float))
    numerator: float | None = Field(default=None, sa_column=Column(Float))
    denominator: float | None = Field(default=None, sa_column=Column(Float))
    weight: float | None = Field(default=None, sa_column=Column(Float))
    currency: str = Field(default="", sa_column=Column(String(3), nullable=False))
    evidence_level: str = Field(sa_column=Column(String(20), nullable=False))
    parts: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str = Field(sa_column=Column(String(10), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
