"""End to end through the gateway: /v1/matches reaches matching, which ranks what the registry published."""

from __future__ import annotations

from pathlib import Path

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, database_target, wait_until
from tejido_gateway.testing import running_gateway
from tejido_matching.testing import matching_settings, org, registry_body, running_matching
from tejido_registry.testing import registry_settings, running_registry


def test_matches_through_the_gateway(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    # One data dir: the gateway signs callers with the internal secret every service there verifies.
    with (
        database_target("reg") as registry_db,
        running_registry(registry_settings(data_dir, nats_server.url, registry_db)) as registry,
        running_matching(
            matching_settings(data_dir, nats_server.url, db_target, embeddings_enabled=False)
        ) as matching,
        running_gateway(
            data_dir, nats_server.url, registry_url=registry.url, matching_url=matching.url
        ) as gw,
        gw.client(timeout=10) as client,
    ):
        requester = org(
            "Pide capacitación", subdivisions=["MX-SON"], needs=[("training", "Capacitación contable")]
        )
        trainer = org(
            "Capacita Sonora", subdivisions=["MX-SON"], offers=[("training", "Cursos de contabilidad")]
        )
        rid = client.post("/v1/organizations", json=registry_body(requester)).json()["id"]
        assert client.post("/v1/organizations", json=registry_body(trainer)).status_code == 201

        def page() -> dict[str, object] | None:
            r = client.get("/v1/matches", params={"organization_id": rid}, headers={"Accept-Language": "es"})
            return r.json() if r.status_code == 200 and r.json()["items"] else None

        body = wait_until(page, message="a match through the gateway")
        item = body["items"][0]  # type: ignore[index]
        assert item["candidate"]["name"] == "Capacita Sonora"
        assert item["evidence"]["territory"]["reason"].startswith("Trabaja en")
        missing = client.get("/v1/matches", params={"organization_id": "missing"})
        assert missing.status_code == 404 and missing.headers["content-type"].startswith(
            "application/problem+json"
        )
        found = client.post("/v1/matches:search", json={"need": "cursos de contabilidad", "place": "MX-SON"})
        assert found.status_code == 200 and found.json()["items"][0]["candidate"]["name"] == "Capacita Sonora"
