from pydantic import Field
from pydantic_settings import SettingsConfigDict
from tejido_common.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TEJIDO_REGISTRY_", extra="ignore")

    service_name: str = "registry"
    port: int = 8001
    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=200, ge=1)
