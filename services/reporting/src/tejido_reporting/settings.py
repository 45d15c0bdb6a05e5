from pydantic_settings import SettingsConfigDict

from tejido_common.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TEJIDO_REPORTING_", extra="ignore")

    service_name: str = "reporting"
    port: int = 8004
