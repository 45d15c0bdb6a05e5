"""Launcher configuration (``TEJIDO_*`` variables) and the one table of components ``up``/``migrate`` use."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import typer
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console
from rich.markup import escape

from tejido_common.settings import ServiceSettings

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


@dataclass(frozen=True)
class Component:
    """One HTTP process started by ``tejido up``. Import paths stay strings so that ``tejido status``
    and the port check never import (or depend on) the services themselves."""

    name: str
    app_factory: str  # "module:function" for ``uvicorn --factory``
    settings_class: str  # "module:Class"; its env prefix is TEJIDO_<NAME>_
    port_offset: int  # from the gateway port, unless TEJIDO_<NAME>_PORT is set
    # Services own a database and talk to NATS; the gateway only proxies to them.
    has_database: bool = True

    @property
    def env_prefix(self) -> str:
        return f"TEJIDO_{self.name.upper()}_"

    @property
    def port_env(self) -> str:
        return f"{self.env_prefix}PORT"

    @property
    def app_module(self) -> str:
        return self.app_factory.split(":", 1)[0]

    def load_settings_class(self) -> type[ServiceSettings]:
        module, _, attr = self.settings_class.partition(":")
        cls: type[ServiceSettings] = getattr(importlib.import_module(module), attr)
        return cls

    def load_migrations_dir(self) -> Path:
        """Each service's app module exposes ``MIGRATIONS`` (its Alembic directory)."""
        migrations: Path = importlib.import_module(self.app_module).MIGRATIONS
        return migrations


# The gateway owns a database too (API keys, webhook subscriptions) and consumes events (webhooks).
GATEWAY = Component(
    "gateway", "tejido_gateway.app:app_from_env", "tejido_gateway.settings:GatewaySettings", 0
)
SERVICES: tuple[Component, ...] = (
    Component("registry", "tejido_registry.app:app_from_env", "tejido_registry.settings:RegistrySettings", 1),
    Component("matching", "tejido_matching.app:app_from_env", "tejido_matching.settings:MatchingSettings", 2),
    Component(
        "duediligence",
        "tejido_duediligence.app:app_from_env",
        "tejido_duediligence.settings:DuediligenceSettings",
        3,
    ),
    Component(
        "reporting", "tejido_reporting.app:app_from_env", "tejido_reporting.settings:ReportingSettings", 4
    ),
)
# Start order; shutdown walks it backwards so the gateway stops taking requests first.
COMPONENTS: tuple[Component, ...] = (*SERVICES, GATEWAY)


class LauncherConfig(BaseSettings):
    # Empty variables count as unset, so `TEJIDO_REGISTRY_PORT=` falls back to the derived port.
    model_config = SettingsConfigDict(env_prefix="TEJIDO_", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Path("./.tejido")
    host: str = "127.0.0.1"
    gateway_port: int = Field(default=8000, ge=1, le=65535 - 4)
    registry_port: int | None = Field(default=None, ge=1, le=65535)
    matching_port: int | None = Field(default=None, ge=1, le=65535)
    duediligence_port: int | None = Field(default=None, ge=1, le=65535)
    reporting_port: int | None = Field(default=None, ge=1, le=65535)
    # Set: use that NATS (JetStream enabled) and launch none.
    nats_url: str | None = None
    # A NATS user for the operator commands (`tejido streams provision`, `tejido deadletter …`) on an
    # external NATS (compose's provisioning job); unset: the embedded server's `operator` user.
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    # Port of the embedded nats-server; None picks a free one at start-up.
    nats_port: int | None = Field(default=None, ge=1, le=65535)
    # Set: PostgreSQL for every service, each in its own schema; unset: SQLite files in data_dir.
    database_url: str | None = None
    demo_data: bool = True
    log_level: str = "INFO"
    # How long `tejido up` waits for every /readyz before giving up.
    startup_timeout: float = Field(default=90.0, gt=0)
    # How long each process gets to stop after SIGTERM before it is killed.
    stop_timeout: float = Field(default=10.0, gt=0)
    # Separate matching worker processes (ranking over NATS); 0: the matching API ranks in-process.
    matching_workers: int = Field(default=0, ge=0, le=64)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level == "WARN":
            level = "WARNING"
        if level not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}")
        return level

    def port_of(self, component: Component) -> int:
        explicit: int | None = getattr(self, f"{component.name}_port")
        return explicit if explicit is not None else self.gateway_port + component.port_offset

    def port_env_hint(self, component: Component) -> str:
        """Which variable moves this component's port (derived ports follow the gateway's)."""
        if component is GATEWAY or getattr(self, f"{component.name}_port") is not None:
            return component.port_env
        return f"{component.port_env} (or TEJIDO_GATEWAY_PORT, which it follows)"

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def logs_dir(self) -> Path:
        return self.resolved_data_dir / "logs"

    @property
    def nats_store_dir(self) -> Path:
        return self.resolved_data_dir / "nats"

    @property
    def demo_marker(self) -> Path:
        return self.resolved_data_dir / "demo-loaded"

    @property
    def demo_key_file(self) -> Path:
        return self.resolved_data_dir / "demo-admin-key"

    @property
    def client_host(self) -> str:
        """Where to reach the processes: a wildcard listen address is not something to connect to."""
        if self.host in ("0.0.0.0", ""):
            return "127.0.0.1"
        if self.host == "::":
            return "::1"
        return self.host

    def url_of(self, component: Component) -> str:
        return http_url(self.client_host, self.port_of(component))

    def service_overrides(self, component: Component, nats_url: str) -> dict[str, str]:
        """The settings the launcher imposes on a component (field name → value). The same values become
        the child's ``TEJIDO_<NAME>_*`` environment and the ``tejido migrate`` settings, so both agree.
        """
        values = {
            "host": self.host,
            "port": str(self.port_of(component)),
            "data_dir": str(self.resolved_data_dir),
            "log_level": self.log_level,
        }
        if component.has_database:
            values["nats_url"] = nats_url
            # `tejido up` provisions every stream as the operator before it starts anything: services
            # only look their streams up (no service user may create or change one).
            values["provision_streams"] = "false"
            if component.name == "matching" and self.matching_workers > 0:
                values["embedded_worker"] = "false"
            if self.database_url:
                values["database_url"] = self.database_url
        if component.name == "gateway":
            for service in SERVICES:
                values[f"{service.name}_url"] = self.url_of(service)
        return values

    def component_env(self, component: Component, nats_url: str) -> dict[str, str]:
        return {
            f"{component.env_prefix}{key.upper()}": value
            for key, value in self.service_overrides(component, nats_url).items()
        }

    def component_settings(self, component: Component) -> ServiceSettings:
        """The component's own Settings as its process will see them (env plus the launcher's values)."""
        overrides = self.service_overrides(component, nats_url=self.nats_url or "")
        overrides.pop("nats_url", None)  # not needed to find the database
        return component.load_settings_class()(**overrides)  # type: ignore[arg-type]


def http_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def load_config() -> LauncherConfig:
    """The launcher's configuration from ``TEJIDO_*`` variables; a bad one is named on stderr and the
    command exits with status 2 (the one place that turns bad variables into messages)."""
    try:
        return LauncherConfig()
    except ValidationError as exc:
        err = Console(stderr=True, soft_wrap=True, highlight=False)
        for error in exc.errors():
            variable = "TEJIDO_" + "_".join(str(part) for part in error["loc"]).upper()
            err.print(f"[bold red]error:[/] {variable}: {escape(error['msg'])}")
        raise typer.Exit(2) from None
