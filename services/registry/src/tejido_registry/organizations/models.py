"""Registry tables. The profile is stored as one JSON document per organization; the values that are
filtered on are copied into indexed columns (single-valued) and the facet table (multi-valued)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Text
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
        Index("ix_organizations_updated", "updated_at", "id"),
        Index("ix_organizations_sort_name", "sort_name", "id"),
        Index("ix_organizations_completeness", "completeness", "id"),
        Index("ix_organizations_dd_band", "dd_band"),
        Index("ix_organizations_country_name", "country", "sort_name", "id", "status"),
        Index(
            "ix_organizations_search",
            "country",
            "actor_type",
            "status",
            "id",
            "sort_name",
            "updated_at",
            "completeness",
            "willing_to_cooperate",
            "dd_band",
        ),
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
    sort_name: str = Field(default="", sa_column=Column(String(300), nullable=False, server_default=""))
    completeness: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    willing_to_cooperate: bool | None = Field(default=None, sa_column=Column(Boolean))
    # Kept from duediligence.* events: the band to show and filter on, and when it was computed.
    dd_band: str | None = Field(default=None, sa_column=Column(String(20)))
    dd_rated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Restricted: key people, never part of public reads, exports, search or organization events.
    people: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JsonDoc))


class OrganizationFacetRow(SQLModel, table=True):
    """One row per (facet, value) an organization has: program_area, subdivision, language, …"""

    __tablename__ = "organization_facets"
    __table_args__ = (Index("ix_organization_facets_probe", "organization_id", "facet", "value"),)

    facet: str = Field(sa_column=Column(String(40), primary_key=True))
    value: str = Field(sa_column=Column(String(120), primary_key=True))
    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))


class OrganizationIdentifierRow(SQLModel, table=True):
    """Identifiers are unique across organizations: the basis of duplicate checks and upserts."""

    __tablename__ = "organization_identifiers"

    scheme: str = Field(sa_column=Column(String(60), primary_key=True))
    value: str = Field(sa_column=Column(String(100), primary_key=True))
    organization_id: str = Field(sa_column=Column(String(36), nullable=False, index=True))


class OrganizationVersionRow(SQLModel, table=True):
    """One row per version: what changed (old → new), who and when, and the profile as it then was."""

    __tablename__ = "organization_versions"
    __table_args__ = (Index("ix_organization_versions_changed", "organization_id", "changed_at"),)

    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True))
    changed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str | None = Field(default=None, sa_column=Column(String(200)))
    correlation_id: str | None = Field(default=None, sa_column=Column(String(128)))
    action: str = Field(sa_column=Column(String(40), nullable=False))
    changes: list[dict[str, Any]] = Field(sa_column=Column(JsonDoc, nullable=False))
    snapshot: dict[str, Any] = Field(sa_column=Column(JsonDoc, nullable=False))


class OrganizationNameRow(SQLModel, table=True):
    """Normalized names and aliases per country, the candidates of duplicate detection."""

    __tablename__ = "organization_names"
    __table_args__ = (Index("ix_organization_names_country", "country", "norm"),)

    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))
    norm: str = Field(sa_column=Column(String(300), primary_key=True))
    country: str = Field(sa_column=Column(String(2), nullable=False))
    name: str = Field(sa_column=Column(String(300), nullable=False))


class OrganizationImportRow(SQLModel, table=True):
    """One row per import job: its durable report, updated in the transaction of every batch, so what
    it says was committed is exactly what was committed, whatever stops the import."""

    __tablename__ = "organization_imports"

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    format: str = Field(sa_column=Column(String(8), nullable=False))
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    rows_committed: int = Field(sa_column=Column(Integer, nullable=False))
    # counts, per-row errors and warnings as the report shows them
    report: dict[str, Any] = Field(sa_column=Column(JsonDoc, nullable=False))
    stopped_reason: str | None = Field(default=None, sa_column=Column(Text))
