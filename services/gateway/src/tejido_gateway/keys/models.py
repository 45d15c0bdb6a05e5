"""API keys: only a SHA-256 digest of each secret is stored; the key itself is shown once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime


class ApiKeyRow(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    role: str = Field(sa_column=Column(String(40), nullable=False))
    organizations: list[Any] = Field(sa_column=Column(JSON, nullable=False))
    # hex SHA-256 of the secret part: keys are 256-bit random, so a slow hash would add nothing.
    secret_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by: str | None = Field(default=None, sa_column=Column(String(200)))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
