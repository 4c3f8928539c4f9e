"""Who may see and move which storage points: the grid scope, and for partners their own sites.

A point lies at a grid path (its community, or the building of a household-kit point). Staff and
street administrators work on the points inside their scope; grid workers and building leaders on
the household kits of their buildings, and they may read the community's stores above them. A
partner's account sees and moves only the points of the organizations it speaks for, wherever
its grid scope lies.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, false
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.errors import Forbidden, NotFound
from renxing.grid.scope import in_scope, sees, visible_clause
from renxing.i18n import _
from renxing.partners.directory import organizations_of_account
from renxing.supplies.models import StoragePoint


def local_day(at: datetime) -> date:
    """The calendar day of a moment where the platform runs (expiry is a local date)."""
    return at.astimezone(ZoneInfo(get_settings().timezone)).date()


def partner_orgs(session: Session, actor: Principal) -> list[int] | None:
    """The organizations a partner's account speaks for; None for every other role."""
    if actor.role is not Role.partner or actor.is_system:
        return None
    key = ("supplies.partner_orgs", actor.user_id)
    cached = session.info.get(key)
    if cached is None:
        cached = session.info[key] = organizations_of_account(session, actor.user_id)
    return cached


def points_clause(session: Session, actor: Principal) -> ColumnElement[bool] | None:
    """What narrows a query of points to those the actor may read (None: everything)."""
    orgs = partner_orgs(session, actor)
    if orgs is not None:
        return StoragePoint.org_id.in_(orgs) if orgs else false()
    return visible_clause(StoragePoint.path, actor)


def narrow(session: Session, actor: Principal, stmt: Select) -> Select:
    clause = points_clause(session, actor)
    return stmt if clause is None else stmt.where(clause)


def may_read(session: Session, actor: Principal, point: StoragePoint) -> bool:
    orgs = partner_orgs(session, actor)
    if orgs is not None:
        return point.org_id in orgs
    return sees(actor, point.path)


def may_write(session: Session, actor: Principal, point: StoragePoint) -> bool:
    orgs = partner_orgs(session, actor)
    if orgs is not None:
        return point.org_id in orgs
    return in_scope(actor, point.path)


def load_point(session: Session, actor: Principal, point_id: int, *, write: bool = False) -> StoragePoint:
    """The point, if the actor may read it (and move its stock when ``write``)."""
    actor.require(Perm.supplies_move if write else Perm.supplies_read)
    point = session.get(StoragePoint, point_id)
    if point is None or not may_read(session, actor, point):
        raise NotFound(_("储备点 {point_id} 不存在").format(point_id=point_id))
    if write and not may_write(session, actor, point):
        raise Forbidden(_("不在您的管理范围内"))
    return point
