"""Updates and cancellations (更新、解除) of a sent warning.

A sent warning is never changed. An Update or a Cancel is a new warning copying the latest message
of the chain (its area, channels, exercise and public flags), with ``references_id`` pointing at
that message; when sent, its CAP ``<references>`` quote every earlier message of the chain. It
goes through the same rule as an Alert: at orange and red a second staff member approves it,
unless it is an exercise. A cancelled chain takes no further messages.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector, Conflict
from renxing.i18n import _
from renxing.warning import access, approving, composing, sending
from renxing.warning.models import WarningMessage, WarningStatus
from renxing.warning.schemas import CancelIn, UpdateIn

CANCEL_PREFIX = "解除："  # the CAP message's zh-CN headline of a Cancel
COPIED = (
    "exercise",
    "level",
    "event",
    "category",
    "headline",
    "description",
    "instruction",
    "unit_id",
    "path",
    "polygon",
    "area_desc",
    "effective",
    "expires",
    "channels",
    "public",
    "trigger_id",
    "incoming_alert_id",
)


def latest_of(session: Session, actor: Principal, warning_id: int) -> WarningMessage:
    """The latest sent message of the warning's chain, which a new message follows."""
    actor.require(Perm.warnings_compose)
    warning = access.warning_in_scope(session, actor, warning_id, write=True)
    if warning.status != WarningStatus.sent.value:
        raise Conflict(_("只有已发出的预警可以更新或解除"))
    sent = sending.chain(session, warning)
    if any(w.msg_type == "Cancel" for w in sent):
        raise Conflict(_("该预警已解除，不能再更新或解除"))
    return sent[-1]


def _follow(session: Session, actor: Principal, latest: WarningMessage, msg_type: str, **changes) -> WarningMessage:
    values = {key: getattr(latest, key) for key in COPIED}
    values.update({k: v for k, v in changes.items() if v is not None})
    values["channels"] = list(values["channels"] or [])
    warning = WarningMessage(
        identifier=composing.provisional_identifier(),
        msg_type=msg_type,
        references_id=latest.id,
        status=WarningStatus.draft.value,
        created_by=actor.user_id,
        created_at=utcnow(),
        **values,
    )
    session.add(warning)
    session.flush()
    audit.record(session, actor, "create", "warning", warning.id, after=audit.snapshot(warning))
    return warning


def update(
    session: Session, actor: Principal, warning_id: int, data: UpdateIn, now: datetime | None = None
) -> WarningMessage:
    """Send an Update of a sent warning (or put it before a second staff member)."""
    latest = latest_of(session, actor, warning_id)
    now = now or utcnow()
    errors = Collector()
    composing.check_times(latest.effective, data.expires, errors)
    errors.raise_if_any()
    changes = data.model_dump(exclude_unset=True)
    warning = _follow(session, actor, latest, "Update", **changes)
    return approving.submit(session, actor, warning, now)


def cancel(
    session: Session, actor: Principal, warning_id: int, data: CancelIn, now: datetime | None = None
) -> WarningMessage:
    """Send a Cancel (解除) of a sent warning: its households are told it is over."""
    latest = latest_of(session, actor, warning_id)
    now = now or utcnow()
    headline = (CANCEL_PREFIX + latest.headline)[:200]
    warning = _follow(session, actor, latest, "Cancel", headline=headline, description=data.description)
    warning.instruction = None
    return approving.submit(session, actor, warning, now)
