"""Rolling 12-month coverage of a unit's subtree: two grouped queries feed the pure roll-up of
``drills/coverage.py``, which gives each unit's reach against the target, the activities held
against the yearly target (communities), and the lagging buildings."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.drills import coverage as cov
from renxing.drills.models import Activity, ActivityTarget, Attendance, Status
from renxing.errors import Forbidden, NotFound
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import community_of, in_scope, subtree_clause, unit_in_scope
from renxing.i18n import _

# The register's table is joined here rather than read through its functions: counting the
# residents reached per building is one grouped query over residents and attendance together.
from renxing.people.models import Resident

WINDOW_DAYS = 365


def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    now = now or utcnow()
    return now - timedelta(days=WINDOW_DAYS), now


def live_activities(since: datetime, until: datetime):
    """Activities that count: held in the window and not cancelled."""
    return and_(Activity.starts_at >= since, Activity.starts_at <= until, Activity.status != Status.cancelled.value)


def concerning(root_path: str):
    """Activities kept at ``root_path``'s community (above it) or at communities inside it."""
    return or_(subtree_clause(Activity.path, root_path), Activity.path.in_(cov.ancestors(root_path)))


def building_reach(session: Session, root_path: str, since: datetime, until: datetime) -> list[tuple[str, int, int]]:
    """(building path, residents, residents reached) under ``root_path``: one grouped query."""
    in_scope_ = (subtree_clause(Resident.path, root_path), Resident.deleted_at.is_(None))
    if session.get_bind().dialect.name == "sqlite":
        # SQLite: a correlated EXISTS per resident walks the (resident_id, activity_id) index, a few
        # rows each; building the set of distinct attendees first costs twice as much there.
        attended = (
            select(Attendance.id)
            .join(Activity, Activity.id == Attendance.activity_id)
            .where(Attendance.resident_id == Resident.id, live_activities(since, until), concerning(root_path))
            .exists()
        )
        reached_count = func.sum(case((attended, 1), else_=0))
        stmt = select(Resident.path, func.count(Resident.id), reached_count).where(*in_scope_).group_by(Resident.path)
    else:
        # PostgreSQL plans a correlated EXISTS in the select list as a subplan per row; the distinct
        # attendees of the live activities (read from the (activity_id, resident_id) unique index),
        # hash-joined to the residents once, are much faster.
        live = select(Activity.id).where(live_activities(since, until), concerning(root_path))
        reached = select(Attendance.resident_id).where(Attendance.activity_id.in_(live)).distinct().subquery()
        stmt = (
            select(Resident.path, func.count(Resident.id), func.count(reached.c.resident_id))
            .outerjoin(reached, reached.c.resident_id == Resident.id)
            .where(*in_scope_)
            .group_by(Resident.path)
        )
    return [(p, int(n), int(k or 0)) for p, n, k in session.execute(stmt)]


def activity_targets(session: Session, root_path: str, since: datetime, until: datetime) -> list[list[str]]:
    """The target paths of each live activity concerning ``root_path`` (its community's path
    when the activity names no target)."""
    stmt = (
        select(Activity.id, Activity.path, GridUnit.path)
        .outerjoin(ActivityTarget, ActivityTarget.activity_id == Activity.id)
        .outerjoin(GridUnit, GridUnit.id == ActivityTarget.unit_id)
        .where(live_activities(since, until), concerning(root_path))
    )
    out: dict[int, list[str]] = {}
    for aid, community_path, target_path in session.execute(stmt):
        out.setdefault(aid, []).append(target_path or community_path)
    return list(out.values())


# ---- whose coverage ---------------------------------------------------------------------


def _home_community(session: Session, actor: Principal) -> GridUnit | None:
    """The community the actor's (first) scope lies in."""
    return community_of(session, actor.scope_paths[0]) if actor.scope_paths else None


def _chosen_unit(session: Session, actor: Principal, unit_id: int) -> GridUnit:
    """A unit in scope; a resident may also look at any unit of their own community."""
    if not actor.household_only:
        return unit_in_scope(session, actor, unit_id, write=True)
    unit = session.get(GridUnit, unit_id)
    if unit is None:
        raise NotFound(_("网格单元 {unit_id} 不存在").format(unit_id=unit_id))
    home = _home_community(session, actor)
    if not (in_scope(actor, unit) or (home is not None and unit.path.startswith(home.path))):
        raise Forbidden(_("网格单元 {unit_id} 不在您的网格范围内").format(unit_id=unit_id))
    return unit


