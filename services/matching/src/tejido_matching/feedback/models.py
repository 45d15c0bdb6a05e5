from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime


class Feedback(SQLModel, table=True):
    __tablename__ = "match_feedback"

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    requester_id: str = Field(sa_column=Column(String(36), nullable=False))
    candidate_id: str = Field(sa_column=Column(String(36), nullable=False))
    verdict: str = Field(sa_column=Column(String(20), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(String(1000), nullable=True))
    mode: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
