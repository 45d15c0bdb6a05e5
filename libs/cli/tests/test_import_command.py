"""`tejido import FILE` against the real registry (real NATS, real database, real HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tejido_cli.main import app
from tejido_common.natsserver import NatsServer
from tejido_common.testing import DatabaseTarget
from tejido_gateway.testing import running_gateway
from tejido_registry.testing import registry_settings, running_registry

CSV = """legal_name,identifiers,actor_type,cso_subtype,country,program_areas
Red LASES,XX-CLI:1,cso,ngo,AR,ED
Grupo Conciencia,XX-CLI:2,cso,ngo,MX,HE1
Organización Sin País,XX-CLI:3,cso,ngo,,HE1
"""


def test_import_file_reports_rows_and_is_idempotent(
    tmp_path: Path, data_dir: Path, nats_server: NatsServer, db_target: DatabaseTarget
) -> None:
    file = tmp_path / "orgs.csv"
    file.write_text(CSV, encoding="utf-8")
    report_file = tmp_path / "report.json"
    runner = CliRunner()
    with (
        running_registry(registry_settings(data_dir, nats_server.url, db_target)) as registry,
        running_gateway(data_dir, nats_server.url, registry_url=registry.url) as gateway,
    ):
        url = ["--url", gateway.url]
        args = ["import", str(file), *url, "--key", gateway.admin_key, "--report", str(report_file)]
        # Imports are writes: without a key the gateway refuses them, and nothing is imported.
        anonymous = runner.invoke(app, ["import", str(file), *url], env={"TEJIDO_API_KEY": ""})
        assert anonymous.exit_code == 1 and "401" in anonymous.output
        first = runner.invoke(app, args)
        assert first.exit_code == 3, first.output  # one row could not be imported
        report = json.loads(report_file.read_text())
        assert (report["created"], report["failed"]) == (2, 1)
        assert report["errors"][0]["row"] == 3 and report["errors"][0]["field"] == "country"
        assert "rows not imported" in first.output
        second = runner.invoke(app, args)
        assert json.loads(report_file.read_text())["unchanged"] == 2
        assert second.exit_code == 3
        listed = registry.client.get("/v1/organizations").json()["items"]
        assert sorted(o["identity"]["legal_name"] for o in listed) == ["Grupo Conciencia", "Red LASES"]
        bad = runner.invoke(app, ["import", str(tmp_path / "missing.csv"), *url])
        assert bad.exit_code == 1 and "not a file" in bad.output
        unknown = tmp_path / "orgs.xlsx"
        unknown.write_text("x")
        assert runner.invoke(app, ["import", str(unknown), *url]).exit_code == 1
