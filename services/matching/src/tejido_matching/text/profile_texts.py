"""Which texts of a profile are embedded: what it is about, what it gives, what it lacks."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from tejido_matching.kit.profiles import Profile

# The embedding slots of every profile, in this order in the stored matrix.
SLOTS = ("purpose", "gives", "lacks")
DIM = 512


@dataclass(frozen=True)
class ProfileTexts:
    purpose: str
    gives: str
    lacks: str

    def as_list(self) -> list[str]:
        return [self.purpose, self.gives, self.lacks]

    def digest(self) -> str:
        return hashlib.sha256("\x1f".join(self.as_list()).encode()).hexdigest()


def _join(parts: Sequence[str | None]) -> str:
    return ". ".join(p.strip() for p in parts if p and p.strip())


def profile_texts(profile: Profile) -> ProfileTexts:
    p, c = profile.purpose, profile.cooperation
    swot = c.swot
    return ProfileTexts(
        purpose=_join([p.mission, *p.objectives]),
        # Offers and SWOT strengths answer others' needs and weaknesses (and the reverse).
        gives=_join([*(o.description for o in c.offers), *(swot.strengths if swot else [])]),
        lacks=_join([*(n.description for n in c.needs), *(swot.weaknesses if swot else [])]),
    )
