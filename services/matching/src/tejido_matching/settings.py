from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from tejido_common.settings import ServiceSettings


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TEJIDO_MATCHING_", extra="ignore")

    service_name: str = "matching"
    port: int = 8002
    page_size_default: int = Field(default=20, ge=1)
    page_size_max: int = Field(default=100, ge=1)
    # Per-mode overrides of the feature weights, e.g. {"complementary": {"territory": 0.3}}
    # (TEJIDO_MATCHING_WEIGHTS as JSON); each mode is normalized to sum 1.
    weights: dict[str, dict[str, float]] = Field(default_factory=dict)
    # Ranking runs in workers reached over NATS request/reply (queue group). The API process runs one
    # itself unless operators start separate workers (`tejido up --matching-workers N`).
    embedded_worker: bool = True
    # Core NATS request/reply, deliberately outside every stream's subjects (``matching.>`` is the
    # MATCHING stream's): a stream capturing the request would answer it with a JetStream ack.
    rank_subject: str = "rpc.matching.rank"
    worker_queue: str = "matching-workers"
    rank_timeout_seconds: float = Field(default=5.0, gt=0)
    # Workers resume the event streams from the snapshot's newest event time minus this margin
    # (events are applied idempotently by version, so replaying a few is harmless).
    resume_margin_seconds: float = Field(default=60.0, ge=0)
    # Multilingual sentence embeddings; off gives lexical and code features only (e.g. tiny tests).
    embeddings_enabled: bool = True
    embedding_batch: int = Field(default=32, ge=1)
    # Exact (vectorized) scoring up to this many candidates; beyond, a candidate stage narrows them.
    exact_limit: int = Field(default=100_000, ge=1)
    # numpy's BLAS threads in a process running a worker (0: the library's default). Ranking is small
    # products: one thread per worker process, scale with more workers (kit/blas.py says why).
    blas_threads: int = Field(default=1, ge=0)
    # Signs pagination cursors. Set the same value on every API replica; unset: random per process.
    cursor_secret: SecretStr | None = None