def root_for(session: Session, actor: Principal, unit_id: int | None) -> GridUnit:
    """The unit whose coverage is shown: the one asked for, else the actor's own. Those who only
    read drills (residents, volunteers, partners: no attendance to record) see the community
    their scope lies in; everybody else their first scope unit, or the whole tree."""
    actor.require(Perm.drills_read)
    if unit_id is not None:
        return _chosen_unit(session, actor, unit_id)
    if actor.household_only or (actor.scope_paths and not actor.can(Perm.drills_attend)):
        home = _home_community(session, actor)
        if home is None:
            raise NotFound(_("没有所属社区"))
        return home
    if actor.is_global or not actor.scope_paths:
        unit = session.scalar(select(GridUnit).where(GridUnit.parent_id.is_(None)).order_by(GridUnit.id))
    else:
        unit = session.scalar(select(GridUnit).where(GridUnit.path == actor.scope_paths[0]))
    if unit is None:
        raise NotFound(_("没有网格"))
    return unit


# ---- the report -------------------------------------------------------------------------


@dataclass
class UnitCoverage:
    id: int
    path: str
    name: str
    level: str
    depth: int
    residents: int
    reached: int
    reach: float | None
    needed: int
    activities: int
    standing: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _unit_rows(session: Session, root: GridUnit, since: datetime, until: datetime) -> list[UnitCoverage]:
    """Every unit of the subtree, in path order, with its figures."""
    s = get_settings()
    units = list(
        session.execute(
            select(GridUnit.id, GridUnit.path, GridUnit.name, GridUnit.level)
            .where(subtree_clause(GridUnit.path, root.path))
            .order_by(GridUnit.path)
        )
    )
    leaves = building_reach(session, root.path, since, until)
    result = cov.coverage(
        [u.path for u in units],
        [p for p, _, _ in leaves],
        [n for _, n, _ in leaves],
        [k for _, _, k in leaves],
        activity_targets(session, root.path, since, until),
        reach_target=s.drill_reach_target,
        lag_ratio=s.drill_lag_ratio,
    )
    base = root.path.count("/")
    return [
        UnitCoverage(
            id=u.id,
            path=u.path,
            name=u.name,
            level=u.level,
            depth=u.path.count("/") - base,
            residents=int(result.residents[i]),
            reached=int(result.reached[i]),
            reach=None if result.residents[i] == 0 else round(float(result.reach[i]), 4),
            needed=int(result.needed[i]),
            activities=int(result.activities[i]),
            standing=result.standing[i].value,
        )
        for i, u in enumerate(units)
    ]


def _lagging(rows: list[UnitCoverage]) -> list[UnitCoverage]:
    """Buildings below the target, the lagging ones first, then by reach and residents needed."""
    behind = (cov.Standing.lagging.value, cov.Standing.behind.value)
    return sorted(
        (r for r in rows if r.level == Level.building.value and r.standing in behind),
        key=lambda r: (r.standing != cov.Standing.lagging.value, r.reach if r.reach is not None else 1, -r.needed),
    )


def coverage_report(
    session: Session, actor: Principal, unit_id: int | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Rolling 12-month coverage of the unit's subtree against the targets."""
    s = get_settings()
    root = root_for(session, actor, unit_id)
    since, until = window(now)
    rows = _unit_rows(session, root, since, until)
    communities = [
        {**r.to_dict(), "activity_target": s.drill_activity_target} for r in rows if r.level == Level.community.value
    ]
    return {
        "unit": {"id": root.id, "name": root.name, "level": root.level, "path": root.path},
        "since": since.isoformat(),
        "until": until.isoformat(),
        "reach_target": s.drill_reach_target,
        "activity_target": s.drill_activity_target,
        "lag_ratio": s.drill_lag_ratio,
        "total": rows[0].to_dict() if rows else None,
        "communities": communities,
        "units": [r.to_dict() for r in rows],
        "lagging": [r.to_dict() for r in _lagging(rows)],
    }
