from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from tejido_common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """Upstream addresses and limits, plus what the gateway owns: API keys, tokens, rate limits, webhooks."""

    model_config = SettingsConfigDict(env_prefix="TEJIDO_GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    port: int = 8000
    registry_url: str = "http://127.0.0.1:8001"
    matching_url: str = "http://127.0.0.1:8002"
    duediligence_url: str = "http://127.0.0.1:8003"
    reporting_url: str = "http://127.0.0.1:8004"
    upstream_connect_timeout: float = Field(default=3.0, gt=0)
    # Longest wait for the upstream's response headers, and between two chunks of a body.
    upstream_timeout: float = Field(default=30.0, gt=0)
    upstream_max_connections: int = Field(default=512, ge=1)
    # Bulk imports (POST /v1/<resource>:import) may carry far more than ordinary requests.
    import_max_body_bytes: int = Field(default=64 * 1_048_576, ge=1024)
    # Evidence files for due-diligence answers (the service keeps its own, smaller file limit).
    evidence_max_body_bytes: int = Field(default=11 * 1_048_576, ge=1024)
    # How long the merged OpenAPI document is served from memory before upstreams are asked again.
    openapi_cache_seconds: float = Field(default=30.0, ge=0)

    # -- bearer tokens for people (JWT) ------------------------------------------------------------
    # HS256 with this shared secret; or RS256/ES256 with keys from a JWKS (a URL or a file).
    jwt_hs256_secret: SecretStr | None = None
    jwt_jwks_url: str | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str = "tejido"
    jwt_audience: str = "tejido-api"
    jwt_role_claim: str = "role"
    jwt_organizations_claim: str = "organizations"
    jwt_leeway_seconds: float = Field(default=30.0, ge=0)
    # A verified API key is remembered this long; a revocation reaches other gateway replicas this late.
    key_cache_seconds: float = Field(default=5.0, ge=0)

    # -- protection ---------------------------------------------------------------------------------
    # ``limits`` notation; per API key or token subject, and per client address for anonymous callers
    # and failed authentications.
    rate_limit_per_key: str = "1200/minute"
    rate_limit_per_address: str = "300/minute"
    # Replicas tell each other the requests they allowed this often (core NATS), so every limit holds
    # for the platform; 0: each replica counts alone.
    rate_limit_share_seconds: float = Field(default=0.5, ge=0, le=60)
    # Web front ends allowed to call the API from a browser (exact origins, e.g. https://app.example.org).
    cors_allow_origins: list[str] = []

    # -- webhooks -------------------------------------------------------------------------------------
    webhooks_enabled: bool = True
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Retries wait base, 2×base, 4×base …; after max attempts the delivery is parked (replayable).
    webhook_retry_base_seconds: float = Field(default=10.0, ge=0)
    webhook_max_attempts: int = Field(default=8, ge=1)
    # This many failed attempts in a row disable the subscription (its owner sees why, and re-enables it).
    webhook_disable_after_failures: int = Field(default=40, ge=1)
    # Only for tests and closed networks: let subscriptions target private, loopback or plain-http URLs.
    webhook_allow_private_urls: bool = False

    def upstreams(self) -> dict[str, str]:
        """Service name → base URL (without trailing slash)."""
        return {
            "registry": self.registry_url.rstrip("/"),
            "matching": self.matching_url.rstrip("/"),
            "duediligence": self.duediligence_url.rstrip("/"),
            "reporting": self.reporting_url.rstrip("/"),
        }
