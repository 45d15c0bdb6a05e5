"""The gateway's health endpoints: /healthz is its own, /readyz is every upstream's."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tejido_common.testing import wait_until


def test_healthz(gateway: Callable[..., str], client: httpx.Client) -> None:
    response = client.get(gateway() + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "gateway"}


def test_ready_when_every_upstream_is(gateway: Callable[..., str], client: httpx.Client) -> None:
    url = gateway() + "/readyz"
    wait_until(
        lambda: client.get(url).status_code == 200, message="gateway ready"
    )  # NATS connects after start
    response = client.get(url)
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
    url = gateway(reporting_url=dead_url) + "/readyz"
    # Served before its broker connection is up: wait for that one, the dead upstream stays dead.
    wait_until(lambda: client.get(url).json()["checks"]["nats"] == "ok", message="gateway on NATS")
    response = client.get(url)
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
