"""Registry events this service consumes: organization registered/updated/archived and key people."""

from __future__ import annotations

from sqlmodel import Session

from tejido_common.consumer import ConsumerSpec
from tejido_common.events import Envelope
from tejido_duediligence.organizations.schemas import OrganizationEvent, PeopleEvent
from tejido_duediligence.organizations.service import OrganizationDirectory


def registry_consumer(directory: OrganizationDirectory) -> ConsumerSpec:
    def on_profile(session: Session, event: Envelope) -> None:
        directory.apply_profile(session, OrganizationEvent.model_validate(event.data).organization)

    def on_people(session: Session, event: Envelope) -> None:
        directory.apply_people(session, PeopleEvent.model_validate(event.data))

    return ConsumerSpec(
        name="duediligence",
        stream="REGISTRY",
        filter_subject="registry.organization.>",
        handlers={
            "registry.organization.registered.v1": on_profile,
            "registry.organization.updated.v1": on_profile,
            "registry.organization.archived.v1": on_profile,
            "registry.organization.people_updated.v1": on_people,
        },
    )
