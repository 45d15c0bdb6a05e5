"""Territories: country (ISO 3166-1 alpha-2) → subdivision (ISO 3166-2) → municipality (a name).

Written ``MX``, ``MX-ZAC`` or ``MX-ZAC:Fresnillo`` in filters; observations carry the three parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pycountry


class TerritoryError(ValueError):
    pass


@dataclass(frozen=True)
class Territory:
    country: str
    subdivision: str = ""
    municipality: str = ""

    def label(self) -> str:
        if self.municipality:
            return f"{self.subdivision}:{self.municipality}"
        return self.subdivision or self.country


@lru_cache(maxsize=4096)
def valid_country(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


@lru_cache(maxsize=16384)
def valid_subdivision(code: str) -> bool:
    return pycountry.subdivisions.get(code=code) is not None  # type: ignore[no-untyped-call]


def check_place(country: str, subdivision: str, municipality: str) -> tuple[str, str] | None:
    """``None`` when the place is valid, else ``(field, reason)``."""
    if not valid_country(country):
        return "country", f"{country!r} is not an ISO 3166-1 alpha-2 country code"
    if subdivision:
        if not subdivision.startswith(country + "-") or not valid_subdivision(subdivision):
            return "subdivision", f"{subdivision!r} is not an ISO 3166-2 subdivision of {country}"
    if municipality:
        if not subdivision:
            return "municipality", "a municipality needs its subdivision"
        if len(municipality) > 120 or not municipality.strip() or any(ord(c) < 32 for c in municipality):
            return "municipality", "must be a name of 1 to 120 printable characters"
    return None


@lru_cache(maxsize=65536)
def parse_territory(text: str) -> Territory:
    raw = text.strip()
    sub, _, municipality = raw.partition(":")
    sub = sub.upper()
    if "-" in sub:
        country = sub.split("-", 1)[0]
        place = Territory(country, sub, municipality.strip())
    else:
        if municipality:
            raise TerritoryError("a municipality is written SUBDIVISION:NAME, e.g. MX-ZAC:Fresnillo")
        place = Territory(sub)
    problem = check_place(place.country, place.subdivision, place.municipality)
    if problem is not None:
        raise TerritoryError(problem[1])
    return place
