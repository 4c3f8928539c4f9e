"""Settings, read from ``RENXING_*`` environment variables."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RENXING_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{Path('var/renxing.db').resolve()}"
    # Signs nothing secret-bearing by itself (sessions are random server-side tokens),
    # but is used to derive CSRF tokens; override in production.
    secret_key: str = "dev-only-change-me"
    session_hours: int = 12
    token_hours: int = 24
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh"
    page_size: int = 50
    max_page_size: int = 500
    cookie_secure: bool = False
    # Uploaded photos of reports (and later other media), relative to the working directory.
    media_dir: str = "var/media"
    # Run the escalation sweep inside the web process every ``sweep_seconds`` (off in tests;
    # production may run ``renxing events sweep --loop 60`` instead).
    scheduler: bool = False
    sweep_seconds: int = 60
    # Notification channels besides the in-app inbox: comma list of log, email, webhook.
    notify_channels: str = "log"
    public_url: str = "http://127.0.0.1:8000"  # links in e-mails and webhooks
    # Open311: a jurisdiction_id that stands for the whole installation (besides each street's code).
    open311_jurisdiction: str | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "renxing@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = None  # signs each body (HMAC-SHA256 in X-Renxing-Signature)


@lru_cache
def get_settings() -> Settings:
    return Settings()
