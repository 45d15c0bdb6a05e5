"""All SQL of webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from tejido_gateway.webhooks.models import DeliveryRow, SubscriptionRow


def active_subscriptions(session: Session) -> Sequence[SubscriptionRow]:
    return session.exec(select(SubscriptionRow).where(col(SubscriptionRow.status) == "active")).all()


def subscriptions(session: Session, owner: str | None) -> Sequence[SubscriptionRow]:
    query = select(SubscriptionRow).order_by(col(SubscriptionRow.created_at), col(SubscriptionRow.id))
    if owner is not None:
        query = query.where(col(SubscriptionRow.owner) == owner)
    return session.exec(query).all()


def subscription_for_update(session: Session, subscription_id: str) -> SubscriptionRow | None:
    """The subscription, locked: concurrent deliveries must not lose each other's failure count."""
    query = select(SubscriptionRow).where(col(SubscriptionRow.id) == subscription_id).with_for_update()
    return session.exec(query).first()


def delivery_exists(session: Session, subscription_id: str, event_id: str) -> bool:
    query = select(DeliveryRow.id).where(
        col(DeliveryRow.subscription_id) == subscription_id, col(DeliveryRow.event_id) == event_id
    )
    return session.exec(query).first() is not None


def due_deliveries(
    session: Session, now: datetime, limit: int
) -> Sequence[tuple[DeliveryRow, SubscriptionRow]]:
    query = (
        select(DeliveryRow, SubscriptionRow)
        .join(SubscriptionRow, col(SubscriptionRow.id) == col(DeliveryRow.subscription_id))
        .where(
            col(DeliveryRow.status) == "pending",
            col(DeliveryRow.next_attempt_at) <= now,
            col(SubscriptionRow.status) == "active",
        )
        .order_by(col(DeliveryRow.next_attempt_at), col(DeliveryRow.created_at))
        .limit(limit)
    )
    return session.exec(query).all()


def deliveries(
    session: Session, subscription_id: str, status: str | None, limit: int
) -> Sequence[DeliveryRow]:
    query = select(DeliveryRow).where(col(DeliveryRow.subscription_id) == subscription_id)
    if status:
        query = query.where(col(DeliveryRow.status) == status)
    return session.exec(
        query.order_by(col(DeliveryRow.created_at).desc(), col(DeliveryRow.id)).limit(limit)
    ).all()
