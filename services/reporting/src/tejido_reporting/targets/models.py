"""Targets and baselines of an indicator for an organization, an alliance or a territory, per period."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, Float, Index, Integer, String
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime


class TargetRow(SQLModel, table=True):
    __tablename__ = "targets"
    __table_args__ = (
        Index(
            "ux_targets_scope_period",
            "indicator_code",
            "scope_kind",
            "scope_id",
            "first_month",
            "last_month",
            "currency",
            unique=True,
        ),
    )

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    indicator_code: str = Field(sa_column=Column(String(60), nullable=False))
    scope_kind: str = Field(sa_column=Column(String(20), nullable=False))
    scope_id: str = Field(sa_column=Column(String(200), nullable=False))
    period: str = Field(sa_column=Column(String(20), nullable=False))
    first_month: int = Field(sa_column=Column(Integer, nullable=False))
    last_month: int = Field(sa_column=Column(Integer, nullable=False))
    target_value: float = Field(sa_column=Column(Float, nullable=False))
    baseline_value: float | None = Field(default=None, sa_column=Column(Float))
    baseline_date: date | None = Field(default=None, sa_column=Column(Date))
    currency: str = Field(default="", sa_column=Column(String(3), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
