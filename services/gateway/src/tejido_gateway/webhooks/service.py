"""Webhooks for funders' systems, following Standard Webhooks: a subscription names public event types;
each matching event becomes one delivery (unique per subscription and event id, so the at-least-once
stream never delivers twice), POSTed with ``webhook-id`` = the event id, ``webhook-timestamp`` and an
HMAC-SHA256 ``webhook-signature``. Failures are retried with exponential backoff, then parked; parked
deliveries can be replayed; a subscription that keeps failing is disabled, with the reason, until its
owner enables it again."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from urllib.parse import urlsplit

import httpx
from sqlmodel import Session
from standardwebhooks import Webhook

from tejido_common.db import Database
from tejido_common.event_contracts import schema_folder
from tejido_common.events import Envelope
from tejido_common.identity import ADMIN, Principal
from tejido_common.logging import get_logger
from tejido_common.problems import NotFound, Unprocessable, field_error
from tejido_gateway.settings import GatewaySettings
from tejido_gateway.webhooks import repository
from tejido_gateway.webhooks.models import DeliveryRow, SubscriptionRow

log = get_logger(__name__)
ALL = "*"


@cache
def public_event_types() -> frozenset[str]:
    """Every event type with a checked-in schema that is not marked ``x-restricted``."""
    public = set()
    for path in schema_folder().glob("*.json"):
        if not json.loads(path.read_text()).get("x-restricted"):
            public.add(path.name.removesuffix(".json"))
    return frozenset(public)


def deliverable(event_type: str) -> bool:
    """Restricted and unknown types never leave: only types whose schema says they are public."""
    return event_type in public_event_types()


class WebhookService:
    def __init__(self, db: Database, settings: GatewaySettings):
        self.db = db
        self.settings = settings
        self.attempted = 0

    # -- subscriptions ------------------------------------------------------------------------------

    def create(self, owner: Principal, url: str, event_types: list[str]) -> SubscriptionRow:
        self._check_url(url)
        wrong = [
            field_error(["event_types", i], "not a public event type (restricted or unknown)")
            for i, t in enumerate(event_types)
            if t != ALL and not deliverable(t)
        ]
        if wrong:
            raise Unprocessable(f"{len(wrong)} event type(s) cannot be subscribed to", errors=wrong)
        row = SubscriptionRow(
            id=str(uuid.uuid4()),
            owner=owner.actor or owner.id,
            url=url,
            event_types=sorted(set(event_types)),
            secret="whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
            status="active",
            consecutive_failures=0,
            created_at=datetime.now(UTC),
        )
        with self.db.session() as session:
            session.add(row)
        return row

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise Unprocessable("bad URL", errors=[field_error(["url"], "an http(s) URL")])
        if self.settings.webhook_allow_private_urls:
            return
        host = parts.hostname
        private = host == "localhost" or host.endswith(".localhost") or host.endswith(".internal")
        with contextlib.suppress(ValueError):
            address = ipaddress.ip_address(host)
            private = not address.is_global
        if private or parts.scheme != "https":
            # Deliveries must not become a way to reach the platform's internal network.
            raise Unprocessable(
                "webhook URLs must be public https URLs",
                errors=[field_error(["url"], "a public https URL (no private, loopback or internal hosts)")],
            )

    def subscriptions(self, caller: Principal) -> list[SubscriptionRow]:
        with self.db.read_session() as session:
            return list(repository.subscriptions(session, None if caller.role == ADMIN else caller.actor))

    def get(self, caller: Principal, subscription_id: str) -> SubscriptionRow:
        with self.db.read_session() as session:
            row = session.get(SubscriptionRow, subscription_id)
        # Another owner's subscription is as good as absent.
        if row is None or (caller.role != ADMIN and row.owner != caller.actor):
            raise NotFound(f"no webhook subscription {subscription_id}")
        return row

    def enable(self, caller: Principal, subscription_id: str) -> SubscriptionRow:
        self.get(caller, subscription_id)
        with self.db.session() as session:
            row = session.get(SubscriptionRow, subscription_id)
            assert row is not None
            row.status, row.disabled_reason, row.consecutive_failures = "active", None, 0
            session.add(row)
        return self.get(caller, subscription_id)

    def delete(self, caller: Principal, subscription_id: str) -> None:
        self.get(caller, subscription_id)
        with self.db.session() as session:
            row = session.get(SubscriptionRow, subscription_id)
            if row is not None:
                session.delete(row)

    def deliveries(self, caller: Principal, subscription_id: str, status: str | None) -> list[DeliveryRow]:
        self.get(caller, subscription_id)
        with self.db.read_session() as session:
            return list(repository.deliveries(session, subscription_id, status, 500))

    def replay(self, caller: Principal, subscription_id: str, delivery_id: str) -> DeliveryRow:
        self.get(caller, subscription_id)
        with self.db.session() as session:
            row = session.get(DeliveryRow, delivery_id)
            if row is None or row.subscription_id != subscription_id:
                raise NotFound(f"no delivery {delivery_id}")
            row.status, row.attempts, row.next_attempt_at = "pending", 0, datetime.now(UTC)
            session.add(row)
        return row

    # -- fan-out (event consumer) ------------------------------------------------------------------

    def fan_out(self, session: Session, event: Envelope) -> None:
        """Consumer handler: one pending delivery per active subscription that wants this event."""
        if not deliverable(event.type):
            return
        payload = event.model_dump_json()
        now = datetime.now(UTC)
        for sub in repository.active_subscriptions(session):
            if ALL not in sub.event_types and event.type not in sub.event_types:
                continue
            if repository.delivery_exists(session, sub.id, event.id):
                continue
            session.add(
                DeliveryRow(
                    id=str(uuid.uuid4()),
                    subscription_id=sub.id,
                    event_id=event.id,
                    event_type=event.type,
                    payload=payload,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )

    # -- dispatch ----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver due deliveries until ``stop`` is set."""
        s = self.settings
        async with httpx.AsyncClient(
            timeout=s.webhook_timeout_seconds, trust_env=False, follow_redirects=False
        ) as client:
            while not stop.is_set():
                try:
                    due = await asyncio.to_thread(self._due)
                    await asyncio.gather(*(self._deliver(client, d, sub) for d, sub in due))
                except Exception as exc:  # the dispatcher must outlive a database hiccup
                    log.warning("webhook dispatch failed", error=str(exc) or type(exc).__name__)
                    due = []
                if not due:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), s.webhook_poll_seconds)

    def _due(self) -> list[tuple[DeliveryRow, SubscriptionRow]]:
        with self.db.read_session() as session:
            return list(repository.due_deliveries(session, datetime.now(UTC), 50))

    async def _deliver(self, client: httpx.AsyncClient, delivery: DeliveryRow, sub: SubscriptionRow) -> None:
        sent_at = datetime.now(UTC)
        signature = Webhook(sub.secret).sign(delivery.event_id, sent_at, delivery.payload)
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signature,
            "user-agent": "tejido-webhooks/1",
        }
        status: int | None = None
        error: str | None = None
        try:
            response = await client.post(sub.url, content=delivery.payload.encode(), headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
        self.attempted += 1
        await asyncio.to_thread(self._record, delivery.id, sub.id, status, error)

    def _record(self, delivery_id: str, subscription_id: str, status: int | None, error: str | None) -> None:
        s = self.settings
        now = datetime.now(UTC)
        with self.db.session() as session:
            # Lock the subscription first: two deliveries finishing together would otherwise both read
            # the same failure count (READ COMMITTED) and the subscription would never be disabled.
            sub = repository.subscription_for_update(session, subscription_id)
            delivery = session.get(DeliveryRow, delivery_id)
            if delivery is None or sub is None:
                return
            delivery.attempts += 1
            delivery.last_status_code, delivery.last_error = status, error
            if error is None:
                delivery.status, delivery.delivered_at = "delivered", now
                sub.consecutive_failures = 0
            else:
                sub.consecutive_failures += 1
                if delivery.attempts >= s.webhook_max_attempts:
                    delivery.status = "parked"
                else:
                    delay = s.webhook_retry_base_seconds * 2 ** (delivery.attempts - 1)
                    delivery.next_attempt_at = now + timedelta(seconds=delay)
                if sub.status == "active" and sub.consecutive_failures >= s.webhook_disable_after_failures:
                    sub.status = "disabled"
                    sub.disabled_reason = (
                        f"disabled at {now.isoformat(timespec='seconds')} after {sub.consecutive_failures} "
                        f"failed deliveries in a row; last: {error}"
                    )
                    log.warning(
                        "webhook subscription disabled", subscription=sub.id, reason=sub.disabled_reason
                    )
            session.add(delivery)
            session.add(sub)
