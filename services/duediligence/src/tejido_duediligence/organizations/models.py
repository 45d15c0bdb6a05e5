"""Read-model tables: public names per organization, and key people in their own (restricted) table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Integer, String
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime
from tejido_duediligence.kit.columns import JsonDoc


class OrganizationRow(SQLModel, table=True):
    __tablename__ = "dd_organizations"

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    legal_name: str = Field(sa_column=Column(String(500), nullable=False))
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JsonDoc, nullable=False))
    acronym: str | None = Field(default=None, sa_column=Column(String(100)))
    country: str | None = Field(default=None, sa_column=Column(String(2)))
    status: str = Field(sa_column=Column(String(20), nullable=False))
    # The registry's profile version: older events delivered late never overwrite newer state.
    version: int = Field(sa_column=Column(Integer, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class KeyPeopleRow(SQLModel, table=True):
    __tablename__ = "dd_key_people"

    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))
    people: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JsonDoc, nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
