"""Key people are restricted in the registry itself, whoever reaches it (defense in depth)."""

from __future__ import annotations

from pathlib import Path

from tejido_common.identity import ANONYMOUS, scoped
from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget, service_client
from tejido_registry.testing import org_body, registry_settings, running_registry


def test_people_need_a_role_and_the_organization_in_scope(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    with running_registry(registry_settings(data_dir, nats_server.url, db_target)) as registry:
        org = registry.client.post("/v1/organizations", json=org_body()).json()["id"]
        cases = [
            (ANONYMOUS, 401),
            (scoped("funder"), 403),
            (scoped("org_editor", ["someone-else"]), 403),
            (scoped("org_editor", [org]), 200),
            (scoped("reviewer"), 200),
        ]
        for principal, status in cases:
            with service_client(registry.url, registry.settings, principal=principal) as client:
                assert client.get(f"/v1/organizations/{org}/people").status_code == status, principal
        with service_client(registry.url, registry.settings, principal=scoped("reviewer")) as reviewer:
            assert reviewer.put(f"/v1/organizations/{org}/people", json={"people": []}).status_code == 403
