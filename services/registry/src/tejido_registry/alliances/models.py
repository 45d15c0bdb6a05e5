"""Alliance tables. The alliance is stored as one JSON document; the values that are filtered on are
copied into indexed columns, and each party into ``alliance_parties`` (the organization → alliances
lookup). Stage changes are kept in ``alliance_stage_changes``, one row per change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime

JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class AllianceRow(SQLModel, table=True):
    __tablename__ = "alliances"
    __table_args__ = (
        Index("ix_alliances_stage_id", "stage", "id"),
        Index("ix_alliances_type", "type"),
        Index("ix_alliances_modality", "modality"),
        Index("ix_alliances_scope", "scope"),
    )

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    name: str = Field(sa_column=Column(String(300), nullable=False))
    stage: str = Field(sa_column=Column(String(20), nullable=False))
    type: str | None = Field(default=None, sa_column=Column(String(40)))
    scope: str | None = Field(default=None, sa_column=Column(String(20)))
    modality: str | None = Field(default=None, sa_column=Column(String(40)))
    development_strategy: str | None = Field(default=None, sa_column=Column(String(40)))
    # name, purpose, classification, parties, agreements, project and results (everything but stage)
    doc: dict[str, Any] = Field(sa_column=Column(JsonDoc, nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    stage_changed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AlliancePartyRow(SQLModel, table=True):
    """One row per current party: which alliances an organization is in, and in which role."""

    __tablename__ = "alliance_parties"
    __table_args__ = (Index("ix_alliance_parties_org", "organization_id", "alliance_id"),)

    alliance_id: str = Field(sa_column=Column(String(36), primary_key=True))
    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))
    role: str = Field(sa_column=Column(String(40), nullable=False))


class AllianceStageChangeRow(SQLModel, table=True):
    """One row per stage change (creation included), keyed by the alliance version it produced."""

    __tablename__ = "alliance_stage_changes"

    alliance_id: str = Field(sa_column=Column(String(36), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True))
    from_stage: str | None = Field(default=None, sa_column=Column(String(20)))
    to_stage: str = Field(sa_column=Column(String(20), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    changed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str | None = Field(default=None, sa_column=Column(String(200)))
    correlation_id: str | None = Field(default=None, sa_column=Column(String(128)))
