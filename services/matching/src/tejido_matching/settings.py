from pydantic_settings import SettingsConfigDict

from tejido_common.settings import ServiceSettings


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TEJIDO_MATCHING_", extra="ignore")

    service_name: str = "matching"
    port: int = 8002
