"""Who holds which account: plain reads other domains make about users, without their tables.

No permission check here: the calling service has checked its own (a partner register checking
that an account is a partner's, the evaluation finding the reports a resident filed).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.models import User, UserScope
from renxing.grid.models import GridUnit


def account_role(session: Session, user_id: int) -> str | None:
    """The role of an account, or None when there is no such account."""
    return session.scalar(select(User.role).where(User.id == user_id))


def accounts_of_resident(session: Session, resident_id: int) -> list[int]:
    """The ids of the accounts linked to a resident of the register (usually one, or none)."""
    return list(session.scalars(select(User.id).where(User.resident_id == resident_id).order_by(User.id)))


def staff_covering(session: Session, path: str, roles: tuple[str, ...] = ("community_staff",)) -> list[int]:
    """The active accounts of these roles whose scope covers the unit at ``path`` (whom a notice
    about a place goes to)."""
    prefixes = [f"{path[: i + 1]}" for i, ch in enumerate(path) if ch == "/" and i > 0]
    if not prefixes:
        return []
    stmt = (
        select(User.id)
        .join(UserScope, UserScope.user_id == User.id)
        .join(GridUnit, GridUnit.id == UserScope.unit_id)
        .where(User.role.in_(roles), User.is_active.is_(True), GridUnit.path.in_(prefixes))
        .distinct()
        .order_by(User.id)
    )
    return list(session.scalars(stmt))
