"""Events that build the candidates read model. Each handler runs in the consumer's transaction
(which also records the event id) and is safe to apply twice or out of order: profile changes are
applied only when their version is newer, ratings only when newer by ``rated_at``.

Due-diligence flags (``duediligence.flag.changed.v1``: organization id, level, ``blocking``) set
``flag_level``/``flag_blocking``; the ranking excludes every blocked candidate (see
:func:`tejido_matching.ranking.index.blocked_reasons`). ``duediligence.screening.hit.v1`` is restricted
and never consumed: a confirmed hit arrives as a red, blocking flag.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from tejido_common.consumer import Handler
from tejido_common.events import Envelope
from tejido_matching.candidates import repository
from tejido_matching.candidates.models import AllianceRecord, Candidate
from tejido_matching.kit.profiles import read_profile
from tejido_matching.text.profile_texts import profile_texts

ORGANIZATION_EVENTS = (
    "registry.organization.registered.v1",
    "registry.organization.updated.v1",
    "registry.organization.archived.v1",
)
# Only public events: never registry.organization.people_updated.v1 (restricted key people).
REGISTRY_SUBJECTS = [*ORGANIZATION_EVENTS, "registry.alliance.>"]
DUEDILIGENCE_SUBJECTS = ["duediligence.rating.published.v1", "duediligence.flag.changed.v1"]


def _parse_time(value: object) -> datetime | None:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def apply_organization(row: Candidate | None, envelope: Envelope) -> Candidate | None:
    """The new state of a candidate after an organization event, or None if the event is stale.
    Pure (no session): workers use the same function on their in-memory rows."""
    data = envelope.data["organization"]
    profile = read_profile(data)
    if row is None:
        row = repository.new_candidate(profile.id, envelope.time)
    elif row.profile is not None and profile.version <= row.version:
        return None
    row.profile = data
    row.version = profile.version
    row.status = profile.status
    row.texts_hash = profile_texts(profile).digest()
    row.event_time = max(row.event_time, envelope.time)
    return row


def apply_rating(row: Candidate | None, envelope: Envelope) -> Candidate | None:
    data = envelope.data
    organization_id = str(data["organization_id"])
    rated_at = _parse_time(data.get("rated_at")) or envelope.time
    if row is None:
        row = repository.new_candidate(organization_id, envelope.time)
    elif row.rated_at is not None and rated_at < row.rated_at:
        return None
    row.band = str(data["band"]).lower() if data.get("band") else None
    confidence = data.get("confidence")
    row.band_confidence = float(confidence) if isinstance(confidence, int | float) else None
    row.rating_red_flag = bool(data.get("red_flag", False))
    row.rated_at = rated_at
    row.event_time = max(row.event_time, envelope.time)
    return row


def apply_flag(row: Candidate | None, envelope: Envelope) -> Candidate | None:
    """A flag's new level. Read tolerantly (the producer's contract is new): ``blocking`` if given,
    else a red level blocks; changes older than the one applied are ignored."""
    data = envelope.data
    organization_id = str(data["organization_id"])
    changed_at = _parse_time(data.get("changed_at")) or envelope.time
    if row is None:
        row = repository.new_candidate(organization_id, envelope.time)
    elif row.flag_changed_at is not None and changed_at < row.flag_changed_at:
        return None
    level = str(data.get("level") or "").lower() or None
    blocking = data.get("blocking")
    row.flag_level = level
    row.flag_blocking = bool(blocking) if isinstance(blocking, bool) else level == "red"
    row.flag_changed_at = changed_at
    row.event_time = max(row.event_time, envelope.time)
    return row


def apply_alliance(row: AllianceRecord | None, envelope: Envelope) -> AllianceRecord | None:
    data = envelope.data["alliance"]
    version = int(data.get("version", 0))
    if row is not None and version <= row.version:
        return None
    parties = [
        {"organization_id": p["organization_id"], "role": p.get("role")}
        for p in data.get("parties", [])
        if isinstance(p, dict) and p.get("organization_id")
    ]
    if row is None:
        row = AllianceRecord(alliance_id=data["id"], stage=data.get("stage", ""), event_time=envelope.time)
    row.version = version
    row.stage = str(data.get("stage", ""))
    row.name = str(data.get("name") or "")[:500]
    row.parties = parties
    row.event_time = max(row.event_time, envelope.time)
    return row


def on_organization(session: Session, envelope: Envelope) -> None:
    organization_id = str(envelope.data["organization"]["id"])
    row = apply_organization(repository.get_candidate(session, organization_id), envelope)
    if row is not None:
        repository.save(session, row)


def on_rating(session: Session, envelope: Envelope) -> None:
    row = apply_rating(repository.get_candidate(session, str(envelope.data["organization_id"])), envelope)
    if row is not None:
        repository.save(session, row)


def on_flag(session: Session, envelope: Envelope) -> None:
    row = apply_flag(repository.get_candidate(session, str(envelope.data["organization_id"])), envelope)
    if row is not None:
        repository.save(session, row)


def on_alliance(session: Session, envelope: Envelope) -> None:
    row = apply_alliance(repository.get_alliance(session, str(envelope.data["alliance"]["id"])), envelope)
    if row is not None:
        repository.save(session, row)


ALLIANCE_EVENTS = (
    "registry.alliance.created.v1",
    "registry.alliance.updated.v1",
    "registry.alliance.stage_changed.v1",
    "registry.alliance.party_added.v1",
    "registry.alliance.party_removed.v1",
)
REGISTRY_HANDLERS: dict[str, Handler] = {
    **dict.fromkeys(ORGANIZATION_EVENTS, on_organization),
    **dict.fromkeys(ALLIANCE_EVENTS, on_alliance),
}
DUEDILIGENCE_HANDLERS: dict[str, Handler] = {
    "duediligence.rating.published.v1": on_rating,
    "duediligence.flag.changed.v1": on_flag,
}
