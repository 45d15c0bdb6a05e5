"""HTTP routes of webhook subscriptions: owners (funders, operators) see and manage their own; admins all."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status

from tejido_common.http import problem_responses
from tejido_common.identity import FUNDER, OPERATOR, Principal, require_role
from tejido_gateway.webhooks.models import DeliveryRow, SubscriptionRow
from tejido_gateway.webhooks.schemas import (
    CreatedSubscription,
    Delivery,
    DeliveryList,
    Subscription,
    SubscriptionCreate,
    SubscriptionList,
)
from tejido_gateway.webhooks.service import WebhookService

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
PROBLEMS = problem_responses(401, 403, 404, 422, 429)


def get_service(request: Request) -> WebhookService:
    service: WebhookService = request.app.state.webhooks
    return service


Service = Annotated[WebhookService, Depends(get_service)]
Owner = Annotated[Principal, Depends(require_role(OPERATOR, FUNDER))]


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription.model_validate(row, from_attributes=True)


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery.model_validate(row, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CreatedSubscription, responses=PROBLEMS)
def create_subscription(
    body: SubscriptionCreate, service: Service, owner: Owner, response: Response
) -> CreatedSubscription:
    """Subscribe a URL to public event types. The signing secret is in this response only."""
    row = service.create(owner, str(body.url), list(body.event_types))
    response.headers["Location"] = f"/v1/webhooks/{row.id}"
    return CreatedSubscription(**_subscription(row).model_dump(), secret=row.secret)


@router.get("", response_model=SubscriptionList, responses=PROBLEMS)
def list_subscriptions(service: Service, owner: Owner) -> SubscriptionList:
    return SubscriptionList(items=[_subscription(r) for r in service.subscriptions(owner)])


@router.get("/{subscription_id}", response_model=Subscription, responses=PROBLEMS)
def get_subscription(subscription_id: str, service: Service, owner: Owner) -> Subscription:
    """The subscription with its status and, when disabled, why."""
    return _subscription(service.get(owner, subscription_id))


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
def delete_subscription(subscription_id: str, service: Service, owner: Owner) -> Response:
    service.delete(owner, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{subscription_id}:enable", response_model=Subscription, responses=PROBLEMS)
def enable_subscription(subscription_id: str, service: Service, owner: Owner) -> Subscription:
    """Enable a subscription again (after fixing the receiver): pending deliveries resume."""
    return _subscription(service.enable(owner, subscription_id))


@router.get("/{subscription_id}/deliveries", response_model=DeliveryList, responses=PROBLEMS)
def list_deliveries(
    subscription_id: str,
    service: Service,
    owner: Owner,
    status_: Annotated[Literal["pending", "delivered", "parked"] | None, Query(alias="status")] = None,
) -> DeliveryList:
    """The latest deliveries (newest first), optionally by status."""
    return DeliveryList(items=[_delivery(r) for r in service.deliveries(owner, subscription_id, status_)])


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}:replay", response_model=Delivery, responses=PROBLEMS
)
def replay_delivery(subscription_id: str, delivery_id: str, service: Service, owner: Owner) -> Delivery:
    """Send a delivery again (parked or delivered), with the same webhook-id: receivers de-duplicate."""
    return _delivery(service.replay(owner, subscription_id, delivery_id))
