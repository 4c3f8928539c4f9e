"""Read-only lookups the closed-loop pages need besides :mod:`renxing.events.queries`: where a
user may place a report (buildings, map outlines), the names of places, one's own reports,
the people a report can be handed to, and the options of the overview's filters.

Nothing here writes; every function keeps to what the user may see (their scope, their
community for a resident, the reports :func:`renxing.events.access.visible_clause` lets through).
"""

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from renxing.auth.models import User, UserScope
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.events import access
from renxing.events.models import EventCategory, Report, ReportFollower
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import NOTHING, path_ids, subtree_clause
from renxing.listing import ListQuery, ListSpec, Page, list_page

MAX_BUILDINGS = 3000  # a select beyond this is no help: the map is the way then
MAX_SHAPES = 2500
MAX_PEOPLE = 300
OUTLINE_LEVELS = (Level.community.value, Level.compound.value, Level.area.value)


def is_event_staff(actor: Principal | None) -> bool:
    """Grid roles that work reports in their scope: the overview, the dashboard, the export."""
    return actor is not None and actor.can(Perm.reports_work)


def category_labels(session: Session) -> dict[str, tuple[str, str]]:
    return {c.code: (c.name_zh, c.name_en) for c in session.scalars(select(EventCategory))}


def _prefix(ids: list[int]) -> str:
    return "/" + "".join(f"{i}/" for i in ids)


def regions(session: Session, actor: Principal) -> list[str] | None:
    """Grid paths a user reports in: a resident's community, else the scope; None is everywhere."""
    if actor.is_global or actor.is_system:
        return None
    if actor.household_only:
        hh = session.get(Household, actor.household_id) if actor.household_id is not None else None
        if hh is None:
            return []
        ids = path_ids(hh.path)
        # The community is the second level of the tree (street → community).
        return [_prefix(ids[:2])] if len(ids) >= 2 else [_prefix(ids)]
    return list(actor.scope_paths)


def _in(column, paths: list[str] | None):
    """Rows inside any of the subtrees (a resident's community, or the scope); None for everywhere."""
    if paths is None:
        return None
    if not paths:
        return column == NOTHING
    return or_(*[subtree_clause(column, p) for p in paths])


@dataclass(frozen=True)
class BuildingChoice:
    id: int
    name: str
    group: str  # the area (or compound) it belongs to, for <optgroup>


def building_choices(session: Session, actor: Principal) -> list[BuildingChoice]:
    """Buildings a user may pick as the place of a report, grouped by their parent unit."""
    parent = aliased(GridUnit)
    stmt = (
        select(GridUnit.id, GridUnit.name, parent.name)
        .outerjoin(parent, parent.id == GridUnit.parent_id)
        .where(GridUnit.level == Level.building.value)
        .order_by(GridUnit.path)
        .limit(MAX_BUILDINGS)
    )
    clause = _in(GridUnit.path, regions(session, actor))
    if clause is not None:
        stmt = stmt.where(clause)
    return [BuildingChoice(i, name, group or "") for i, name, group in session.execute(stmt)]


def own_place(session: Session, actor: Principal) -> tuple[int, str] | None:
    """A resident's household: (building id, "1栋 1单元101室")."""
    if actor.household_id is None:
        return None
    hh = session.get(Household, actor.household_id)
    if hh is None:
        return None
    building = session.get(GridUnit, hh.building_id)
    name = building.name if building else ""
    return hh.building_id, f"{name} {hh.unit_no}单元{hh.room}室".strip()


