from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class OrganizationStats(BaseModel):
    total: int
    by_type: dict[str, int]
    by_country: dict[str, int]
    by_subdivision: dict[str, int]
    by_status: dict[str, int]


class Funnel(BaseModel):
    """Recruitment as the registry's events show it: profiles started (draft) → joined (active)."""

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
