from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tejido_common.settings import ServiceSettings
from tejido_duediligence.screening.matcher import DEFAULT_THRESHOLD


class DuediligenceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TEJIDO_DUEDILIGENCE_", extra="ignore")

    service_name: str = "duediligence"
    port: int = 8003
    # Evidence files: where they are kept (default: <data_dir>/evidence) and how big one may be.
    evidence_dir: Path | None = None
    evidence_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # A rating is valid this long, then it expires and the organization is due for re-assessment.
    rating_validity_days: int = Field(default=730, ge=1)
    expiry_check_seconds: float = Field(default=3600.0, gt=0)
    # Screening: the minimum score (0–100) of a hit, the watch-list upload limit, and the shipped list.
    screening_threshold: float = Field(default=DEFAULT_THRESHOLD, ge=50, le=100)
    watchlist_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    load_synthetic_watchlist: bool = True

    def resolved_evidence_dir(self) -> Path:
        return self.evidence_dir or self.data_dir / "evidence"
