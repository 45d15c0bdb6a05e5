"""Webhooks end to end: the real registry emits events, the gateway's consumers fan them out, and a real
local HTTP receiver verifies every delivery with the ``standardwebhooks`` package."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from fastapi import FastAPI, Request, Response
from standardwebhooks import Webhook, WebhookVerificationError

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, ServerThread, wait_until
from tejido_gateway.testing import RunningGateway, running_gateway
from tejido_registry.testing import RunningRegistry, org_body, registry_settings, running_registry

FAST_RETRIES = {
    "webhook_poll_seconds": 0.05,
    "webhook_retry_base_seconds": 0.05,
    "webhook_max_attempts": 3,
    "webhook_disable_after_failures": 6,
    "webhook_allow_private_urls": True,
}


@dataclass
class Receiver:
    url: str
    status: int = 200
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[tuple[bytes, dict[str, str]]]:
        with self.lock:
            return list(self.received)


@contextlib.contextmanager
def receiver() -> Iterator[Receiver]:
    app = FastAPI()
    state: dict[str, Receiver] = {}

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        r = state["r"]
        body = await request.body()
        with r.lock:
            r.received.append((body, dict(request.headers)))
        return Response(status_code=r.status)

    with ServerThread(app) as server:
        state["r"] = Receiver(f"{server.url}/hook")
        yield state["r"]


@contextlib.contextmanager
def platform(
    data_dir: Path, nats_server: NatsServer, target: DatabaseTarget
) -> Iterator[tuple[RunningRegistry, RunningGateway]]:
    with (
        running_registry(registry_settings(data_dir, nats_server.url, target)) as registry,
        running_gateway(data_dir, nats_server.url, registry_url=registry.url, **FAST_RETRIES) as gw,
    ):
        yield registry, gw


def subscribe(gw: RunningGateway, key: str, url: str, types: list[str]) -> httpx.Response:
    with gw.client(key) as client:
        return client.post("/v1/webhooks", json={"url": url, "event_types": types})


def test_deliveries_are_signed_deduplicated_and_never_restricted(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    with platform(data_dir, nats_server, db_target) as (_, gw), receiver() as hook:
        funder = gw.new_key("funder")
        # Restricted (or unknown) types cannot be subscribed to.
        refused = subscribe(gw, funder, hook.url, ["registry.organization.people_updated.v1", "nope.x.v1"])
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["event_types.0", "event_types.1"]
        created = subscribe(gw, funder, hook.url, ["*"])
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        with gw.client() as admin:
            org = admin.post("/v1/organizations", json=org_body()).json()
            people = {"people": [{"name": "Ana Pérez", "role": "director"}]}
            assert admin.put(f"/v1/organizations/{org['id']}/people", json=people).status_code == 200
            patched = admin.patch(f"/v1/organizations/{org['id']}", json={"purpose": {"mission": "Agua"}})
            assert patched.status_code == 200
        wait_until(lambda: len(hook.bodies()) >= 2, message="two deliveries")
        body, headers = hook.bodies()[0]
        event = Webhook(secret).verify(body, headers)
        assert event["type"] == "registry.organization.registered.v1"
        assert headers["webhook-id"] == event["id"]
        assert event["data"]["organization"]["id"] == org["id"]
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body.replace(b"Grupo", b"Grupa"), headers)

        # The stream is at-least-once: the same event published again is not delivered again.
        async def republish() -> None:
            nc = await nats.connect(nats_server.url)
            await nc.jetstream().publish(
                event["type"], body, headers={"Nats-Msg-Id": "replayed-" + event["id"]}
            )
            await nc.close()

        import asyncio

        asyncio.run(republish())
        with gw.client() as admin:
            admin.patch(f"/v1/organizations/{org['id']}", json={"purpose": {"mission": "Agua limpia"}})
        wait_until(lambda: len(hook.bodies()) >= 3, message="the third delivery")
        ids = [h["webhook-id"] for _, h in hook.bodies()]
        assert len(ids) == len(set(ids)) == 3
        types = [Webhook(secret).verify(b, h)["type"] for b, h in hook.bodies()]
        assert "registry.organization.people_updated.v1" not in types
        assert b"Ana P" not in b"".join(b for b, _ in hook.bodies())


def test_failures_are_retried_then_parked_disable_the_subscription_and_can_be_replayed(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    with platform(data_dir, nats_server, db_target) as (_, gw), receiver() as hook:
        hook.status = 500
        funder = gw.new_key("funder")
        sub = subscribe(gw, funder, hook.url, ["registry.organization.registered.v1"]).json()
        with gw.client() as admin:
            for name in ("Red LASES", "Grupo Conciencia"):
                assert admin.post("/v1/organizations", json=org_body(name)).status_code == 201
        with gw.client(funder) as owner:

            def deliveries(status: str | None = None) -> list[dict[str, Any]]:
                params = {"status": status} if status else {}
                items: list[dict[str, Any]] = owner.get(
                    f"/v1/webhooks/{sub['id']}/deliveries", params=params
                ).json()["items"]
                return items

            # Three attempts each (exponential backoff), then parked.
            parked = wait_until(lambda: len(deliveries("parked")) == 2 and deliveries("parked"), timeout=30)
            assert all(d["attempts"] == 3 and d["last_status_code"] == 500 for d in parked)
            assert len(hook.bodies()) == 6
            # Six failures in a row disabled the subscription; its owner sees why.
            state = owner.get(f"/v1/webhooks/{sub['id']}").json()
            assert state["status"] == "disabled"
            assert (
                "failed deliveries in a row" in state["disabled_reason"]
                and "HTTP 500" in state["disabled_reason"]
            )
            # Nobody else sees it.
            with gw.client(gw.new_key("funder")) as stranger:
                assert stranger.get(f"/v1/webhooks/{sub['id']}").status_code == 404
                assert stranger.get("/v1/webhooks").json()["items"] == []
            # The receiver is fixed: enable, replay what was parked.
            hook.status = 204
            assert owner.post(f"/v1/webhooks/{sub['id']}:enable").json()["status"] == "active"
            for d in parked:
                replay = owner.post(f"/v1/webhooks/{sub['id']}/deliveries/{d['id']}:replay")
                assert replay.status_code == 200 and replay.json()["status"] == "pending"
            wait_until(lambda: len(deliveries("delivered")) == 2, timeout=20)
            ids = [h["webhook-id"] for _, h in hook.bodies()]
            # Every retry and the replay carry the same webhook-id: the receiver de-duplicates on it.
            assert len(set(ids)) == 2


def test_webhook_urls_must_be_public_https_by_default(data_dir: Path, nats_server: NatsServer) -> None:
    with running_gateway(data_dir, nats_server.url) as gw, gw.client(gw.new_key("funder")) as funder:
        for url in (
            "http://funder.example.org/h",
            "https://127.0.0.1/h",
            "https://10.0.0.8/h",
            "https://localhost/h",
        ):
            r = funder.post("/v1/webhooks", json={"url": url, "event_types": ["*"]})
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "url", url
        ok = funder.post("/v1/webhooks", json={"url": "https://funder.example.org/h", "event_types": ["*"]})
        assert ok.status_code == 201
