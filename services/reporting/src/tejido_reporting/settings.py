from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tejido_common.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TEJIDO_REPORTING_", extra="ignore")

    service_name: str = "reporting"
    port: int = 8004
    import_max_body_bytes: int = Field(default=128 * 1024 * 1024, ge=1024)
    import_batch_size: int = Field(default=25_000, ge=1, le=200_000)
    # Fixed yearly conversion rates for the converted view of money:
    # {"USD": {"2009": {"MXN": 0.074, "PEN": 0.33}}} means 1 MXN = 0.074 USD in 2009 (JSON in the env).
    fx_rates: dict[str, dict[str, dict[str, float]]] = Field(default_factory=dict)
    # The reporting organisation of IATI exports: the network publishing them (org-id.guide style ref).
    iati_reporting_org_ref: str = "XM-DAC-TEJIDO"
    iati_reporting_org_name: str = "Tejido network"
    iati_reporting_org_type: str = "22"
