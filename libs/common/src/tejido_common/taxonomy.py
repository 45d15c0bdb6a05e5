"""The controlled vocabularies (the project's own copy of the shared taxonomy JSON) and ISO code checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import pycountry


def _load(name: str) -> Any:
    return json.loads((resources.files("tejido_common") / "taxonomy" / f"{name}.json").read_text("utf-8"))


@dataclass(frozen=True)
class Taxonomy:
    actor_types: tuple[str, ...]
    cso_subtypes: tuple[str, ...]
    government_levels: tuple[str, ...]
    target_populations: tuple[str, ...]
    funding_sources: tuple[str, ...]
    recognition_levels: tuple[str, ...]
    program_categories: dict[str, str]  # category code → English name
    programs: dict[str, str]  # program code (e.g. HE1) → its category code (HE)
    social_indicators: tuple[str, ...]
    cooperation_kinds: tuple[str, ...]
    legitimacy_types: tuple[str, ...]
    alliance: dict[str, Any]

    def program_area_category(self, code: str) -> str | None:
        """``HE1`` → ``HE``, ``HE`` → ``HE``, unknown → None."""
        if code in self.program_categories:
            return code
        return self.programs.get(code)


@cache
def taxonomy() -> Taxonomy:
    actors = _load("actors")
    areas = _load("program_areas")
    return Taxonomy(
        actor_types=tuple(actors["actor_types"]),
        cso_subtypes=tuple(actors["cso_subtypes"]),
        government_levels=tuple(actors["government_levels"]),
        target_populations=tuple(actors["target_populations"]),
        funding_sources=tuple(actors["funding_sources"]),
        recognition_levels=tuple(actors["recognition_levels"]),
        program_categories={c["code"]: c["en"] for c in areas["categories"]},
        programs={p["code"]: c["code"] for c in areas["categories"] for p in c["programs"]},
        social_indicators=tuple(f["code"] for f in _load("social_indicators")["families"]),
        cooperation_kinds=tuple(_load("cooperation")["kinds"]),
        legitimacy_types=tuple(t["code"] for t in _load("legitimacy")["types"]),
        alliance=_load("alliances"),
    )


def _choices(values: tuple[str, ...] | list[str]) -> str:
    shown = ", ".join(values[:20])
    return shown + (", …" if len(values) > 20 else "")


def check_code(kind: str, value: str, allowed: tuple[str, ...] | list[str]) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {kind} {value!r}; expected one of: {_choices(list(allowed))}")
    return value


@lru_cache(maxsize=4096)
def check_country(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


@lru_cache(maxsize=4096)
def check_subdivision(value: str) -> str:
    code = value.strip().upper()
    if pycountry.subdivisions.get(code=code) is None:  # type: ignore[no-untyped-call]
        raise ValueError(f"{value!r} is not an ISO 3166-2 subdivision code")
    return code


@lru_cache(maxsize=4096)
def check_language(value: str) -> str:
    """ISO 639-3 code (ISO 639-1 accepted and converted), so indigenous languages such as Tzotzil fit."""
    code = value.strip().lower()
    lang = None
    if len(code) == 3:
        lang = pycountry.languages.get(alpha_3=code)
    elif len(code) == 2:
        lang = pycountry.languages.get(alpha_2=code)
    if lang is None:
        raise ValueError(f"{value!r} is not an ISO 639-3 (or 639-1) language code")
    return str(lang.alpha_3)


@lru_cache(maxsize=4096)
def check_currency(value: str) -> str:
    code = value.strip().upper()
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code
