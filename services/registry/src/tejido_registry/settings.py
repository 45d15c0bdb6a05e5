from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tejido_common.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TEJIDO_REGISTRY_", extra="ignore")

    service_name: str = "registry"
    port: int = 8001
    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=200, ge=1)
    import_max_body_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    # rows per import transaction (the unit the import report counts as committed). Each row dirties
    # pages all over the facet index: a bigger transaction writes a page changed by several rows once
    # (500 → 2,000: 961 → 1,246 rows/s at 100,000 organizations on SQLite, in process); other writers
    # wait for one transaction (~1.5 s) at most.
    import_batch_size: int = Field(default=2_000, ge=1, le=10_000)
    # rapidfuzz ratio (0-100) above which two names in the same country are likely the same organization
    duplicate_name_threshold: float = Field(default=88.0, ge=50, le=100)
