"""Events the alliances package produces: typed payloads (strict for the producer) and their contracts.
Every event carries the whole alliance (event-carried state). Regenerate the checked-in schemas after a
compatible change::

    .venv/bin/python -m tejido_common.event_contracts tejido_registry.alliances.events
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from tejido_common.event_contracts import EventContract
from tejido_common.events import Envelope
from tejido_registry.alliances.schemas import Alliance, Party, Stage

SOURCE = "tejido/registry"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alliance: Alliance


class AllianceCreated(_Payload):
    pass


class AllianceUpdated(_Payload):
    changed_fields: list[str] = Field(
        description="dotted paths, e.g. project.cost.amount; lists are named whole (results)"
    )


class StageChanged(_Payload):
    from_stage: Stage
    to_stage: Stage
    reason: str | None = None


class PartyAdded(_Payload):
    party: Party


class PartyRemoved(_Payload):
    party: Party


CREATED = EventContract(
    "registry.alliance.created.v1",
    AllianceCreated,
    "An alliance was created (stage objectives). Carries the whole alliance.",
)
UPDATED = EventContract(
    "registry.alliance.updated.v1",
    AllianceUpdated,
    "An alliance's non-stage fields (or a party's details) changed. Carries the whole alliance and the "
    "changed fields.",
)
STAGE_CHANGED = EventContract(
    "registry.alliance.stage_changed.v1",
    StageChanged,
    "An alliance moved to another stage. Carries the whole alliance, both stages and the reason.",
)
PARTY_ADDED = EventContract(
    "registry.alliance.party_added.v1",
    PartyAdded,
    "An organization became a party of an alliance. Carries the whole alliance and the party.",
)
PARTY_REMOVED = EventContract(
    "registry.alliance.party_removed.v1",
    PartyRemoved,
    "An organization stopped being a party of an alliance. Carries the whole alliance (without it) and "
    "the removed party.",
)
CONTRACTS = [CREATED, UPDATED, STAGE_CHANGED, PARTY_ADDED, PARTY_REMOVED]


P = TypeVar("P", bound=_Payload)


def _envelope(contract: EventContract[P], payload: P) -> Envelope:
    return contract.envelope(payload, source=SOURCE, subject=f"alliance/{payload.alliance.id}")


def created(alliance: Alliance) -> Envelope:
    return _envelope(CREATED, AllianceCreated(alliance=alliance))


def updated(alliance: Alliance, changed_fields: list[str]) -> Envelope:
    return _envelope(UPDATED, AllianceUpdated(alliance=alliance, changed_fields=changed_fields))


def stage_changed(alliance: Alliance, from_stage: str, to_stage: str, reason: str | None) -> Envelope:
    payload = StageChanged.model_validate(
        {"alliance": alliance, "from_stage": from_stage, "to_stage": to_stage, "reason": reason}
    )
    return _envelope(STAGE_CHANGED, payload)


def party_added(alliance: Alliance, party: Party) -> Envelope:
    return _envelope(PARTY_ADDED, PartyAdded(alliance=alliance, party=party))


def party_removed(alliance: Alliance, party: Party) -> Envelope:
    return _envelope(PARTY_REMOVED, PartyRemoved(alliance=alliance, party=party))
