"""Small reads and names that every use case of the closed loop shares.

    actor_label(actor), user_label(user)     how a person is named on a timeline ("网格员 孙网格")
    report_link(report_id)                   where a report is read
    category_of, minutes_of, state_labels    a category, the deadlines of a severity, the states' names
    active_users(session, ids)               the active accounts among some user ids
    invalid_from(exc)                        a pydantic validation error as the app's 422

None of them checks rights: the use cases calling them have.
"""

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.models import User
from renxing.auth.policy import ROLE_LABELS, Role
from renxing.auth.principal import Principal
from renxing.errors import FieldError, Invalid
from renxing.events.deadlines import Minutes
from renxing.events.models import EventCategory, ReportState, SeverityDeadline
from renxing.i18n import _, in_each_lang


def invalid_from(exc: ValidationError) -> Invalid:
    """Each of pydantic's errors as a field error of one Invalid (422)."""
    errors = [FieldError(".".join(str(p) for p in e["loc"]) or "request", e["msg"], None, None) for e in exc.errors()]
    return Invalid(_("输入有误"), errors)


def actor_label(actor: Principal) -> str:
    """The acting user as timelines show them: their role's Chinese name and theirs (stored text)."""
    if actor.is_system:
        return "系统"
    return f"{in_each_lang(ROLE_LABELS[actor.role])['zh']} {actor.display_name or actor.username}"


def user_label(user: User) -> str:
    return f"{in_each_lang(ROLE_LABELS[Role(user.role)])['zh']} {user.display_name}"


def report_link(report_id: int) -> str:
    return f"/reports/{report_id}"


def category_of(session: Session, code: str) -> EventCategory | None:
    return session.scalar(select(EventCategory).where(EventCategory.code == code))


def minutes_of(session: Session, severity: str) -> Minutes:
    row = session.get(SeverityDeadline, severity)
    if row is None:  # a severity removed after the report was filed: the "normal" pace
        return Minutes(120, 1440, 4320)
    return Minutes(row.accept_minutes, row.on_site_minutes, row.resolve_minutes)


def state_labels(session: Session) -> dict[str, tuple[str, str]]:
    return {s.code: (s.label_zh, s.label_en) for s in session.scalars(select(ReportState))}


def active_users(session: Session, ids: set[int]) -> dict[int, User]:
    """The active accounts among ``ids``, by id."""
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids), User.is_active.is_(True)))}
