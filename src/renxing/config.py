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
    # Login throttling, counted on failures only, per account name and per client address: after
    # the free failures within the window each attempt waits twice as long as the last (from
    # login_delay_seconds, at most login_max_delay_seconds); at the lock threshold, locked for
    # login_lock_minutes. An address (an office behind one NAT) has higher thresholds.
    login_window_minutes: int = 15
    login_lock_minutes: int = 15
    login_free_failures: int = 3
    login_lock_failures: int = 10
    login_address_free_failures: int = 10
    login_address_lock_failures: int = 50
    login_delay_seconds: int = 1
    login_max_delay_seconds: int = 60
    # Comma list of reverse proxies whose X-Forwarded-For is believed (e.g. "127.0.0.1"); otherwise
    # the client address is the connection's own.
    trusted_proxies: str = ""
    # Uploaded photos of reports (and later other media), relative to the working directory.
    media_dir: str = "var/media"
    # What one request may make the server hold. A photo's pixel count is read from its header and
    # refused above max_image_pixels before anything is decoded; stored photos are scaled down to
    # photo_max_side on their long side. Request bodies above max_body_bytes are refused (413) while
    # they arrive (2 MB of JSON already unpacks to some 50 MB of objects); routes that take photos
    # or import files allow what those need. An .xlsx may unpack to max_import_uncompressed_bytes.
    max_image_pixels: int = 40_000_000
    photo_max_side: int = 2048
    max_body_bytes: int = 2 * 1024 * 1024
    max_import_bytes: int = 20 * 1024 * 1024
    max_import_uncompressed_bytes: int = 50 * 1024 * 1024
    # Run the escalation sweep inside the web process every ``sweep_seconds`` (off in tests;
    # production may run ``renxing events sweep --loop 60`` instead).
    scheduler: bool = False
    sweep_seconds: int = 60
    dispatch_seconds: int = 5  # warnings' deliveries are sent this often when the scheduler is on
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
    # Optional basemap tiles under the risk map (e.g. https://tile.example/{z}/{x}/{y}.png); without it the
    # map shows our own vector layers only and works offline. gcj02 when the provider's tiles use GCJ-02.
    basemap_url: str | None = None
    basemap_crs: str = "wgs84"
    basemap_attribution: str = ""
    # Shelters: area per person by class (GB 21734-2008 asks for more than 1.5 m² of living area per
    # person; longer stays get more room, as in GB 51143-2015). A shelter's own per_person_m2 wins.
    shelter_m2_per_person_I: float = 3.0
    shelter_m2_per_person_II: float = 2.0
    shelter_m2_per_person_III: float = 1.5
    # 让防避 checks: the narrowest acceptable emergency passage, how close a road must come to a
    # shelter's boundary to count as an access road, and the radius of shelters serving an area.
    passage_min_width_m: float = 4.0
    shelter_access_m: float = 20.0
    shelter_service_radius_m: float = 500.0  # an emergency shelter serves a 500 m walk (GB 51143-2015)
    # Drills and trainings: targets over a rolling 12 months (the paper's Chengdu H community: over
    # 90 % of residents reached, 140+ activities a year); a building below ``drill_lag_ratio`` of the
    # reach target is listed as lagging. Sign-in by QR opens before the start and closes after the
    # end; staff may record attendance (forms, lists) for some days after.
    drill_reach_target: float = 0.9
    drill_activity_target: int = 140
    drill_lag_ratio: float = 0.85
    drill_signin_open_minutes: int = 30
    drill_signin_close_minutes: int = 120
    drill_record_days: int = 30
    # Retention (docs/security.md): audit entries are kept three years (the Cybersecurity Law asks
    # for at least six months of logs); a resident removed from the register is anonymised after
    # this many days, unless restored. Applied by `renxing privacy purge`.
    audit_retention_days: int = 1095
    deleted_resident_days: int = 180
    # Care for the vulnerable: in an emergency (a heat wave, an epidemic) every care plan is visited
    # daily; carers proposed within this walk; a grid worker's care limit when they are the carer.
    care_emergency_mode: bool = False
    care_max_distance_m: float = 2000.0
    care_grid_worker_max: int = 30
    # Sensors. Readings arrive over HTTP batches and, when ``mqtt_url`` is set (mqtt://host:1883,
    # mqtt://user:password@host:port), from a broker on ``mqtt_topic`` ({device} is the device code).
    # A reading more than ``sensor_future_seconds`` ahead of the server's clock is refused; a device
    # is offline once silent for ``sensor_offline_factor`` × its interval.
    mqtt_url: str | None = None
    mqtt_topic: str = "renxing/sensors/{device}/readings"
    mqtt_client_id: str = "renxing"
    sensor_batch_max: int = 10_000
    sensor_future_seconds: int = 300
    sensor_offline_factor: float = 3.0
    # Early warning. CAP messages the platform sends name ``cap_sender``; incoming feeds are polled
    # at their own interval. Channels of a warning: in_app, sms, voice, email, log; the SMS and voice
    # gateways are HTTP endpoints (JSON in, JSON out), their delivery receipts signed with
    # ``gateway_secret``. A failed delivery is retried ``delivery_attempts`` times.
    cap_sender: str = "renxing@localhost"
    warning_channels: str = "in_app,sms"
    sms_gateway_url: str | None = None
    voice_gateway_url: str | None = None
    gateway_secret: str | None = None
    delivery_attempts: int = 3


@lru_cache
def get_settings() -> Settings:
    return Settings()
