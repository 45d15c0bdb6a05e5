"""Indicator definitions: one row per (code, version); a version is never changed once written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Integer, String, Text
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime


class IndicatorRow(SQLModel, table=True):
    __tablename__ = "indicators"

    code: str = Field(sa_column=Column(String(60), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True))
    # name, description, unit, value_type, direction, aggregation, disaggregations, families,
    # program_areas, sdg — the definition as the API shows it
    doc: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    builtin: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