def _geometry(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def map_layers(
    session: Session, actor: Principal, *, levels: tuple[str, ...] = (*OUTLINE_LEVELS, Level.building.value)
) -> list[dict[str, Any]]:
    """Our own vector layer for the maps: the outlines (or points) of the grid units in reach."""
    stmt = (
        select(GridUnit.id, GridUnit.name, GridUnit.level, GridUnit.geometry, GridUnit.lon, GridUnit.lat)
        .where(GridUnit.level.in_(levels))
        .order_by(GridUnit.path)
        .limit(MAX_SHAPES)
    )
    paths = regions(session, actor)
    if paths:
        # The outlines of the units above the scope frame it (a grid worker sees their community).
        above = {i for p in paths for i in path_ids(p)[:-1]}
        stmt = stmt.where(or_(_in(GridUnit.path, paths), GridUnit.id.in_(above)))
    elif paths is not None:
        return []
    out = []
    for uid, name, level, geometry, lon, lat in session.execute(stmt):
        shape = _geometry(geometry)
        if shape is None and (lon is None or lat is None):
            continue
        out.append({"id": uid, "name": name, "level": level, "geometry": shape, "lon": lon, "lat": lat})
    return out


def place_names(session: Session, reports: list[Report]) -> dict[int, str]:
    """Each report's place as names from the community down: "阳光社区 一苑 一片区 1栋"."""
    ids = {i for r in reports for i in path_ids(r.path)}
    if not ids:
        return {}
    names = {
        uid: name
        for uid, name, level in session.execute(
            select(GridUnit.id, GridUnit.name, GridUnit.level).where(GridUnit.id.in_(ids))
        )
        if level != Level.street.value
    }
    return {r.id: " ".join(names[i] for i in path_ids(r.path) if i in names) for r in reports}


def household_label(session: Session, household_id: int | None) -> str | None:
    hh = session.get(Household, household_id) if household_id is not None else None
    return f"{hh.unit_no}单元{hh.room}室" if hh else None


# One's own reports, newest first.
MINE = ListSpec(sorts={"created": Report.created_at}, default_sort="-created", tiebreaker=Report.id)


def my_reports(session: Session, actor: Principal, query: ListQuery) -> Page[Report]:
    """Reports the user raised or follows (merged duplicates lead to the original), newest first."""
    uid = actor.user_id if actor.user_id is not None else -1
    followed = select(ReportFollower.report_id).where(ReportFollower.user_id == uid)
    stmt = select(Report).where(
        or_(Report.reporter_user_id == uid, Report.recorded_by_user_id == uid, Report.id.in_(followed))
    )
    return list_page(session, stmt, MINE, query)


def handler_choices(session: Session, report: Report) -> list[tuple[int, Role, str]]:
    """Accounts a report can be assigned or transferred to: grid roles and partners whose scope
    holds the place or lies in the same community: (id, role, name)."""
    ids = path_ids(report.path)
    community = _prefix(ids[:2]) if len(ids) >= 2 else report.path
    stmt = (
        select(User)
        .join(UserScope, UserScope.user_id == User.id)
        .join(GridUnit, GridUnit.id == UserScope.unit_id)
        .where(
            User.is_active.is_(True),
            User.role.not_in([Role.resident.value, Role.sysadmin.value]),
            or_(GridUnit.id.in_(ids), subtree_clause(GridUnit.path, community)),
        )
        .order_by(User.role, User.display_name, User.id)
        .distinct()
        .limit(MAX_PEOPLE)
    )
    return [(u.id, Role(u.role), u.display_name) for u in session.scalars(stmt)]


def handler_options(session: Session, actor: Principal) -> list[tuple[int, str]]:
    """Handlers of the reports the user can see, for the overview's filter."""
    stmt = (
        select(Report.handler_user_id, Report.handler_label)
        .where(access.visible_clause(actor), Report.handler_user_id.is_not(None))
        .distinct()
        .limit(MAX_PEOPLE * 3)
    )
    seen: dict[int, str] = {}
    for uid, label in session.execute(stmt):
        seen.setdefault(uid, label or f"#{uid}")
    return sorted(seen.items(), key=lambda kv: kv[1])


def unit_options(session: Session, actor: Principal) -> list[tuple[GridUnit, int]]:
    """Units to filter the overview by: down to areas, with their depth below the top shown."""
    stmt = (
        select(GridUnit)
        .where(GridUnit.level.in_([Level.street.value, *OUTLINE_LEVELS]))
        .order_by(GridUnit.path)
        .limit(MAX_SHAPES)
    )
    paths = regions(session, actor)
    clause = _in(GridUnit.path, paths)
    if clause is not None:
        stmt = stmt.where(clause)
    units = list(session.scalars(stmt))
    if not units:
        return []
    top = min(len(path_ids(u.path)) for u in units)
    return [(u, len(path_ids(u.path)) - top) for u in units]


def default_level(session: Session, actor: Principal) -> str:
    """The grid level the dashboard groups by: one below the user's top unit."""
    order = [lv.value for lv in (Level.street, Level.community, Level.compound, Level.area, Level.building)]
    paths = regions(session, actor)
    if not paths:
        return Level.community.value
    depth = min(len(path_ids(p)) for p in paths)  # 1 = street
    return order[min(depth, len(order) - 1)]
