"""Prometheus metrics every service exposes at ``/metrics`` (the README lists them).

Metrics live in the process-wide registry with a ``service`` label: tests run several services in one
process, and a label keeps their figures apart without one registry per app.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "tejido_http_requests_total",
    "HTTP requests by route and status",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "tejido_http_request_duration_seconds",
    "HTTP request latency by route",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
OUTBOX_PENDING = Gauge(
    "tejido_outbox_pending_rows", "Outbox rows not yet published (parked excluded)", ["service"]
)
OUTBOX_PARKED = Gauge("tejido_outbox_parked_rows", "Outbox rows parked after repeated failures", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "tejido_outbox_oldest_pending_age_seconds",
    "Age of the oldest unpublished, unparked outbox row",
    ["service"],
)
RELAY_PUBLISHED = Counter("tejido_relay_published_total", "Events published by the outbox relay", ["service"])
RELAY_FAILURES = Counter(
    "tejido_relay_failures_total",
    "Failed publishes: kind=row (charged to the row) or kind=broker (outage, nothing charged)",
    ["service", "kind"],
)
RELAY_PARKED = Counter("tejido_relay_parked_total", "Outbox rows parked", ["service"])
RELAY_LEADER = Gauge(
    "tejido_relay_leader", "1 when this process is its service's publishing relay", ["service"]
)
CONSUMER_LAG = Gauge(
    "tejido_consumer_lag_messages",
    "Messages not yet delivered to a durable consumer",
    ["service", "consumer"],
)
HANDLER_LATENCY = Histogram(
    "tejido_consumer_handler_duration_seconds",
    "Time to apply one event (handler and its transaction)",
    ["service", "consumer", "type"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
)
CONSUMER_APPLIED = Counter("tejido_consumer_applied_total", "Events applied", ["service", "consumer"])
CONSUMER_REDELIVERIES = Counter(
    "tejido_consumer_redeliveries_total", "Deliveries after the first one", ["service", "consumer"]
)
CONSUMER_DEAD_LETTERS = Counter(
    "tejido_consumer_dead_letters_total", "Events copied to the dead letters", ["service", "consumer"]
)
CONSUMER_UNKNOWN = Counter(
    "tejido_consumer_unknown_events_total",
    "Events of a subscribed type with no handler for their version (kept, not acked)",
    ["service", "consumer", "type"],
)


def render_latest() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (never the raw path: ids would
    explode the label set); unmatched paths count as ``<unmatched>``."""

    def __init__(self, app: ASGIApp, service: str):
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, template).observe(time.perf_counter() - started)
