"""Webhook subscriptions and their deliveries (one per subscription and event: the de-duplication key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from tejido_common.db import UTCDateTime


class SubscriptionRow(SQLModel, table=True):
    __tablename__ = "webhook_subscriptions"

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    owner: str = Field(sa_column=Column(String(200), nullable=False, index=True))
    url: str = Field(sa_column=Column(String(2000), nullable=False))
    event_types: list[Any] = Field(sa_column=Column(JSON, nullable=False))
    # The signing secret (whsec_…): the receiver verifies with it, so it is kept, and shown once.
    secret: str = Field(sa_column=Column(String(200), nullable=False))
    status: str = Field(sa_column=Column(String(20), nullable=False))  # active | disabled
    disabled_reason: str | None = Field(default=None, sa_column=Column(Text))
    consecutive_failures: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DeliveryRow(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_delivery_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    subscription_id: str = Field(sa_column=Column(String(36), nullable=False))
    event_id: str = Field(sa_column=Column(String(64), nullable=False))
    event_type: str = Field(sa_column=Column(String(200), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(sa_column=Column(String(20), nullable=False))  # pending | delivered | parked
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_status_code: int | None = Field(default=None, sa_column=Column(Integer))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
