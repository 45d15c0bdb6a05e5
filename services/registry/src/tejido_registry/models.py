"""Registry tables. The profile is stored as one JSON document per organization; the values that are
filtered on are copied into indexed columns (single-valued) and the facet table (multi-valued)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel
from tejido_common.db import UTCDateTime

JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class OrganizationRow(SQLModel, table=True):
    __tablename__ = "organizations"
    __table_args__ = (
        Index("ix_organizations_status_id", "status", "id"),
        Index("ix_organizations_actor_type", "actor_type"),
        Index("ix_organizations_country", "country"),
    )

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    legal_name: str = Field(sa_column=Column(String(300), nullable=False))
    actor_type: str = Field(sa_column=Column(String(40), nullable=False))
    country: str = Field(sa_column=Column(String(2), nullable=False))
    profile: dict[str, Any] = Field(sa_column=Column(JsonDoc, nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    archived_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class OrganizationFacetRow(SQLModel, table=True):
    """One row per (facet, value) an organization has: program_area, subdivision, language, …"""

    __tablename__ = "organization_facets"
    __table_args__ = (Index("ix_organization_facets_org", "organization_id"),)

    facet: str = Field(sa_column=Column(String(40), primary_key=True))
    value: str = Field(sa_column=Column(String(120), primary_key=True))
    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))


class OrganizationIdentifierRow(SQLModel, table=True):
    """Identifiers are unique across organizations: the basis of duplicate checks and upserts."""

    __tablename__ = "organization_identifiers"

    scheme: str = Field(sa_column=Column(String(60), primary_key=True))
    value: str = Field(sa_column=Column(String(100), primary_key=True))
    organization_id: str = Field(sa_column=Column(String(36), nullable=False, index=True))
