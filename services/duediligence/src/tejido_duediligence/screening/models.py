"""Watch-list versions and entries; screening hits with their adjudication."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Float, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime
from tejido_duediligence.kit.columns import JsonDoc


class ListVersionRow(SQLModel, table=True):
    __tablename__ = "watchlist_versions"
    __table_args__ = (Index("ix_watchlist_versions_list", "list_id", "seq", unique=True),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    list_id: str = Field(sa_column=Column(String(60), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    source_format: str = Field(sa_column=Column(String(20), nullable=False))
    source_name: str | None = Field(default=None, sa_column=Column(String(255)))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    generated_at: str | None = Field(default=None, sa_column=Column(String(40)))
    entries: int = Field(sa_column=Column(Integer, nullable=False))
    loaded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    loaded_by: str = Field(sa_column=Column(String(200), nullable=False))


class ListEntryRow(SQLModel, table=True):
    __tablename__ = "watchlist_entries"
    __table_args__ = (Index("ix_watchlist_entries_version", "version_id"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    version_id: str = Field(sa_column=Column(String(36), nullable=False))
    list_id: str = Field(sa_column=Column(String(60), nullable=False))
    ref: str = Field(sa_column=Column(String(100), nullable=False))
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    name: str = Field(sa_column=Column(String(500), nullable=False))
    # [{"name", "quality": "primary"|"good"|"low", "given": [given-name words]}]
    names: list[dict[str, Any]] = Field(sa_column=Column(JsonDoc, nullable=False))
    countries: list[str] = Field(default_factory=list, sa_column=Column(JsonDoc, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonDoc, nullable=False))


class HitRow(SQLModel, table=True):
    __tablename__ = "screening_hits"
    __table_args__ = (
        UniqueConstraint("organization_id", "subject_key", "version_id", "entry_ref", name="uq_hit"),
        Index("ix_hits_status", "status", "created_at"),
        Index("ix_hits_org", "organization_id"),
    )

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    organization_id: str = Field(sa_column=Column(String(36), nullable=False))
    subject_kind: str = Field(sa_column=Column(String(20), nullable=False))  # organization | person
    subject_name: str = Field(sa_column=Column(String(500), nullable=False))
    subject_key: str = Field(sa_column=Column(String(500), nullable=False))
    list_id: str = Field(sa_column=Column(String(60), nullable=False))
    version_id: str = Field(sa_column=Column(String(36), nullable=False))
    entry_ref: str = Field(sa_column=Column(String(100), nullable=False))
    entry_name: str = Field(sa_column=Column(String(500), nullable=False))
    score: float = Field(sa_column=Column(Float, nullable=False))
    matched: list[dict[str, Any]] = Field(sa_column=Column(JsonDoc, nullable=False))
    # pending | confirmed | dismissed | withdrawn (the name left the profile while pending)
    status: str = Field(sa_column=Column(String(20), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    decided_by: str | None = Field(default=None, sa_column=Column(String(200)))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
