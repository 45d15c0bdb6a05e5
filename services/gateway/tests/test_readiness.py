"""The gateway's health endpoints: /healthz is its own, /readyz is every upstream's."""

from __future__ import annotations

from collections.abc import Callable

import httpx


def test_healthz(gateway: Callable[..., str], client: httpx.Client) -> None:
    response = client.get(gateway() + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "gateway"}


def test_ready_when_every_upstream_is(gateway: Callable[..., str], client: httpx.Client) -> None:
    response = client.get(gateway() + "/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {
        "database": "ok",  # the gateway's own (API keys, webhooks)
        "nats": "ok",
        "registry": "ok",
        "matching": "ok",
        "duediligence": "ok",
        "reporting": "ok",
    }


def test_not_ready_when_an_upstream_is_down(
    gateway: Callable[..., str], client: httpx.Client, dead_url: str
) -> None:
    response = client.get(gateway(reporting_url=dead_url) + "/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 503
    assert body["checks"]["reporting"] == "unavailable: ConnectError"
    assert {k: v for k, v in body["checks"].items() if k != "reporting"} == {
        "database": "ok",
        "nats": "ok",
        "registry": "ok",
        "matching": "ok",  # the real matching service: its database and NATS are up
        "duediligence": "ok",
    }
    assert body["detail"] == "reporting: unavailable: ConnectError"
