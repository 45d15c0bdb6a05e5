from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Number = Annotated[float, Field(allow_inf_nan=False)]
Status = Literal["met", "on_track", "behind", "no_data"]


class Baseline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Number
    date: dt.date | None = None


class TargetIn(BaseModel):
    """A target for exactly one scope: an organization, an alliance or a territory."""

    model_config = ConfigDict(extra="forbid")

    indicator: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    organization_id: Annotated[str, StringConstraints(max_length=36)] | None = None
    alliance_id: Annotated[str, StringConstraints(max_length=36)] | None = None
    territory: Annotated[str, StringConstraints(max_length=140)] | None = None
    period: Annotated[str, StringConstraints(max_length=10)] = Field(description="2009, 2009-Q2 or 2009-05")
    target: Number
    baseline: Baseline | None = None
    currency: Annotated[str, StringConstraints(max_length=3)] | None = None


class TargetPatch(BaseModel):
    """What may change in a target: its value, baseline (``null`` removes it), period and currency.
    The indicator and the scope name the target: to change them, delete it and create another."""

    model_config = ConfigDict(extra="forbid")

    period: Annotated[str, StringConstraints(max_length=10)] | None = Field(
        default=None, description="2009, 2009-Q2 or 2009-05"
    )
    target: Number | None = None
    baseline: Baseline | None = None
    currency: Annotated[str, StringConstraints(max_length=3)] | None = None


class Progress(BaseModel):
    """``met`` / ``on_track`` / ``behind`` / ``no_data`` on ``as_of`` (see targets/service.py)."""

    status: Status
    actual: float | None
    elapsed_share: float
    as_of: date


class Target(BaseModel):
    id: str
    indicator: str
    scope: Literal["organization", "alliance", "territory"]
    scope_id: str
    period: str
    period_start: date
    period_end: date
    target: float
    baseline: Baseline | None
    currency: str | None
    created_at: datetime
    progress: Progress


class TargetList(BaseModel):
    items: list[Target]
