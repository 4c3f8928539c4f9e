"""A resident's warnings: the household's side of the in-app channel.

A resident (role resident: their scope is their household) sees the sent warnings whose targets
include their household, newest first: those still in force, that is not expired and not
superseded by a sent Update or Cancel (the newer message shows in their place, as climbing counts
them); a Cancel shows as lifted. Each comes with where the household's acknowledgement stands and
its one-tap link (``tokens``), the same link the SMS carries.

Reading them is opening them: the household's in-app copies that were queued or sent become
delivered (``channels.opened``), never backwards, so an acknowledged copy stays acknowledged. The
query starts from the warnings in force (a handful at any moment) and reaches the household's
target through its unique (warning, household) key, so a home page costs no scan of the targets;
nothing is written when every copy shown is already delivered or acknowledged.

Anyone else gets nothing: ``mine`` refuses them (403, for the API), ``mine_if_resident`` and
``banners`` answer an empty list (pages).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import Forbidden
from renxing.i18n import _
from renxing.warning import channels, tokens
from renxing.warning.models import DeliveryState, WarningDelivery, WarningMessage, WarningStatus, WarningTarget

SUPERSEDING = ("Update", "Cancel")
MAX_SHOWN = 50  # warnings in force for one household at once: a handful; this bounds a forgotten one
UNOPENED = (DeliveryState.queued.value, DeliveryState.sent.value)


@dataclass(frozen=True)
class MineItem:
    """One warning as the household's residents see it."""

    warning_id: int
    target_id: int
    msg_type: str  # Alert, Update, Cancel
    level: str
    event: str
    headline: str
    description: str
    instruction: str | None
    exercise: bool
    sent_at: datetime | None
    expires: datetime | None
    acknowledged_at: datetime | None
    ack_how: str | None  # link, call, door, app
    in_app: str | None  # the in-app copy's state once opened (None: not sent in the app)
    token: str

    @property
    def lifted(self) -> bool:
        """The Cancel of a warning: it is over (acknowledged all the same, as its link asks)."""
        return self.msg_type == "Cancel"

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def path(self) -> str:
        """The household's acknowledgement page on this site."""
        return f"/w/{self.token}"

    def link(self, public_url: str) -> str:
        """The same link as the SMS and e-mail carry."""
        return f"{public_url.rstrip('/')}{self.path}"


def is_resident(actor: Principal) -> bool:
    """Whether the actor reads a household's warnings: a resident with a household."""
    return actor.household_only and actor.household_id is not None


def _superseded():
    newer = aliased(WarningMessage)
    return exists().where(
        newer.references_id == WarningMessage.id,
        newer.msg_type.in_(SUPERSEDING),
        newer.status == WarningStatus.sent.value,
    )


def _rows(session: Session, household_id: int, now: datetime) -> list:
    in_force = (
        select(
            WarningMessage.id,
            WarningMessage.msg_type,
            WarningMessage.level,
            WarningMessage.event,
            WarningMessage.headline,
            WarningMessage.description,
            WarningMessage.instruction,
            WarningMessage.exercise,
            WarningMessage.sent_at,
            WarningMessage.expires,
            WarningTarget.id.label("target_id"),
            WarningTarget.acknowledged_at,
            WarningTarget.ack_how,
            WarningDelivery.state.label("in_app"),
        )
        .join(
            WarningTarget,
            and_(WarningTarget.warning_id == WarningMessage.id, WarningTarget.household_id == household_id),
        )
        .outerjoin(
            WarningDelivery,
            and_(WarningDelivery.target_id == WarningTarget.id, WarningDelivery.channel == "in_app"),
        )
        .where(
            WarningMessage.status == WarningStatus.sent.value,
            or_(WarningMessage.expires.is_(None), WarningMessage.expires > now),
            ~_superseded(),
        )
        .order_by(WarningMessage.sent_at.desc(), WarningMessage.id.desc())
        .limit(MAX_SHOWN)
    )
    return list(session.execute(in_force))


def _item(row, secret: str, in_app: str | None) -> MineItem:
    return MineItem(
        warning_id=row.id,
        target_id=row.target_id,
        msg_type=row.msg_type,
        level=row.level,
        event=row.event,
        headline=row.headline,
        description=row.description,
        instruction=row.instruction,
        exercise=bool(row.exercise),
        sent_at=row.sent_at,
        expires=row.expires,
        acknowledged_at=row.acknowledged_at,
        ack_how=row.ack_how,
        in_app=in_app,
        token=tokens.make(secret, row.id, row.target_id),
    )


def mine(session: Session, actor: Principal, *, now: datetime | None = None) -> list[MineItem]:
    """The warnings in force for the resident's household, newest first, opened as they are read:
    the in-app copies still queued or sent become delivered. Anyone but a resident: 403."""
    if not actor.household_only:
        raise Forbidden(_("只有居民账号可以查看本户收到的预警"))
    if actor.household_id is None:
        return []
    now = now or utcnow()
    household_id = actor.household_id
    secret = get_settings().secret_key
    items: list[MineItem] = []
    for row in _rows(session, household_id, now):
        state = row.in_app
        if state in UNOPENED:
            channels.opened(session, household_id, now, warning_id=row.id)
            state = DeliveryState.delivered.value
        items.append(_item(row, secret, state))
    return items


def mine_if_resident(session: Session, actor: Principal, *, now: datetime | None = None) -> list[MineItem]:
    """As :func:`mine` for a resident; nothing for anyone else (pages show them an empty list)."""
    return mine(session, actor, now=now) if is_resident(actor) else []


def banners(session: Session, actor: Principal, *, now: datetime | None = None) -> list[MineItem]:
    """What the resident's home page puts first: the warnings in force not yet acknowledged,
    newest first (a lifted one too: its Cancel asks to be acknowledged like any other)."""
    return [item for item in mine_if_resident(session, actor, now=now) if not item.acknowledged]
