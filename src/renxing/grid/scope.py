"""Scope: which units, communities and records of the grid an acting user reaches.

The permission table (`auth/policy.WHO_MAY`) says what a role may do; this module says where.
Every service asks both, in that order: ``actor.require(Perm.x)`` then one of the checks below.

- A unit is *in scope* when it lies inside one of the user's units (``in_scope``); writes need that.
- A unit is *visible* when it is in scope or above it (``sees``), so the tree can be walked down to
  the scope; reads of names and aggregates use that.
- A resident's scope is their own household (``actor.household_only``); the system administrator's
  is everything.
- Outside the scope a unit is 403 (its existence is not personal), a person or household 404.
"""

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.errors import FieldError, Forbidden, Invalid, NotFound
from renxing.grid.models import GridUnit, Level
from renxing.i18n import _

NOTHING = "\x00"  # no path starts with it: the clause of an empty scope


def path_of(unit_or_path: GridUnit | str) -> str:
    return unit_or_path if isinstance(unit_or_path, str) else unit_or_path.path


def in_scope(actor: Principal, unit_or_path: GridUnit | str) -> bool:
    """The unit (or a record carrying its path) lies inside the actor's units."""
    return actor.covers_path(path_of(unit_or_path))


def sees(actor: Principal, unit_or_path: GridUnit | str) -> bool:
    """In scope, or an ancestor of it (names of the units above one's own are not secret)."""
    return actor.sees_unit(path_of(unit_or_path))


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def subtree_clause(column, path: str):
    """``column`` lies in the subtree at ``path``: a range, so a plain B-tree index serves it."""
    return and_(column >= path, column < path + "\uffff")


def scope_clause(column, actor: Principal):
    """A WHERE clause keeping the rows whose path ``column`` lies in scope; None for everything."""
    if actor.is_global:
        return None
    if not actor.scope_paths:
        return column == NOTHING
    return or_(*[subtree_clause(column, p) for p in actor.scope_paths])


def visible_clause(column, actor: Principal):
    """Rows whose path is in scope or above it (communities of a street-level user, and the
    community of a user scoped to one of its areas)."""
    if actor.is_global:
        return None
    if not actor.scope_paths:
        return false()
    ancestors = {a for p in actor.scope_paths for a in _ancestor_paths(p)}
    return or_(scope_clause(column, actor), column.in_(sorted(ancestors)))


def _ancestor_paths(path: str) -> list[str]:
    ids = path_ids(path)
    return ["/" + "/".join(str(i) for i in ids[:n]) + "/" for n in range(1, len(ids))]


def unit_in_scope(session: Session, actor: Principal, unit_id: int, *, write: bool = False) -> GridUnit:
    """A unit by id: 404 when missing; 403 outside the scope (``write``: inside it, else visible)."""
    unit = session.get(GridUnit, unit_id)
    if unit is None:
        raise NotFound(_("网格单元 {unit_id} 不存在").format(unit_id=unit_id))
    allowed = in_scope(actor, unit) if write else sees(actor, unit)
    if not allowed:
        raise Forbidden(_("网格单元 {unit_id} 不在您的网格范围内").format(unit_id=unit_id))
    return unit


def community_in_scope(
    session: Session, actor: Principal, community_id: int, *, field: str = "unit_id", write: bool = False
) -> GridUnit:
    """A community named by a request field: 422 naming ``field`` when the id is not a community,
    403 when it lies outside the scope (``write``: the actor must cover it; reading: see it)."""
    unit = session.get(GridUnit, community_id)
    if unit is None or unit.level != Level.community.value:
        error = FieldError(field, _("不是社区"), value=community_id)
        raise Invalid(_("请选择社区"), [error])
    allowed = in_scope(actor, unit) if write else sees(actor, unit)
    if not allowed:
        raise Forbidden(_("社区 {community_id} 不在您的网格范围内").format(community_id=community_id))
    return unit


def community_of(session: Session, path: str) -> GridUnit | None:
    """The community a path lies in: its ancestor-or-self of level community."""
    ids = path_ids(path)
    if not ids:
        return None
    return session.scalar(select(GridUnit).where(GridUnit.id.in_(ids), GridUnit.level == Level.community.value))


def communities_in_scope(session: Session, actor: Principal) -> list[GridUnit]:
    """The communities the actor sees, in code order (a resident: their own)."""
    rows = session.scalars(select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.code))
    return [c for c in rows if sees(actor, c)]
