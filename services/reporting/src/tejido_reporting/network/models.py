"""Read model of the network, kept from registry and due-diligence events (never from their databases)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime


class OrganizationView(SQLModel, table=True):
    __tablename__ = "network_organizations"

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    status: str = Field(sa_column=Column(String(20), nullable=False))
    name: str = Field(sa_column=Column(String(300), nullable=False))
    actor_type: str | None = Field(default=None, sa_column=Column(String(40)))
    country: str | None = Field(default=None, sa_column=Column(String(2)))
    subdivisions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    identifiers: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class RatingView(SQLModel, table=True):
    """The current due-diligence band per organization (kept even before the organization's own
    registration event arrives: the two come through different streams)."""

    __tablename__ = "network_ratings"

    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))
    band: str = Field(sa_column=Column(String(20), nullable=False))
    rated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class OrganizationFacet(SQLModel, table=True):
    """One row per (organization, kind, code): program areas, their categories and social indicator
    families, so that aggregates can filter organizations by them through an index."""

    __tablename__ = "network_organization_facets"
    __table_args__ = (Index("ix_network_facets_kind_code", "kind", "code", "organization_id"),)

    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))
    kind: str = Field(sa_column=Column(String(20), primary_key=True))
    code: str = Field(sa_column=Column(String(60), primary_key=True))


class AllianceView(SQLModel, table=True):
    __tablename__ = "network_alliances"

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    name: str = Field(sa_column=Column(String(300), nullable=False))
    purpose: str | None = Field(default=None, sa_column=Column(Text))
    stage: str = Field(sa_column=Column(String(20), nullable=False))
    type: str | None = Field(default=None, sa_column=Column(String(40)))
    scope: str | None = Field(default=None, sa_column=Column(String(20)))
    modality: str | None = Field(default=None, sa_column=Column(String(40)))
    development_strategy: str | None = Field(default=None, sa_column=Column(String(40)))
    legitimacy: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # [{"organization_id", "role"}] of the current parties
    parties: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    stage_changed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class AllianceParty(SQLModel, table=True):
    __tablename__ = "network_alliance_parties"

    alliance_id: str = Field(sa_column=Column(String(36), primary_key=True))
    organization_id: str = Field(sa_column=Column(String(36), primary_key=True))
    role: str = Field(sa_column=Column(String(40), nullable=False))
