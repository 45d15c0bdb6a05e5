from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Role = Literal["admin", "operator", "org_editor", "reviewer", "funder"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OrganizationId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class KeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Fondo Semillas sync", "role": "funder"}]},
    )

    name: Name
    role: Role
    # Organizations an org_editor key may act for (required for that role).
    organizations: list[OrganizationId] = Field(default_factory=list, max_length=500)


class Key(BaseModel):
    """An API key as listed: never its secret."""

    id: str = Field(examples=["k_3f9a01b2c4d5"])
    name: str
    role: str
    organizations: list[str]
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class CreatedKey(Key):
    key: str = Field(description="the API key; shown only in this response", examples=["tjd_3f9a01b2c4d5_…"])


class KeyList(BaseModel):
    items: list[Key]


class Me(BaseModel):
    """The caller as the gateway authenticated it."""

    id: str
    kind: str
    role: str | None
    organizations: list[str]
    name: str | None
