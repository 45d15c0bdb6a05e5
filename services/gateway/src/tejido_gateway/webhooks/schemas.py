from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

EventType = Annotated[
    str,
    StringConstraints(pattern=r"^(\*|[a-z_]+(\.[a-z_]+)+\.v[0-9]+)$", max_length=200),
    Field(examples=["registry.organization.updated.v1"]),
]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://funder.example.org/hooks/tejido",
                    "event_types": ["registry.organization.updated.v1", "duediligence.rating.published.v1"],
                }
            ]
        },
    )

    url: AnyHttpUrl
    # Event types to receive ("*": every public type). Restricted types are refused.
    event_types: list[EventType] = Field(min_length=1, max_length=100)


class Subscription(BaseModel):
    id: str
    owner: str
    url: str
    event_types: list[str]
    status: Literal["active", "disabled"]
    disabled_reason: str | None = Field(description="why the subscription was disabled, for its owner")
    consecutive_failures: int
    created_at: datetime


class CreatedSubscription(Subscription):
    secret: str = Field(description="Standard Webhooks signing secret (whsec_…); shown only in this response")


class SubscriptionList(BaseModel):
    items: list[Subscription]


class Delivery(BaseModel):
    id: str
    event_id: str = Field(description="also the webhook-id header: receivers de-duplicate on it")
    event_type: str
    status: Literal["pending", "delivered", "parked"]
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    items: list[Delivery]
