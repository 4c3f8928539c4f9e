"""The two-person rule (双人审核) for serious warnings, and the decisions on a draft.

"Send" on a draft sends it at once when its colour needs no approval (blue and yellow in the
default table) or it is an exercise; otherwise (orange, red: ``needs_approval`` in the colour
table) it waits as ``pending`` and the other staff covering the place are asked
(``warning.proposed`` with ``approval``). A different staff member (``warnings_approve``) approves
— it is sent then — or refuses it with a reason; the composer deciding on their own warning is
refused (403). The composer may withdraw a draft or a pending warning. Each step is audited.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth import directory as accounts
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Conflict, Forbidden
from renxing.i18n import _
from renxing.signals.bus import publish
from renxing.signals.catalog import WarningProposed
from renxing.warning import access, sending
from renxing.warning.models import WarningMessage, WarningStatus

APPROVER_ROLES = (Role.community_staff.value, Role.street_admin.value)


def needs_approval(session: Session, warning: WarningMessage) -> bool:
    """Whether a second staff member must approve it: the colour says so, unless it is a drill."""
    return not warning.exercise and bool(sending.level_row(session, warning.level).needs_approval)


def approvers(session: Session, warning: WarningMessage) -> tuple[int, ...]:
    """Who is asked to approve: the staff covering the warned place, but not its composer."""
    found = accounts.staff_covering(session, warning.path, APPROVER_ROLES)
    return tuple(u for u in found if u != warning.created_by)


def submit(session: Session, actor: Principal, warning: WarningMessage, now: datetime) -> WarningMessage:
    """Send the warning, or put it before a second staff member (the caller checked permission,
    scope and that it is a draft)."""
    if warning.created_by is None:
        warning.created_by = actor.user_id  # a proposed draft: whoever sends it is its composer
    warning.submitted_at = now
    if not needs_approval(session, warning):
        return sending.send_now(session, actor, warning, now)
    warning.status = WarningStatus.pending.value
    session.flush()
    audit.record(session, actor, "submit", "warning", warning.id, after={"status": warning.status})
    publish(
        session,
        WarningProposed(
            warning_id=warning.id,
            level=warning.level,
            headline=warning.headline,
            approval=True,
            recipients=approvers(session, warning),
            link=sending.link(warning.id),
        ),
    )
    return warning


def send(session: Session, actor: Principal, warning_id: int, now: datetime | None = None) -> WarningMessage:
    """The composer's "send" on a draft: sent now, or pending a second person's approval."""
    actor.require(Perm.warnings_compose)
    warning = access.warning_in_scope(session, actor, warning_id, write=True)
    if warning.status != WarningStatus.draft.value:
        raise Conflict(_("只有草稿可以发送（当前状态：{status}）").format(status=warning.status))
    return submit(session, actor, warning, now or utcnow())


def _pending(session: Session, actor: Principal, warning_id: int) -> WarningMessage:
    actor.require(Perm.warnings_approve)
    warning = access.warning_in_scope(session, actor, warning_id, write=True)
    if warning.status != WarningStatus.pending.value:
        raise Conflict(_("该预警不在待审核状态（当前状态：{status}）").format(status=warning.status))
    if actor.user_id is not None and actor.user_id == warning.created_by:
        raise Forbidden(_("不能审核自己起草的预警：橙色、红色预警须由另一位工作人员审核"))
    return warning


def approve(session: Session, actor: Principal, warning_id: int, now: datetime | None = None) -> WarningMessage:
    """A second staff member approves: the warning is sent."""
    warning = _pending(session, actor, warning_id)
    now = now or utcnow()
    warning.approved_by = actor.user_id
    warning.decided_at = now
    audit.record(session, actor, "approve", "warning", warning.id, after={"approved_by": actor.user_id})
    return sending.send_now(session, actor, warning, now)


def refuse(
    session: Session, actor: Principal, warning_id: int, reason: str, now: datetime | None = None
) -> WarningMessage:
    """A second staff member refuses, saying why: the warning is not sent (the composer may
    compose it again)."""
    warning = _pending(session, actor, warning_id)
    warning.status = WarningStatus.rejected.value
    warning.decided_at = now or utcnow()
    warning.decision_note = reason
    session.flush()
    audit.record(session, actor, "refuse", "warning", warning.id, summary=reason, after={"status": warning.status})
    return warning


def withdraw(session: Session, actor: Principal, warning_id: int) -> WarningMessage:
    """Take back a draft or a pending warning before it is sent."""
    actor.require(Perm.warnings_compose)
    warning = access.warning_in_scope(session, actor, warning_id, write=True)
    if warning.status not in (WarningStatus.draft.value, WarningStatus.pending.value):
        raise Conflict(_("只有草稿或待审核的预警可以撤回"))
    warning.status = WarningStatus.withdrawn.value
    session.flush()
    audit.record(session, actor, "withdraw", "warning", warning.id, after={"status": warning.status})
    return warning
