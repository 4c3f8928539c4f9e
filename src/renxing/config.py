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


@lru_cache
def get_settings() -> Settings:
    return Settings()
