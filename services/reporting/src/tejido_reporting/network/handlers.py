"""Consumers of registry and due-diligence events that keep the network read model.

Tolerant readers: only the fields used here are read, unknown fields are ignored, and an event
older than what is stored (lower ``version``, earlier ``rated_at``) changes nothing — organization
and alliance events arrive through separate durable consumers, so their relative order is not fixed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from tejido_common.consumer import ConsumerSpec, PoisonMessage
from tejido_common.events import Envelope
from tejido_reporting.kit.sql import json_list
from tejido_reporting.network.models import AllianceView, OrganizationView, RatingView
from tejido_reporting.network.repository import NetworkRepository

CONSUMER = "reporting"
# Public organization events only: the restricted people_updated event is never subscribed to.
ORGANIZATION_EVENTS = (
    "registry.organization.registered.v1",
    "registry.organization.updated.v1",
    "registry.organization.archived.v1",
)
ALLIANCE_EVENTS = tuple(
    f"registry.alliance.{action}.v1"
    for action in ("created", "updated", "stage_changed", "party_added", "party_removed")
)
RATING_EVENT = "duediligence.rating.published.v1"
DD_BANDS = ("low", "medium", "significant", "high")


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def apply_organization(session: Session, event: Envelope) -> None:
    org = _dict(event.data.get("organization"))
    org_id, version = org.get("id"), org.get("version")
    if not isinstance(org_id, str) or not isinstance(version, int):
        raise PoisonMessage(f"{event.type} without organization id and version")
    repo = NetworkRepository(session)
    current = repo.organization(org_id)
    if current is not None and current.version >= version:
        return
    identity, where, purpose = _dict(org.get("identity")), _dict(org.get("where")), _dict(org.get("purpose"))
    status = "archived" if event.type.endswith(".archived.v1") else str(org.get("status") or "active")
    row = OrganizationView(
        id=org_id,
        version=version,
        status=status,
        name=str(identity.get("legal_name") or org_id)[:300],
        actor_type=identity.get("actor_type") if isinstance(identity.get("actor_type"), str) else None,
        country=where.get("country") if isinstance(where.get("country"), str) else None,
        subdivisions=json_list(where.get("subdivisions")),
        identifiers=[i for i in identity.get("identifiers") or [] if isinstance(i, dict)],
        created_at=_datetime(org.get("created_at")),
    )
    program_areas = json_list(purpose.get("program_areas"))
    facets = [("program_area", code) for code in program_areas]
    facets += [("program_category", code[:2]) for code in program_areas if len(code) >= 2]
    facets += [("social_indicator", code) for code in json_list(purpose.get("social_indicators"))]
    repo.save_organization(row, facets)


def apply_alliance(session: Session, event: Envelope) -> None:
    alliance = _dict(event.data.get("alliance"))
    alliance_id, version = alliance.get("id"), alliance.get("version")
    if not isinstance(alliance_id, str) or not isinstance(version, int):
        raise PoisonMessage(f"{event.type} without alliance id and version")
    repo = NetworkRepository(session)
    current = repo.alliance(alliance_id)
    if current is not None and current.version >= version:
        return
    parties = [p for p in alliance.get("parties") or [] if isinstance(p, dict) and p.get("organization_id")]
    legitimacy = sorted({code for p in parties for code in json_list(p.get("legitimacy_sought"))})

    def text(name: str, size: int) -> str | None:
        value = alliance.get(name)
        return value[:size] if isinstance(value, str) else None

    repo.save_alliance(
        AllianceView(
            id=alliance_id,
            version=version,
            name=text("name", 300) or alliance_id,
            purpose=text("purpose", 10_000),
            stage=text("stage", 20) or "objectives",
            type=text("type", 40),
            scope=text("scope", 20),
            modality=text("modality", 40),
            development_strategy=text("development_strategy", 40),
            legitimacy=legitimacy,
            parties=[
                {"organization_id": str(p["organization_id"]), "role": str(p.get("role") or "")}
                for p in parties
            ],
            created_at=_datetime(alliance.get("created_at")),
            stage_changed_at=_datetime(alliance.get("stage_changed_at")),
        )
    )


def apply_rating(session: Session, event: Envelope) -> None:
    data = event.data
    org_id, band, rated_at = data.get("organization_id"), data.get("band"), _datetime(data.get("rated_at"))
    if not isinstance(org_id, str) or band not in DD_BANDS or rated_at is None:
        raise PoisonMessage("rating event without organization_id, a known band and rated_at")
    repo = NetworkRepository(session)
    current = repo.rating(org_id)
    if current is not None and current.rated_at >= rated_at:
        return
    repo.save_rating(RatingView(organization_id=org_id, band=str(band), rated_at=rated_at))


def consumer_specs() -> list[ConsumerSpec]:
    """One durable consumer per subject filter: never a wildcard that would include restricted events."""
    specs = [
        ConsumerSpec(
            name=f"{CONSUMER}-{subject.split('.')[2]}",
            stream="REGISTRY",
            filter_subject=subject,
            handlers={subject: apply_organization},
        )
        for subject in ORGANIZATION_EVENTS
    ]
    specs.append(
        ConsumerSpec(
            name=f"{CONSUMER}-alliances",
            stream="REGISTRY",
            filter_subject="registry.alliance.>",
            # every alliance event carries the whole alliance; other types or versions are recorded and acked
            handlers=dict.fromkeys(ALLIANCE_EVENTS, apply_alliance),
        )
    )
    specs.append(
        ConsumerSpec(
            name=f"{CONSUMER}-ratings",
            stream="DUEDILIGENCE",
            filter_subject=RATING_EVENT,
            handlers={RATING_EVENT: apply_rating},
        )
    )
    return specs
