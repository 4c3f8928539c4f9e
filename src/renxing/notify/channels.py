"""External channels: each sends one message or raises. No database.

- ``log``: writes the message to the ``renxing.notify`` logger (the development default).
- ``email``: SMTP with :mod:`smtplib` (``RENXING_SMTP_HOST``, ``_PORT``, ``_FROM``, optional
  ``_USER``/``_PASSWORD`` and ``_STARTTLS``).
- ``webhook``: an HTTP POST of the message as JSON; with ``RENXING_WEBHOOK_SECRET`` the body
  is signed, ``X-Renxing-Signature: sha256=<hex HMAC of the body>``.
"""

import hashlib
import hmac
import json
import logging
import smtplib
import urllib.request
from email.message import EmailMessage
from typing import Any

from renxing.config import Settings

log = logging.getLogger("renxing.notify")
CHANNELS = ("log", "email", "webhook")
TIMEOUT = 10


def enabled(settings: Settings) -> list[str]:
    wanted = [c.strip() for c in settings.notify_channels.split(",") if c.strip()]
    return [c for c in wanted if c in CHANNELS]


def send_log(message: dict[str, Any]) -> None:
    log.info("notify user=%s %s %s", message.get("user_id"), message.get("title"), message.get("link") or "")


def send_email(settings: Settings, to: str, message: dict[str, Any]) -> None:
    mail = EmailMessage()
    mail["Subject"] = message["title"]
    mail["From"] = settings.smtp_from
    mail["To"] = to
    lines = [message.get("body") or message["title"]]
    if message.get("url"):
        lines += ["", message["url"]]
    mail.set_content("\n".join(lines))
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(mail)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(settings: Settings, url: str, message: dict[str, Any]) -> None:
    body = json.dumps(message, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "renxing-notify"}
    if settings.webhook_secret:
        headers["X-Renxing-Signature"] = sign(settings.webhook_secret, body)
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
        if resp.status >= 300:
            raise OSError(f"webhook answered {resp.status}")
