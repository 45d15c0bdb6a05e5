"""Helpers for tests of matching (this package's tests, cross-service tests and benchmarks):
profile builders shaped like the registry's events, and a running matching service."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tejido_common.events import Envelope
from tejido_common.testing import DatabaseTarget, RunningService, running_service, settings_for_test
from tejido_matching.settings import MatchingSettings

Item = tuple[str, str] | tuple[str, str, list[str]]


def org(
    name: str,
    *,
    id: str | None = None,
    actor_type: str = "cso",
    country: str = "MX",
    subdivisions: list[str] | None = None,
    languages: list[str] | None = None,
    mission: str | None = None,
    program_areas: list[str] | None = None,
    indicators: list[str] | None = None,
    populations: list[str] | None = None,
    methods: list[str] | None = None,
    offers: list[Item] | None = None,
    needs: list[Item] | None = None,
    willing: bool | None = True,
    legitimacy_sought: list[str] | None = None,
    strengths: list[str] | None = None,
    weaknesses: list[str] | None = None,
    coordinates: tuple[float, float] | None = None,
    status: str = "active",
    version: int = 1,
) -> dict[str, Any]:
    """A public profile as the registry's organization events carry it. Items are
    ``(kind, description)`` or ``(kind, description, [places])``."""

    def item(spec: Item) -> dict[str, Any]:
        places = [
            {"country": p.split("-")[0], "subdivision": p if "-" in p else None}
            for p in (spec[2] if len(spec) > 2 else [])
        ]
        return {"kind": spec[0], "description": spec[1], "program_areas": [], "places": places}

    return {
        "id": id or str(uuid.uuid4()),
        "status": status,
        "version": version,
        "identity": {"legal_name": name, "aliases": [], "actor_type": actor_type},
        "where": {
            "country": country,
            "subdivisions": subdivisions or [],
            "coordinates": {"lat": coordinates[0], "lon": coordinates[1]} if coordinates else None,
            "areas_of_operation": [],
            "languages": languages or ["spa"],
        },
        "purpose": {
            "mission": mission,
            "objectives": [],
            "program_areas": program_areas or [],
            "social_indicators": indicators or [],
            "target_populations": populations or [],
            "working_methods": methods or [],
        },
        "capacity": {},
        "cooperation": {
            "offers": [item(o) for o in offers or []],
            "needs": [item(n) for n in needs or []],
            "willing_to_cooperate": willing,
            "legitimacy_sought": legitimacy_sought or [],
            "swot": {"strengths": strengths or [], "weaknesses": weaknesses or []},
        },
    }


def event(type_: str, data: dict[str, Any], subject: str = "x/1", time: datetime | None = None) -> Envelope:
    env = Envelope.new(type_, source="tejido/test", subject=subject, data=data)
    if time is not None:
        env.time = time
    return env


def organization_event(profile: dict[str, Any], action: str = "registered") -> Envelope:
    return event(
        f"registry.organization.{action}.v1",
        {"organization": profile},
        subject=f"organization/{profile['id']}",
    )


def rating_event(
    organization_id: str, band: str, *, red_flag: bool = False, rated_at: datetime | None = None
) -> Envelope:
    return event(
        "duediligence.rating.published.v1",
        {
            "organization_id": organization_id,
            "assessment_id": str(uuid.uuid4()),
            "band": band,
            "rated_at": (rated_at or datetime.now(UTC)).isoformat(),
            "framework_version": "hact-2024.1",
            "score": 2.0,
            "confidence": 0.8,
            "valid_until": None,
            "overridden": False,
            "red_flag": red_flag,
        },
        subject=f"organization/{organization_id}",
    )


RunningMatching = RunningService[MatchingSettings]


def matching_settings(
    data_dir: Path, nats_url: str, target: DatabaseTarget, **extra: Any
) -> MatchingSettings:
    return settings_for_test(MatchingSettings, data_dir, nats_url, target, **extra)


@contextlib.contextmanager
def running_matching(settings: MatchingSettings) -> Iterator[RunningMatching]:
    from tejido_matching.app import create_app

    with running_service(create_app(settings), settings) as matching:
        yield matching


def registry_body(profile: dict[str, Any]) -> dict[str, Any]:
    """The registry's ``POST /v1/organizations`` body for a profile built with :func:`org`."""
    return {k: profile[k] for k in ("identity", "where", "purpose", "cooperation")}
