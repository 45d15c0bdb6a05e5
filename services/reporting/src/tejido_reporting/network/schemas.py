from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class OrganizationStats(BaseModel):
    total: int
    by_type: dict[str, int]
    by_country: dict[str, int]
    by_subdivision: dict[str, int]
    by_status: dict[str, int]


class Funnel(BaseModel):
    """Recruitment: organizations invited → interested, as the network reports them (the in-force
    totals of the indicators ``organizations_summoned`` and ``organizations_interested``; ``null`` when
    nothing is reported), then as the registry's events show it: profiles started (draft) → joined
    (active)."""

    invited: int | None = Field(description="total reported as organizations_summoned (e.g. 62)")
    interested: int | None = Field(description="total reported as organizations_interested (e.g. 46)")
    interested_share: float | None = Field(description="interested ÷ invited")
    registered: int
    started: int
    joined: int
    archived: int
    joined_share: float | None


class AllianceStats(BaseModel):
    total: int
    by_stage: dict[str, int]
    by_type: dict[str, int]
    by_modality: dict[str, int]
    by_legitimacy: dict[str, int]
    by_strategy: dict[str, int]


class NetworkStats(BaseModel):
    organizations: OrganizationStats
    funnel: Funnel
    alliances: AllianceStats
    due_diligence_bands: dict[str, int]
    computed_at: datetime
