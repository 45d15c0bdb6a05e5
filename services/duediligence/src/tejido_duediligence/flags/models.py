"""Flags and their history (every level change with who and why)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime


class FlagRow(SQLModel, table=True):
    __tablename__ = "flags"
    __table_args__ = (Index("ix_flags_org", "organization_id", "level"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    organization_id: str = Field(sa_column=Column(String(36), nullable=False))
    level: str = Field(sa_column=Column(String(20), nullable=False))
    category: str = Field(sa_column=Column(String(40), nullable=False))
    title: str = Field(sa_column=Column(String(300), nullable=False))
    # The screening hit that raised it, when a confirmed hit did.
    hit_id: str | None = Field(default=None, sa_column=Column(String(36)))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by: str = Field(sa_column=Column(String(200), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class FlagChangeRow(SQLModel, table=True):
    __tablename__ = "flag_changes"

    flag_id: str = Field(sa_column=Column(String(36), primary_key=True))
    seq: int = Field(sa_column=Column(Integer, primary_key=True))
    from_level: str | None = Field(default=None, sa_column=Column(String(20)))
    to_level: str = Field(sa_column=Column(String(20), nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    by: str = Field(sa_column=Column(String(200), nullable=False))
