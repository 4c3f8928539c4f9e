"""The channels a warning reaches households on: plug-ins behind one small interface.

A channel has a ``name``, says which address it ``needs`` (a phone, e-mail addresses, or none)
and ``send``\\ s a batch of :class:`Outgoing` messages, answering one :class:`Outcome` per message:
``sent`` (handed on; a receipt or the household will say more), ``delivered``, or ``failed``
(retried unless ``retry`` is false). Channels touch no database; ``dispatch`` claims the
deliveries, looks the addresses up, calls :meth:`send` outside any transaction and records the
outcomes.

- ``log``: development; logs the delivery (never an address) and counts it delivered.
- ``in_app``: the residents of the household see the warning in the app: sent at once, delivered
  when one of them opens it (:func:`opened`).
- ``sms``, ``voice``: an HTTP gateway (``Settings.sms_gateway_url``, ``voice_gateway_url``).
  Request: ``POST`` JSON ``{"messages": [{"ref": "<delivery id>", "to": "<phone>", "text": "…"}]}``
  (at most :data:`GATEWAY_BATCH` messages). Answer: 2xx with JSON ``{"results": [{"ref": "<delivery
  id>", "id": "<gateway id>", "status": "accepted" | "rejected", "error": "…"}]}``; accepted → sent
  (the gateway id kept for its receipts), rejected → failed with its error, a message the answer
  does not mention → failed. Any other answer, a timeout or a refused connection fails the batch.
  The gateway then posts delivery receipts to ``/api/v1/warning/gateway/receipts``
  (``gateway_receipts``).
- ``email``: SMTP with the settings notify uses (``RENXING_SMTP_*``), to the addresses the
  household's accounts gave notify; one connection per batch.
"""

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from renxing.config import Settings
from renxing.warning.models import DeliveryState, WarningDelivery, WarningTarget

log = logging.getLogger("renxing.warning")
NAMES = ("in_app", "sms", "voice", "email", "log")
GATEWAY_BATCH = 500
TIMEOUT = 10.0
ERROR_MAX = 300  # the column's length


@dataclass(frozen=True)
class Outgoing:
    """One household's copy of a warning on one channel."""

    delivery_id: int
    household_id: int
    to: tuple[str, ...]  # the phone, or e-mail addresses; empty when the channel needs none
    subject: str
    text: str


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    state: str  # sent | delivered | failed
    gateway_ref: str | None = None
    error: str | None = None
    retry: bool = True  # a failure worth another attempt


class Channel(Protocol):
    name: str
    needs: str | None  # "phone", "email" or None

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]: ...


def _error(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else f"{exc.__class__.__name__}: {exc}"
    return text[:ERROR_MAX]


class LogChannel:
    name = "log"
    needs = None

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        for m in batch:
            log.info("warning delivery %s to household %s: %s", m.delivery_id, m.household_id, m.subject)
        return [Outcome(m.delivery_id, DeliveryState.delivered) for m in batch]


class InAppChannel:
    name = "in_app"
    needs = None

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        return [Outcome(m.delivery_id, DeliveryState.sent) for m in batch]


class GatewayChannel:
    """SMS or voice through an HTTP gateway (the contract is in the module's docstring)."""

    needs = "phone"

    def __init__(self, name: str, url: str | None, client: httpx.Client | None = None) -> None:
        self.name = name
        self.url = url
        self.client = client

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        out: list[Outcome] = []
        for start in range(0, len(batch), GATEWAY_BATCH):
            out += self._post(batch[start : start + GATEWAY_BATCH])
        return out

    def _post(self, chunk: Sequence[Outgoing]) -> list[Outcome]:
        if not self.url:
            return [Outcome(m.delivery_id, DeliveryState.failed, error=f"no {self.name} gateway") for m in chunk]
        body = {"messages": [{"ref": str(m.delivery_id), "to": m.to[0], "text": m.text} for m in chunk]}
        try:
            if self.client is not None:
                answer = self.client.post(self.url, json=body, timeout=TIMEOUT)
            else:
                answer = httpx.post(self.url, json=body, timeout=TIMEOUT)
            answer.raise_for_status()
            results = answer.json()["results"]
            by_ref = {str(r["ref"]): r for r in results if isinstance(r, dict) and "ref" in r}
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s gateway failed a batch of %s: %s", self.name, len(chunk), _error(exc))
            return [Outcome(m.delivery_id, DeliveryState.failed, error=_error(exc)) for m in chunk]
        return [self._outcome(m, by_ref.get(str(m.delivery_id))) for m in chunk]

    def _outcome(self, m: Outgoing, result: dict | None) -> Outcome:
        if result is None:
            return Outcome(m.delivery_id, DeliveryState.failed, error="not in the gateway's answer")
        if result.get("status") == "accepted" and result.get("id"):
            return Outcome(m.delivery_id, DeliveryState.sent, gateway_ref=str(result["id"])[:120])
        return Outcome(m.delivery_id, DeliveryState.failed, error=_error(str(result.get("error") or "rejected")))


class EmailChannel:
    name = "email"
    needs = "email"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        s = self.settings
        out: list[Outcome] = []
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=TIMEOUT) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password or "")
                for m in batch:
                    out.append(self._one(smtp, m))
        except (OSError, smtplib.SMTPException) as exc:
            done = {o.delivery_id for o in out}
            out += [
                Outcome(m.delivery_id, DeliveryState.failed, error=_error(exc))
                for m in batch
                if m.delivery_id not in done
            ]
        return out

    def _one(self, smtp: smtplib.SMTP, m: Outgoing) -> Outcome:
        mail = EmailMessage()
        mail["Subject"] = m.subject
        mail["From"] = self.settings.smtp_from
        mail["To"] = ", ".join(m.to)
        mail.set_content(m.text)
        try:
            smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return Outcome(m.delivery_id, DeliveryState.failed, error=_error(exc), retry=False)
        except smtplib.SMTPException as exc:
            return Outcome(m.delivery_id, DeliveryState.failed, error=_error(exc))
        return Outcome(m.delivery_id, DeliveryState.sent)


def channel(name: str, settings: Settings) -> Channel:
    """The plug-in of a channel name (one of :data:`NAMES`)."""
    if name == "log":
        return LogChannel()
    if name == "in_app":
        return InAppChannel()
    if name == "sms":
        return GatewayChannel("sms", settings.sms_gateway_url)
    if name == "voice":
        return GatewayChannel("voice", settings.voice_gateway_url)
    if name == "email":
        return EmailChannel(settings)
    raise KeyError(name)


def opened(session: Session, household_id: int, now: datetime, *, warning_id: int | None = None) -> int:
    """A resident of the household opened the app's warnings (or one warning): its in-app copies
    that were sent become delivered (never backwards: acknowledged ones stay). How many moved."""
    targets = select(WarningTarget.id).where(WarningTarget.household_id == household_id)
    if warning_id is not None:
        targets = targets.where(WarningTarget.warning_id == warning_id)
    moved = session.execute(
        update(WarningDelivery)
        .where(
            WarningDelivery.target_id.in_(targets),
            WarningDelivery.channel == "in_app",
            WarningDelivery.state.in_((DeliveryState.queued, DeliveryState.sent)),
        )
        .values(state=DeliveryState.delivered, updated_at=now, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    return moved.rowcount or 0
