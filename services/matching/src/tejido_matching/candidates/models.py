"""Tables of the candidates read model (the snapshot workers restore from)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Float, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime


class Candidate(SQLModel, table=True):
    """One organization as matching sees it. A rating may arrive before the profile (different
    streams), so ``profile`` is nullable and such a row is never ranked until the profile lands."""

    __tablename__ = "match_candidates"

    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))
    profile: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    status: str = Field(default="draft", sa_column=Column(String(20), nullable=False))
    # Due diligence: the latest rating, and flags. Blocked = High band, a red flag on the rating, or a
    # blocking flag (``duediligence.flag.changed.v1``: red flag or confirmed screening hit).
    band: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    band_confidence: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    rated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    rating_red_flag: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    flag_level: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    flag_blocking: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    flag_changed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Embeddings of the texts with the hash of the texts they were computed from (stale if different).
    texts_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    embedded_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    embeddings: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # Time of the newest event applied to this row: workers resume the event streams from the
    # snapshot's newest time (minus a margin; applying is idempotent by version).
    event_time: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AllianceRecord(SQLModel, table=True):
    __tablename__ = "match_alliances"

    alliance_id: str = Field(sa_column=Column(String(36), primary_key=True))
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    stage: str = Field(sa_column=Column(String(30), nullable=False))
    name: str = Field(default="", sa_column=Column(String(500), nullable=False))
    # [{"organization_id": ..., "role": ...}]
    parties: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    event_time: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
