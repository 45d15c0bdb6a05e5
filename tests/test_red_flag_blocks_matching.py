"""A red flag raised in due diligence reaches matching's read model as blocked, end to end over NATS:
registry → (events) → due diligence and matching; due diligence → (flag event) → matching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, database_target, wait_until
from tejido_duediligence.testing import duediligence_settings, running_duediligence
from tejido_matching.testing import matching_settings, org, registry_body, running_matching
from tejido_registry.testing import registry_settings, running_registry


def test_a_red_flag_blocks_the_organization_in_matching(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    with (
        database_target("reg") as registry_db,
        database_target("dd") as dd_db,
        running_registry(registry_settings(data_dir, nats_server.url, registry_db)) as registry,
        running_duediligence(duediligence_settings(data_dir, nats_server.url, dd_db)) as dd,
        running_matching(
            matching_settings(data_dir, nats_server.url, db_target, embeddings_enabled=False)
        ) as matching,
    ):
        requester = org(
            "Pide microcrédito",
            subdivisions=["MX-SON"],
            needs=[("knowledge_and_methodology", "Asesoría en microcrédito", ["MX-SON"])],
        )
        lender = org(
            "Microcréditos del Mayo",
            subdivisions=["MX-SON"],
            offers=[("knowledge_and_methodology", "Metodología de microcrédito rural")],
        )
        rid = registry.client.post("/v1/organizations", json=registry_body(requester)).json()["id"]
        lid = registry.client.post("/v1/organizations", json=registry_body(lender)).json()["id"]

        def candidates(**params: str) -> list[dict[str, Any]]:
            r = matching.client.get("/v1/matches", params={"organization_id": rid, **params})
            return [i["candidate"] for i in r.json()["items"]] if r.status_code == 200 else []

        wait_until(lambda: any(c["id"] == lid for c in candidates()), 20, message="lender suggested")

        # Due diligence knows the lender from the registry's event, then a reviewer escalates a flag.
        def raise_flag() -> dict[str, Any] | None:
            r = dd.client.post(
                "/v1/flags",
                json={
                    "organization_id": lid,
                    "category": "financial",
                    "title": "Fondos desviados",
                    "reason": "Auditoría con hallazgos graves",
                },
            )
            return r.json() if r.status_code == 201 else None

        flag = wait_until(raise_flag, 20, message="organization known to due diligence")
        for level in ("yellow", "escalated"):
            r = dd.client.post(f"/v1/flags/{flag['id']}:transition", json={"to": level, "reason": "revisión"})
            assert r.status_code == 200, r.text
        # Not blocking before red: still suggested.
        assert any(c["id"] == lid for c in candidates())
        r = dd.client.post(f"/v1/flags/{flag['id']}:transition", json={"to": "red", "reason": "confirmado"})
        assert r.status_code == 200, r.text

        wait_until(lambda: all(c["id"] != lid for c in candidates()), 20, message="blocked lender gone")
        shown = [c for c in candidates(include_blocked="true") if c["id"] == lid]
        assert shown and shown[0]["blocked"] is True and shown[0]["blocked_reasons"] == ["blocking_flag"]
