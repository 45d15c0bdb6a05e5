"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Base settings. Subclasses set ``model_config`` with ``env_prefix`` (e.g. ``TEJIDO_REGISTRY_``)."""

    model_config = SettingsConfigDict(env_prefix="TEJIDO_", extra="ignore")

    service_name: str = "service"
    host: str = "127.0.0.1"
    port: int = 8001
    data_dir: Path = Path(".tejido")
    # None means: a SQLite file named after the service inside data_dir.
    database_url: str | None = None
    # PostgreSQL schema for this service (one schema per service); defaults to the service name.
    database_schema: str | None = None
    nats_url: str = "nats://127.0.0.1:4222"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    log_level: str = "INFO"
    log_json: bool = True
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    outbox_batch_size: int = Field(default=200, ge=1)
    consumer_max_deliveries: int = Field(default=5, ge=1)
    consumer_retry_delay_seconds: float = Field(default=1.0, ge=0)
    consumers_enabled: bool = True
    # The key the gateway signs each caller's identity with (``tejido_common.identity``). Unset: the
    # file ``internal-secret`` in data_dir, created on first use, so processes sharing a data dir agree.
    internal_secret: SecretStr | None = None
    # NATS credentials of this service's own user (unset: connect without credentials).
    nats_user: str | None = None
    nats_password: SecretStr | None = None

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"

    def resolved_schema(self) -> str:
        return self.database_schema or self.service_name
