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
    consumer_max_deliveries: int = Field(default=10, ge=1)
    consumer_retry_delay_seconds: float = Field(default=1.0, ge=0)
    consumers_enabled: bool = True
    # -- event backbone (see the README's "Delivery guarantees") --
    # Largest event a write may stage: NATS refuses messages over its max_payload (1 MB by default).
    max_event_bytes: int = Field(default=900_000, ge=1024)
    # A row that fails to publish this many times (a row-specific error, not an outage) is parked.
    outbox_park_after: int = Field(default=5, ge=1)
    # Acknowledged rows are marked sent this many at a time: a relay killed in between re-sends at most
    # this many, inside the duplicate window (one transaction per event capped the relay at ~400/s).
    outbox_mark_every: int = Field(default=20, ge=1, le=1000)
    # JetStream drops a re-published Nats-Msg-Id inside this window: it must outlast an outage of a
    # relay that published but had not marked its rows yet. 24 h of ids costs ~100 bytes per event.
    stream_duplicate_window_seconds: float = Field(default=86_400.0, gt=0)
    # 0 keeps stream messages until other limits apply (new consumers can rebuild from the start).
    stream_max_age_seconds: float = Field(default=0.0, ge=0)
    stream_max_bytes: int = Field(default=-1, ge=-1)
    stream_replicas: int = Field(default=1, ge=1, le=5)
    # Create and reconcile the streams this service needs itself (an open NATS, as in tests). False
    # under a provisioner (`tejido up`, compose): only the operator may create or change streams (NATS
    # does not check a stream's sources/republish against permissions); the service looks its streams
    # up, waits until they exist (/readyz says which it waits for) and warns when its own differs.
    provision_streams: bool = True
    # A failing event is retried after retry_delay x 5^(n-1), capped here (1 s, 5 s, 25 s, 2 min, 10 min…):
    # with 10 deliveries a good event survives about an hour of database trouble before dead-lettering.
    consumer_retry_max_delay_seconds: float = Field(default=600.0, ge=0)
    # Threads for blocking request work (asyncio.to_thread); the backbone has its own threads.
    request_threads: int = Field(default=40, ge=1)
    # Slow request bodies are cut with a 408 (see tejido_common.timeouts).
    body_idle_timeout_seconds: float = Field(default=15.0, gt=0)
    body_grace_seconds: float = Field(default=30.0, gt=0)
    body_min_bytes_per_second: float = Field(default=10_240.0, gt=0)
    # /readyz reports the relay stuck when NATS is up but the oldest pending event is older than this.
    relay_stuck_after_seconds: float = Field(default=60.0, gt=0)
    # Sent outbox rows and processed event ids are pruned this often (0 disables pruning).
    prune_interval_seconds: float = Field(default=3600.0, ge=0)
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
