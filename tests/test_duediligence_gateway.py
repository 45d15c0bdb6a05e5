"""Due diligence through the gateway: its resources are routed (audit too), and a watch list bigger
than an ordinary request body reaches the service through ``:import``."""

from __future__ import annotations

from pathlib import Path

from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget
from tejido_duediligence.testing import duediligence_settings, known_organization, running_duediligence
from tejido_gateway.testing import running_gateway


def test_duediligence_resources_through_the_gateway(
    data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    notes = "nota " * 60  # an extra column the loader ignores, to make the file big with few entries
    rows = [
        f"Entidad Sintética Número {i} Zorbaxiana,,organization,MX,big-list,{notes}" for i in range(6_000)
    ]
    big = ("name,aliases,kind,country,list_id,notes\n" + "\n".join(rows) + "\n").encode()
    assert len(big) > 1_500_000  # over the gateway's ordinary 1 MiB body limit
    with (
        running_duediligence(duediligence_settings(data_dir, nats_server.url, db_target)) as dd,
        running_gateway(data_dir, nats_server.url, duediligence_url=dd.url) as gw,
        gw.client(timeout=60) as client,
    ):
        loaded = client.post("/v1/watchlists:import", files={"file": ("big.csv", big, "text/csv")})
        assert loaded.status_code == 201, loaded.text
        assert loaded.json()["entries_loaded"] == 6_000
        check = client.post(
            "/v1/screening/checks",
            json={"name": "Entidad Sintetica Numero 17 Zorbaxiana", "kind": "organization"},
        )
        assert check.status_code == 200 and check.json()["hits"][0]["entry_name"].endswith("17 Zorbaxiana")
        assert client.get("/v1/audit/verify").json()["ok"] is True
        assert client.get("/v1/frameworks").json()[0]["id"] == "dd-default"

        # Evidence files over the ordinary body limit pass the gateway (multipart on upload routes only).
        org = "01a20a4c-8a2f-7272-a847-97fc09c6c5be"
        known_organization(dd.domains, org, "Grupo Conciencia")
        assessment = client.post("/v1/assessments", json={"organization_id": org, "kind": "self"}).json()
        pdf = b"%PDF-1.4\n" + b"0" * 2_000_000
        uploaded = client.post(
            f"/v1/assessments/{assessment['id']}/answers/LEG-1/evidence",
            files={"file": ("acta.pdf", pdf, "application/pdf")},
        )
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["size"] == len(pdf)
        form = client.post("/v1/flags", files={"file": ("x.txt", b"x", "text/plain")})
        assert form.status_code == 415  # forms stay refused elsewhere
