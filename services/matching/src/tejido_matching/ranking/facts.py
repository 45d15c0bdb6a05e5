"""What explanations read from a profile, as sets: built when a profile changes (the candidate
index keeps them) or once per request (the requester), never per explained item."""

from __future__ import annotations

from dataclasses import dataclass

from tejido_common.taxonomy import taxonomy
from tejido_matching.kit.profiles import SECTOR_OF_ACTOR, CooperationItem, Profile
from tejido_matching.ranking.geo import norm_method


@dataclass(frozen=True)
class Facts:
    """What an explanation reads from a profile, as sets: built once per profile change (candidates)
    or once per request (the requester), never per explained item."""

    places: frozenset[str]
    wanted_places: frozenset[str]
    areas: frozenset[str]
    categories: frozenset[str]
    indicators: frozenset[str]
    populations: frozenset[str]
    methods: frozenset[str]
    languages: frozenset[str]
    first_offer: dict[str, CooperationItem]  # kind → the first offer of that kind
    needs: tuple[CooperationItem, ...]
    offers: tuple[dict[str, str | None], ...]
    sector: str
    coordinates: tuple[float, float] | None


def facts_of(p: Profile) -> Facts:
    tax = taxonomy()
    first_offer: dict[str, CooperationItem] = {}
    for o in p.cooperation.offers:
        first_offer.setdefault(o.kind, o)
    categories = {tax.program_area_category(a) for a in p.purpose.program_areas}
    coords = p.where.coordinates
    return Facts(
        places=frozenset(p.places()),
        wanted_places=frozenset(p.wanted_places()),
        areas=frozenset(p.purpose.program_areas),
        categories=frozenset(c for c in categories if c is not None),
        indicators=frozenset(p.purpose.social_indicators),
        populations=frozenset(p.purpose.target_populations),
        methods=frozenset(norm_method(m) for m in p.purpose.working_methods),
        languages=frozenset(p.where.languages),
        first_offer=first_offer,
        needs=tuple(p.cooperation.needs),
        offers=tuple({"kind": o.kind, "description": o.description} for o in p.cooperation.offers),
        sector=SECTOR_OF_ACTOR.get(p.identity.actor_type, "civil"),
        coordinates=(coords.lat, coords.lon) if coords is not None else None,
    )
