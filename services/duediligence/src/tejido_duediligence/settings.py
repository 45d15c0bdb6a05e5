from pydantic_settings import SettingsConfigDict

from tejido_common.settings import ServiceSettings


class DuediligenceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TEJIDO_DUEDILIGENCE_", extra="ignore")

    service_name: str = "duediligence"
    port: int = 8003
