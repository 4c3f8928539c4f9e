"""A sent warning with its households, for the tests of acknowledgement, climbing and progress.

``sent_warning(ww)`` writes a warning to 阳光社区 (C1) of the early-warning world and starts its
reach as the sending service does (``reach.start``: one target per household of B1 and B2, one
queued delivery per household × channel), then hands back the targets by household key with
each household's acknowledgement token.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from renxing.config import get_settings
from renxing.db import transaction
from renxing.warning import reach, tokens
from renxing.warning.models import DeliveryState, WarningDelivery, WarningMessage, WarningTarget
from tests.kit.events_world import T0
from tests.kit.warning_world import WarningWorld, add_warning


@dataclass
class Sent:
    id: int
    targets: dict[str, int] = field(default_factory=dict)  # household key (H1 …) → target id
    tokens: dict[str, str] = field(default_factory=dict)  # household key → acknowledgement token

    def link(self, key: str) -> str:
        return f"/w/{self.tokens[key]}"


def sent_warning(ww: WarningWorld, *, now: datetime = T0, **kw) -> Sent:
    warning_id = add_warning(ww, sent_at=now, **kw)
    with transaction(ww.engine) as s:
        warning = s.get(WarningMessage, warning_id)
        reach.start(s, warning, now)
        by_household = {hid: key for key, hid in ww.households.items()}
        rows = s.execute(
            select(WarningTarget.id, WarningTarget.household_id).where(WarningTarget.warning_id == warning_id)
        ).all()
    sent = Sent(warning_id)
    secret = get_settings().secret_key
    for target_id, household_id in rows:
        key = by_household[household_id]
        sent.targets[key] = target_id
        sent.tokens[key] = tokens.make(secret, warning_id, target_id)
    return sent


def deliver(ww: WarningWorld, sent: Sent, state: str, *keys: str, channel: str | None = None, error=None) -> None:
    """Move the deliveries of these households (all channels, or one) to ``state``, as dispatch would."""
    ids = [sent.targets[k] for k in keys]
    with transaction(ww.engine) as s:
        stmt = update(WarningDelivery).where(WarningDelivery.target_id.in_(ids))
        if channel:
            stmt = stmt.where(WarningDelivery.channel == channel)
        attempts = 0 if state == DeliveryState.queued else 1
        s.execute(stmt.values(state=state, attempts=attempts, last_error=error))


def target(ww: WarningWorld, target_id: int) -> WarningTarget:
    with transaction(ww.engine) as s:
        return s.get(WarningTarget, target_id)


def warning(ww: WarningWorld, warning_id: int) -> WarningMessage:
    with transaction(ww.engine) as s:
        return s.get(WarningMessage, warning_id)


def deliveries(ww: WarningWorld, target_id: int) -> dict[str, str]:
    with transaction(ww.engine) as s:
        rows = s.execute(
            select(WarningDelivery.channel, WarningDelivery.state).where(WarningDelivery.target_id == target_id)
        )
        return dict(rows.all())


def later(minutes: int, start: datetime = T0) -> datetime:
    return start + timedelta(minutes=minutes)
