"""Rate limits hold for the platform, not per replica: two gateway replicas on one NATS (with the
services' users and permissions, as deployed) share the requests they allow, so a key limited to 10 an
hour gets 10 in all, whichever replica answers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tejido_common.natsauth import NON_PRODUCERS, OPERATOR, SERVICES
from tejido_common.natsserver import NatsServer
from tejido_common.settings import ServiceSettings
from tejido_common.streams import platform_streams, provision_streams
from tejido_common.testing import ServerThread, wait_until
from tejido_gateway.app import create_app
from tejido_gateway.testing import RunningGateway, running_gateway

pytestmark = pytest.mark.db


@pytest.fixture
def secured_nats(tmp_path: Path) -> Iterator[tuple[NatsServer, dict[str, str]]]:
    passwords = {service: secrets.token_urlsafe(16) for service in (*SERVICES, OPERATOR)}
    server = NatsServer(tmp_path / "nats", users=passwords).start()
    streams = platform_streams(ServiceSettings(service_name=s) for s in SERVICES if s not in NON_PRODUCERS)
    asyncio.run(provision_streams(server.url, streams, user=OPERATOR, password=passwords[OPERATOR]))
    try:
        yield server, passwords
    finally:
        server.stop()


def calls(client: httpx.Client, n: int) -> list[int]:
    return [client.get("/v1/keys").status_code for _ in range(n)]


def test_two_replicas_share_one_limit(
    data_dir: Path, secured_nats: tuple[NatsServer, dict[str, str]]
) -> None:
    server, passwords = secured_nats
    settings = {
        "rate_limit_per_key": "10/hour",
        "rate_limit_share_seconds": 0.1,
        "nats_user": "gateway",
        "nats_password": passwords["gateway"],
        "provision_streams": False,
    }
    with running_gateway(data_dir, server.url, **settings) as first:
        # The second replica: same settings and database (so the same keys), its own process state.
        second_app = create_app(first.settings)
        with ServerThread(second_app) as second_server:
            second = RunningGateway(second_server.url, second_app, first.settings, first.admin_key)
            wait_until(lambda: second_app.state.runtime.broker.connected, message="second replica on NATS")
            a, b = first.client(), second.client()
            sharing_a, sharing_b = first.app.state.rate_limit_sharing, second_app.state.rate_limit_sharing
            assert calls(a, 6) == [200] * 6
            wait_until(
                lambda: sharing_b.hits_received == 6, message="the second replica hears of the first's six"
            )
            assert calls(b, 5) == [200] * 4 + [429]  # 6 + 4 = the key's 10
            wait_until(
                lambda: sharing_a.hits_received == 4, message="the first replica hears of the second's four"
            )
            refused = a.get("/v1/keys")
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
            assert sharing_a.dropped == sharing_b.dropped == 0
