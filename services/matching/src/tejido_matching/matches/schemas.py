"""API models of matches."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from tejido_common.taxonomy import check_country, check_subdivision
from tejido_matching.ranking.weights import Mode


class Place(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: str | None = None
    subdivision: str | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        return check_country(v) if v is not None else None

    @field_validator("subdivision")
    @classmethod
    def _subdivision(cls, v: str | None) -> str | None:
        return check_subdivision(v) if v is not None else None

    def codes(self) -> list[str]:
        if self.subdivision:
            return [self.subdivision]
        return [self.country] if self.country else []


class SearchRequest(BaseModel):
    """A free-text need, in Spanish or English, optionally where it is needed."""

    model_config = ConfigDict(extra="forbid")

    need: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
    # {"country": "MX", "subdivision": "MX-SON"}, or the code alone: "MX-SON" or "MX".
    place: Place | None = None

    @field_validator("place", mode="before")
    @classmethod
    def _place_code(cls, v: Any) -> Any:
        if isinstance(v, str):
            code = v.strip().upper()
            return {"subdivision": code} if "-" in code else {"country": code}
        return v

    limit: int | None = Field(default=None, ge=1)
    cursor: str | None = Field(default=None, max_length=500)
    include_blocked: bool = False
    actor_type: list[str] = Field(default_factory=list, max_length=20)
    program_area: list[str] = Field(default_factory=list, max_length=20)
    language: list[str] = Field(default_factory=list, max_length=20)


class Candidate(BaseModel):
    id: str
    name: str
    actor_type: str
    country: str | None
    subdivisions: list[str]
    band: str | None
    blocked: bool
    blocked_reasons: list[str]


class Match(BaseModel):
    candidate: Candidate
    rank: int
    score: float = Field(description="Sum of the contributions, in [0, 1]")
    contributions: dict[str, float] = Field(description="Feature → weight × value; they sum to the score")
    features: dict[str, float] = Field(description="Feature → value in [0, 1]")
    evidence: dict[str, dict[str, Any]]


class MatchPage(BaseModel):
    mode: Mode | Literal["search"]
    total: int
    items: list[Match]
    next_cursor: str | None = None
    served_by: str | None = Field(default=None, description="The matching worker that ranked this page")
