"""Launcher configuration: defaults, derived ports, and the environment each child process gets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from tejido_cli.config import COMPONENTS, GATEWAY, SERVICES, Component, LauncherConfig, http_url


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("TEJIDO_"):
            monkeypatch.delenv(key)


def by_name(name: str) -> Component:
    return next(c for c in COMPONENTS if c.name == name)


def test_defaults() -> None:
    cfg = LauncherConfig()
    assert cfg.data_dir == Path(".tejido")
    assert cfg.host == "127.0.0.1"
    assert cfg.gateway_port == 8000
    assert [cfg.port_of(c) for c in (GATEWAY, *SERVICES)] == [8000, 8001, 8002, 8003, 8004]
    assert cfg.nats_url is None and cfg.nats_port is None and cfg.database_url is None
    assert cfg.demo_data is True
    assert cfg.log_level == "INFO"


def test_service_ports_follow_the_gateway_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEJIDO_GATEWAY_PORT", "9100")
    monkeypatch.setenv("TEJIDO_MATCHING_PORT", "9999")
    monkeypatch.setenv("TEJIDO_REPORTING_PORT", "")  # empty counts as unset
    cfg = LauncherConfig()
    ports = {c.name: cfg.port_of(c) for c in COMPONENTS}
    assert ports == {
        "gateway": 9100,
        "registry": 9101,
        "matching": 9999,
        "duediligence": 9103,
        "reporting": 9104,
    }
    assert cfg.port_env_hint(by_name("matching")) == "TEJIDO_MATCHING_PORT"
    assert "TEJIDO_GATEWAY_PORT" in cfg.port_env_hint(by_name("registry"))
    assert cfg.port_env_hint(GATEWAY) == "TEJIDO_GATEWAY_PORT"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEJIDO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TEJIDO_NATS_URL", "nats://10.0.0.5:4222")
    monkeypatch.setenv("TEJIDO_NATS_PORT", "4333")
    monkeypatch.setenv("TEJIDO_DATABASE_URL", "postgresql://u:secret@db/tejido")
    monkeypatch.setenv("TEJIDO_DEMO_DATA", "false")
    monkeypatch.setenv("TEJIDO_LOG_LEVEL", "warn")
    cfg = LauncherConfig()
    assert cfg.resolved_data_dir == tmp_path.resolve()
    assert cfg.nats_url == "nats://10.0.0.5:4222"
    assert cfg.nats_port == 4333
    assert cfg.database_url == "postgresql://u:secret@db/tejido"
    assert cfg.demo_data is False
    assert cfg.log_level == "WARNING"


@pytest.mark.parametrize(
    ("var", "value"),
    [("TEJIDO_LOG_LEVEL", "LOUD"), ("TEJIDO_GATEWAY_PORT", "0"), ("TEJIDO_GATEWAY_PORT", "65534")],
)
def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError):
        LauncherConfig()


def test_service_env_on_sqlite(tmp_path: Path) -> None:
    cfg = LauncherConfig(data_dir=tmp_path, gateway_port=9200, log_level="DEBUG")
    env = cfg.component_env(by_name("registry"), "nats://127.0.0.1:4999")
    assert env == {
        "TEJIDO_REGISTRY_HOST": "127.0.0.1",
        "TEJIDO_REGISTRY_PORT": "9201",
        "TEJIDO_REGISTRY_DATA_DIR": str(tmp_path.resolve()),
        "TEJIDO_REGISTRY_LOG_LEVEL": "DEBUG",
        "TEJIDO_REGISTRY_NATS_URL": "nats://127.0.0.1:4999",
        # `tejido up` provisions the streams as the operator; services only look them up.
        "TEJIDO_REGISTRY_PROVISION_STREAMS": "false",
    }


def test_service_env_on_postgres_and_settings_agree(tmp_path: Path) -> None:
    url = "postgresql://u:p@127.0.0.1:5432/tejido"
    cfg = LauncherConfig(data_dir=tmp_path, database_url=url)
    for service in SERVICES:
        env = cfg.component_env(service, "nats://x:1")
        assert env[f"TEJIDO_{service.name.upper()}_DATABASE_URL"] == url
        settings = cfg.component_settings(service)
        # What `tejido migrate` migrates is what the service process will use: its own schema.
        assert settings.resolved_database_url() == url
        assert settings.provision_streams is False
        assert settings.resolved_schema() == service.name
        assert settings.port == cfg.port_of(service)


def test_sqlite_settings_put_one_file_per_service_in_the_data_dir(tmp_path: Path) -> None:
    cfg = LauncherConfig(data_dir=tmp_path)
    urls = {cfg.component_settings(s).resolved_database_url() for s in SERVICES}
    assert urls == {f"sqlite:///{tmp_path.resolve() / f'{s.name}.db'}" for s in SERVICES}


def test_gateway_env_points_at_every_service() -> None:
    cfg = LauncherConfig(gateway_port=9300, registry_port=9500)
    env = cfg.component_env(GATEWAY, "nats://unused:1")
    assert env["TEJIDO_GATEWAY_PORT"] == "9300"
    assert env["TEJIDO_GATEWAY_REGISTRY_URL"] == "http://127.0.0.1:9500"
    assert env["TEJIDO_GATEWAY_MATCHING_URL"] == "http://127.0.0.1:9302"
    assert env["TEJIDO_GATEWAY_DUEDILIGENCE_URL"] == "http://127.0.0.1:9303"
    assert env["TEJIDO_GATEWAY_REPORTING_URL"] == "http://127.0.0.1:9304"
    assert "TEJIDO_GATEWAY_DATABASE_URL" not in env
    settings = cfg.component_settings(GATEWAY)
    assert settings.registry_url == "http://127.0.0.1:9500"  # type: ignore[attr-defined]


def test_wildcard_host_is_reached_on_loopback() -> None:
    assert LauncherConfig(host="0.0.0.0").url_of(GATEWAY) == "http://127.0.0.1:8000"
    assert LauncherConfig(host="::").url_of(GATEWAY) == "http://[::1]:8000"
    assert http_url("10.1.2.3", 80) == "http://10.1.2.3:80"


def test_every_component_names_an_importable_factory_and_settings() -> None:
    for component in COMPONENTS:
        settings_class = component.load_settings_class()
        assert settings_class.model_config.get("env_prefix") == component.env_prefix
        assert settings_class().service_name == component.name
    for service in SERVICES:
        assert (service.load_migrations_dir() / "env.py").exists()
