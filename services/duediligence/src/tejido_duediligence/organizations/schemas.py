"""Tolerant readers of the registry events this service consumes (unknown fields are ignored)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Identity(_Tolerant):
    legal_name: str
    aliases: list[str] = Field(default_factory=list)
    acronym: str | None = None


class Where(_Tolerant):
    country: str | None = None


class Profile(_Tolerant):
    id: str
    status: str = "active"
    version: int
    identity: Identity
    where: Where = Field(default_factory=Where)


class OrganizationEvent(_Tolerant):
    organization: Profile


class KeyPerson(_Tolerant):
    name: str
    role: str | None = None
    nationality: str | None = None


class PeopleEvent(_Tolerant):
    organization_id: str
    version: int
    people: list[KeyPerson] = Field(default_factory=list)


class OrganizationView(BaseModel):
    """What this service knows about an organization (public names only)."""

    id: str
    legal_name: str
    aliases: list[str]
    acronym: str | None
    country: str | None
    status: str
    version: int
