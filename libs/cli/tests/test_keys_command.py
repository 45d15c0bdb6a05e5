"""`tejido keys create|list|revoke` against the configured data dir or PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tejido_cli.config import LauncherConfig
from tejido_cli.keys import key_service
from tejido_cli.main import app
from tejido_common.testing import DatabaseTarget


def test_keys_create_prints_the_key_once_and_stores_only_a_digest(
    data_dir: Path, db_target: DatabaseTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEJIDO_DATA_DIR", str(data_dir))
    if db_target.url:
        monkeypatch.setenv("TEJIDO_DATABASE_URL", db_target.url)
        # One throw-away schema per test: the gateway's schema is named after the service.
        monkeypatch.setenv("TEJIDO_GATEWAY_DATABASE_SCHEMA", db_target.schema or "")
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--role", "admin", "--name", "first admin"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("tjd_")
    with key_service(LauncherConfig()) as keys:
        principal = keys.authenticate(key)
        assert (principal.role, principal.name, principal.kind) == ("admin", "first admin", "key")
        [row] = keys.list()
        assert key not in repr(row.model_dump()) and row.secret_sha256 not in key
    listed = runner.invoke(app, ["keys", "list"])
    assert principal.id in listed.stdout and key not in listed.stdout

    refused = runner.invoke(app, ["keys", "create", "--role", "org_editor", "--name", "x"])
    assert refused.exit_code == 2 and "organizations" in refused.output
    unknown = runner.invoke(app, ["keys", "create", "--role", "root", "--name", "x"])
    assert unknown.exit_code == 2 and "role" in unknown.output

    assert runner.invoke(app, ["keys", "revoke", principal.id]).exit_code == 0
    with key_service(LauncherConfig()) as keys, pytest.raises(Exception, match="revoked"):
        keys.authenticate(key)
