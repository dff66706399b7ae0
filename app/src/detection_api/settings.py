"""Service settings, read from `DETECTION_API_*` environment variables.

Development defaults make `detection-api serve` work on a laptop with nothing configured
(SQLite under `var/`, a local development key). Production refuses to start with any of them.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/detection-api.db"
DEV_SECRET = "dev-only-not-a-secret"  # noqa: S105 - marks the development default, refused in production
DEV_API_KEY = f"dak_dev_{DEV_SECRET}"

DEFAULT_CLASSES = (
    "person",
    "vehicle",
    "car",
    "truck",
    "bus",
    "motorcycle",
    "bicycle",
    "boat",
    "aircraft",
    "animal",
    "unknown",
)


class Environment(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """All configuration of the service. Every limit is explicit here."""

    model_config = SettingsConfigDict(env_prefix="DETECTION_API_", extra="ignore", frozen=True)

    environment: Environment = Environment.DEV
    log_level: str = "INFO"

    # HTTP
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(9100, ge=0, le=65535, description="0 disables the metrics listener")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    docs_enabled: bool = True
    shutdown_drain_seconds: float = Field(10.0, ge=0, le=300)

    # Limits
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    max_batch_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    max_batch_items: int = Field(500, ge=1, le=10_000)
    max_page_size: int = Field(500, ge=1, le=5_000)
    outbox_cap: int = Field(
        100_000, ge=1, description="pending outbox rows before ingest answers 503"
    )
    retry_after_seconds: int = Field(5, ge=1, le=3600)

    # Storage
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    database_pool_size: int = Field(10, ge=1, le=100)
    database_max_overflow: int = Field(5, ge=0, le=100)
    database_iam_auth: bool = False
    database_sslmode: str | None = None
    aws_region: str | None = None

    # Auth
    # A key created at start-up for local use; in `dev` it defaults to DEV_API_KEY.
    dev_api_key: SecretStr | None = None
    api_key_pepper: SecretStr = SecretStr(DEV_SECRET)
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_jwks_url: str | None = None
    jwt_jwks_file: Path | None = None
    jwt_algorithms: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["RS256", "ES256"]
    )

    # Rate limits (per principal), `limits` notation, e.g. "600/minute"
    rate_limit: str = "6000/minute"
    # memory:// (this process) or redis://, rediss:// (shared by every replica)
    rate_limit_storage: str = Field("memory://", pattern=r"^(async\+)?(memory|rediss?)://")
    rate_limit_key_prefix: str = "detection-api"
    # A shared store slower than this is treated as down (the check falls back to memory).
    rate_limit_storage_timeout_seconds: float = Field(0.25, gt=0, le=10)

    # Detections
    object_classes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CLASSES)
    )
    default_terrain_height_m: float = 0.0
    dem_path: Path | None = None

    # Delivery
    tak_destinations: Annotated[list[str], NoDecode] = Field(default_factory=list)
    tak_key_password: SecretStr | None = None
    tak_pkcs12_password: SecretStr | None = None
    delivery_enabled: bool = True
    delivery_batch_size: int = Field(200, ge=1, le=5_000)
    delivery_lease_seconds: float = Field(30.0, ge=1, le=3600)
    delivery_send_timeout_seconds: float = Field(10.0, gt=0, le=600)
    delivery_backoff_max_seconds: float = Field(60.0, ge=0.1, le=3600)
    delivery_poll_seconds: float = Field(0.2, gt=0, le=60)
    outbox_stats_seconds: float = Field(5.0, gt=0, le=300, description="queue gauge refresh")
    stale_after_seconds: float = Field(300.0, gt=0, le=86_400)
    stale_policy: Literal["drop", "restamp"] = "drop"
    cot_affiliation: Literal["u", "h", "n", "f", "p", "a", "s", "j", "k", "o", "x"] = "u"
    # Blue/green: this pod's colour, and the file (a mounted ConfigMap) naming the active one.
    color: str | None = None
    active_color_file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_lists(cls, data: object) -> object:
        """Comma-separated environment values for list settings (JSON lists also accepted);
        an empty optional secret means unset."""
        if not isinstance(data, dict):
            return data
        for key in ("dev_api_key", "tak_key_password", "tak_pkcs12_password"):
            if data.get(key) == "":
                data[key] = None
        for key in ("cors_origins", "jwt_algorithms", "object_classes", "tak_destinations"):
            value = data.get(key)
            if isinstance(value, str):
                data[key] = _parse_list(value)
        return data

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> Self:
        if self.environment is not Environment.PRODUCTION:
            return self
        problems = production_problems(self)
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def development_key(self) -> SecretStr | None:
        """The key to create at start-up: the configured one, or in `dev` the well-known one."""
        if self.dev_api_key is not None:
            return self.dev_api_key
        return SecretStr(DEV_API_KEY) if self.environment is Environment.DEV else None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.get_secret_value().startswith("sqlite")


def production_problems(settings: Settings) -> list[str]:
    """Every development default that must not reach production, as a readable reason."""
    problems = []
    if settings.database_url.get_secret_value() == DEFAULT_DATABASE_URL:
        problems.append("DETECTION_API_DATABASE_URL is the development SQLite file")
    if settings.dev_api_key is not None:
        problems.append("DETECTION_API_DEV_API_KEY must be unset (create keys with the CLI)")
    if DEV_SECRET in settings.api_key_pepper.get_secret_value():
        problems.append("DETECTION_API_API_KEY_PEPPER is the development default")
    if settings.docs_enabled:
        problems.append("DETECTION_API_DOCS_ENABLED must be false")
    if "*" in settings.cors_origins:
        problems.append("DETECTION_API_CORS_ORIGINS must not contain '*'")
    if settings.rate_limit_storage.startswith("memory"):
        problems.append(
            "DETECTION_API_RATE_LIMIT_STORAGE must be shared (redis://...) across replicas"
        )
    return problems


def _parse_list(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("["):
        import json  # noqa: PLC0415 - only for the rare JSON form

        parsed = json.loads(value)
        return [str(item) for item in parsed]
    return [item.strip() for item in value.split(",") if item.strip()]
