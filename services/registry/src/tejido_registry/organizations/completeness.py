"""Profile completeness: the share of each section's expected fields that are filled."""

from __future__ import annotations

from typing import Any

# The fields that make a section complete; cso_subtype / government_level only count where they apply.
EXPECTED: dict[str, tuple[str, ...]] = {
    "identity": ("legal_name", "actor_type", "identifiers", "legal_form", "founding_year", "acronym"),
    "where": (
        "country",
        "subdivisions",
        "municipalities",
        "coordinates",
        "areas_of_operation",
        "scope",
        "languages",
    ),
    "purpose": (
        "mission",
        "vision",
        "objectives",
        "program_areas",
        "social_indicators",
        "target_populations",
        "working_methods",
    ),
    "capacity": (
        "staff",
        "annual_budget",
        "funding_mix",
        "resources",
        "experience",
        "recognition",
        "network_memberships",
    ),
    "cooperation": ("offers", "needs", "willing_to_cooperate", "legitimacy_sought", "swot", "intake"),
}


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {})


def section_completeness(section: str, data: dict[str, Any]) -> int:
    fields = list(EXPECTED[section])
    if section == "identity":
        if data.get("actor_type") == "cso":
            fields.append("cso_subtype")
        if data.get("actor_type") == "government":
            fields.append("government_level")
    filled = sum(1 for f in fields if _filled(data.get(f)))
    return round(100 * filled / len(fields))


def people_completeness(people: list[dict[str, Any]] | None) -> int:
    """Key people are complete when a director (or chair) and a legal representative are named."""
    roles = {p.get("role") for p in people or []}
    wanted = [bool(roles & {"director", "board_chair"}), "legal_representative" in roles]
    return round(100 * sum(wanted) / len(wanted))


def completeness(profile: dict[str, Any], people: list[dict[str, Any]] | None) -> dict[str, int]:
    scores = {section: section_completeness(section, profile.get(section) or {}) for section in EXPECTED}
    scores["people"] = people_completeness(people)
    scores["overall"] = round(sum(scores.values()) / len(scores))
    return scores
