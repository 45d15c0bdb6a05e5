from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tejido_common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """The gateway has no database or broker of its own: only upstream addresses and limits."""

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
    # How long the merged OpenAPI document is served from memory before upstreams are asked again.
    openapi_cache_seconds: float = Field(default=30.0, ge=0)

    def upstreams(self) -> dict[str, str]:
        """Service name → base URL (without trailing slash)."""
        return {
            "registry": self.registry_url.rstrip("/"),
            "matching": self.matching_url.rstrip("/"),
            "duediligence": self.duediligence_url.rstrip("/"),
            "reporting": self.reporting_url.rstrip("/"),
        }
