"""The failure count that disables a subscription survives deliveries that finish at the same time."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from tejido_common.db import Database
from tejido_common.migrations import upgrade
from tejido_common.testing import DatabaseTarget
from tejido_gateway import app as gateway_app
from tejido_gateway.settings import GatewaySettings
from tejido_gateway.webhooks.models import DeliveryRow, SubscriptionRow
from tejido_gateway.webhooks.service import WebhookService


def test_concurrent_failures_are_all_counted_and_disable_the_subscription(
    data_dir: Path, db_target: DatabaseTarget
) -> None:
    db = Database(db_target.url or f"sqlite:///{data_dir / 'gateway.db'}", db_target.schema)
    try:
        upgrade(db, gateway_app.MIGRATIONS)
        failures = 12
        settings = GatewaySettings(
            data_dir=data_dir, webhook_max_attempts=1, webhook_disable_after_failures=failures
        )
        service = WebhookService(db, settings)
        now = datetime.now(UTC)
        sub_id = str(uuid.uuid4())
        with db.session() as session:
            session.add(
                SubscriptionRow(
                    id=sub_id,
                    owner="funder",
                    url="https://funder.example.org/h",
                    event_types=["*"],
                    secret="whsec_x",
                    status="active",
                    consecutive_failures=0,
                    created_at=now,
                )
            )
            deliveries = [
                DeliveryRow(
                    id=str(uuid.uuid4()),
                    subscription_id=sub_id,
                    event_id=str(uuid.uuid4()),
                    event_type="registry.organization.registered.v1",
                    payload="{}",
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
                for _ in range(failures)
            ]
            session.add_all(deliveries)
        ids = [d.id for d in deliveries]
        with ThreadPoolExecutor(max_workers=failures) as pool:
            list(pool.map(lambda d: service._record(d, sub_id, 500, "HTTP 500"), ids))
        with db.read_session() as session:
            sub = session.get(SubscriptionRow, sub_id)
            assert sub is not None
            assert sub.consecutive_failures == failures
            assert sub.status == "disabled"
    finally:
        db.dispose()
