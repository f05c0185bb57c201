"""Runtime configuration, read once from the environment (and an optional `.env`)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOCKFLOW_", env_file=".env", extra="ignore")

    # None means "start the embedded PostgreSQL in data_dir".
    database_url: str | None = None
    data_dir: Path = Path("./.stockflow")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    admin_token: SecretStr | None = None
    default_low_stock_threshold: int = Field(default=10, ge=0)

    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    # uvicorn worker processes of `stockflow serve` (see README: measured on 2 cores).
    workers: int = Field(default=2, ge=1, le=64)
    # The background loops (sweeps, webhook deliveries) of every worker; off only for
    # embedders and tests that drive the jobs themselves.
    background_jobs: bool = True
    log_level: str = "INFO"
    log_json: bool = False
    # The role the app runs as, so row-level security applies to it (see api-notes,
    # "Tenant isolation"); the migrations create it. Empty: the URL's own user (which
    # then must be neither superuser nor BYPASSRLS).
    db_role: str = Field(default="stockflow_app", pattern=r"^([a-z_][a-z0-9_]*)?$")
    # Reliability (docs/api-notes.md "Reliability"): a database that does not answer
    # within these is a 503 with Retry-After, never a hang.
    db_statement_timeout_ms: int = Field(default=10_000, ge=0)  # server side; 0 = none
    # asyncpg's client-side limit per call: catches a frozen server or network, so a
    # little over the statement timeout (the server's own cancel is the cleaner answer).
    db_command_timeout_seconds: float = Field(default=12.0, gt=0)
    db_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    db_pool_pre_ping: bool = True
    readiness_timeout_seconds: float = Field(default=1.5, gt=0)
    # Limits (SPEC "Limits").
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    rate_limit_per_second: float = Field(default=0.0, ge=0)
    # Requests of one credential in progress at once, per worker (0 = no cap).
    max_in_flight_per_credential: int = Field(default=0, ge=0)
    # uvicorn (`stockflow serve`): idle keep-alive and concurrency (None: unlimited).
    http_keep_alive_seconds: int = Field(default=5, ge=1)
    http_limit_concurrency: int | None = Field(default=None, ge=1)
    idempotency_purge_interval_seconds: float = Field(default=300.0, gt=0)
    # A replica (or any second server) the low-stock report reads from; None: the primary.
    read_database_url: str | None = None
    # asyncpg's and SQLAlchemy's prepared-statement caches, per connection. Behind PgBouncer
    # in transaction-pooling mode (< 1.21, as Debian 12 ships) set 0: statements are then
    # prepared per use under unique names, never reused on another server connection.
    db_statement_cache_size: int = Field(default=100, ge=0)
    # Events and webhooks (events/, webhooks/).
    event_retention_days: int = Field(default=30, ge=1)
    webhook_allow_private: bool = False
    webhook_max_attempts: int = Field(default=10, ge=1, le=100)
    webhook_retry_base_seconds: float = Field(default=10.0, ge=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
