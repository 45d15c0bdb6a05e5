"""Tolerant reader of the public organization profile carried by registry events.

Matching never imports the registry: it reads only the fields it ranks on, ignores everything else
(so a registry that adds fields does not break it) and treats every section as optional.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Reader(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Place(Reader):
    country: str | None = None
    subdivision: str | None = None
    municipality: str | None = None


class Coordinates(Reader):
    lat: float
    lon: float


class Identity(Reader):
    legal_name: str = ""
    aliases: list[str] = Field(default_factory=list)
    acronym: str | None = None
    actor_type: str = "cso"


class Where(Reader):
    country: str | None = None
    subdivisions: list[str] = Field(default_factory=list)
    coordinates: Coordinates | None = None
    areas_of_operation: list[Place] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)


class Purpose(Reader):
    mission: str | None = None
    vision: str | None = None
    objectives: list[str] = Field(default_factory=list)
    program_areas: list[str] = Field(default_factory=list)
    social_indicators: list[str] = Field(default_factory=list)
    target_populations: list[str] = Field(default_factory=list)
    working_methods: list[str] = Field(default_factory=list)


class Recognition(Reader):
    level: str | None = None
    name: str | None = None


class Capacity(Reader):
    recognition: list[Recognition] = Field(default_factory=list)
    network_memberships: list[str] = Field(default_factory=list)
    years_of_experience: int | None = None


class CooperationItem(Reader):
    kind: str
    description: str | None = None
    program_areas: list[str] = Field(default_factory=list)
    places: list[Place] = Field(default_factory=list)


class PriorCooperation(Reader):
    partner_name: str | None = None
    organization_id: str | None = None


class Swot(Reader):
    strengths: list[str] = Field(default_factory=list)
    weaknesses: list[str] = Field(default_factory=list)


class Cooperation(Reader):
    offers: list[CooperationItem] = Field(default_factory=list)
    needs: list[CooperationItem] = Field(default_factory=list)
    willing_to_cooperate: bool | None = None
    prior_cooperation: list[PriorCooperation] = Field(default_factory=list)
    legitimacy_sought: list[str] = Field(default_factory=list)
    swot: Swot | None = None


class Profile(Reader):
    id: str
    status: str = "active"
    version: int = 0
    identity: Identity = Field(default_factory=Identity)
    where: Where = Field(default_factory=Where)
    purpose: Purpose = Field(default_factory=Purpose)
    capacity: Capacity = Field(default_factory=Capacity)
    cooperation: Cooperation = Field(default_factory=Cooperation)

    @property
    def name(self) -> str:
        return self.identity.legal_name

    def places(self) -> set[str]:
        """Every place code it works in: its country, subdivisions and areas of operation."""
        codes: set[str] = set()
        if self.where.country:
            codes.add(self.where.country)
        codes.update(self.where.subdivisions)
        for s in self.where.subdivisions:
            codes.add(s.split("-")[0])
        for area in self.where.areas_of_operation:
            if area.country:
                codes.add(area.country)
            if area.subdivision:
                codes.add(area.subdivision)
        return codes

    def wanted_places(self) -> set[str]:
        """Places named in its needs: where it wants to work."""
        codes: set[str] = set()
        for need in self.cooperation.needs:
            for place in need.places:
                if place.subdivision:
                    codes.add(place.subdivision)
                elif place.country:
                    codes.add(place.country)
        return codes


def read_profile(data: dict[str, Any]) -> Profile:
    return Profile.model_validate(data)


# Actor types grouped into the sectors a multi-sector alliance wants to combine.
SECTOR_OF_ACTOR: dict[str, str] = {
    "cso": "civil",
    "network": "civil",
    "faith_based": "civil",
    "cooperative": "civil",
    "community_authority": "civil",
    "individuals_group": "civil",
    "media": "civil",
    "government": "government",
    "public_company": "government",
    "private_company": "business",
    "corporate_foundation": "business",
    "private_foundation": "funder",
    "donor_agency": "funder",
    "international_organization": "funder",
    "academia": "academia",
}
NEVER_PROPOSED_ACTORS = frozenset({"informal"})
