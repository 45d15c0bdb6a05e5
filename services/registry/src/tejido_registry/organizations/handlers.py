"""Events the organizations package consumes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from tejido_common.events import Envelope
from tejido_registry.organizations.repository import OrganizationRepository
from tejido_registry.organizations.schemas import DD_BANDS


class RatingPublished(BaseModel):
    """Tolerant reader of ``duediligence.rating.published.v1``: only what the registry shows."""

    model_config = ConfigDict(extra="ignore")

    organization_id: str
    band: str
    rated_at: datetime


def apply_due_diligence_rating(session: Session, event: Envelope) -> None:
    """Keep the current band for display and filters. Out-of-order deliveries are harmless: an older
    rating never replaces a newer one."""
    rating = RatingPublished.model_validate(event.data)
    row = OrganizationRepository(session).get(rating.organization_id)
    if row is None:
        return  # the organization is not (or no longer) ours to show
    rated_at = rating.rated_at
    if rated_at.tzinfo is None:
        rated_at = rated_at.replace(tzinfo=UTC)
    if rating.band not in DD_BANDS:
        raise ValueError(f"unknown due-diligence band {rating.band!r}")
    if row.dd_rated_at is not None and row.dd_rated_at >= rated_at:
        return
    row.dd_band = rating.band
    row.dd_rated_at = rated_at
    session.add(row)


HANDLERS: dict[str, Callable[[Session, Envelope], None]] = {
    "duediligence.rating.published.v1": apply_due_diligence_rating
}
