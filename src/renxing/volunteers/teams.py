"""Volunteer teams: the roster of teams, one team, founding a team at its community.

Teams are kept at their community: an actor sees the teams in scope and those of the communities
their own (lower) scope lies in (``grid.scope.visible_clause``).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Collector, FieldError, Invalid, NotFound
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import sees, subtree_clause, visible_clause
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.volunteers.models import TEAM_KIND_LABELS, ServiceHours, TeamKind, TeamMember, VolunteerTeam


def _team_kind(value: str) -> str:
    if value not in TEAM_KIND_LABELS:
        raise ValueError(value)
    return value


TEAMS = ListSpec(
    sorts={"name": VolunteerTeam.name, "kind": VolunteerTeam.kind, "created": VolunteerTeam.id},
    default_sort="name",
    tiebreaker=VolunteerTeam.id,
    search=(VolunteerTeam.name,),
    filters={"kind": Filter(VolunteerTeam.kind, parse=_team_kind)},
)


@dataclass
class TeamRow:
    team: VolunteerTeam
    members: int
    hours_12m: float
    community: str


def list_teams(
    session: Session,
    actor: Principal,
    query: ListQuery | None = None,
    *,
    unit_path: str | None = None,
    today: date | None = None,
) -> Page[TeamRow]:
    """The teams the actor sees (within ``unit_path`` if given), one page, with their active
    members, last year's service hours and community."""
    actor.require(Perm.volunteers_read)
    stmt = select(VolunteerTeam)
    if (clause := visible_clause(VolunteerTeam.path, actor)) is not None:
        stmt = stmt.where(clause)
    if unit_path:
        stmt = stmt.where(subtree_clause(VolunteerTeam.path, unit_path))
    result = list_page(session, stmt, TEAMS, query or ListQuery())
    today = today or date.today()
    ids = [t.id for t in result.items]
    counts = dict(
        session.execute(
            select(TeamMember.team_id, func.count())
            .where(TeamMember.team_id.in_(ids), TeamMember.active.is_(True))
            .group_by(TeamMember.team_id)
        ).all()
    )
    hours = dict(
        session.execute(
            select(ServiceHours.team_id, func.sum(ServiceHours.hours))
            .where(ServiceHours.team_id.in_(ids), ServiceHours.served_on > today - timedelta(days=365))
            .group_by(ServiceHours.team_id)
        ).all()
    )
    names = dict(
        session.execute(
            select(GridUnit.id, GridUnit.name).where(GridUnit.id.in_({t.unit_id for t in result.items}))
        ).all()
    )
    rows = [
        TeamRow(t, counts.get(t.id, 0), round(float(hours.get(t.id) or 0), 1), names.get(t.unit_id, ""))
        for t in result.items
    ]
    return Page(rows, result.total, result.page, result.size)


def get_team(session: Session, actor: Principal, team_id: int) -> VolunteerTeam:
    """A team the actor sees (in scope, or of the community their scope lies in), else 404."""
    actor.require(Perm.volunteers_read)
    team = session.get(VolunteerTeam, team_id)
    if team is None or not sees(actor, team.path):
        raise NotFound(_("队伍 {team_id} 不存在").format(team_id=team_id))
    return team


def writable_team(session: Session, actor: Principal, team_id: int) -> VolunteerTeam:
    actor.require(Perm.volunteers_write)
    team = get_team(session, actor, team_id)
    if not actor.covers_path(team.path):
        raise NotFound(_("队伍 {team_id} 不存在").format(team_id=team_id))
    return team


def create_team(
    session: Session,
    actor: Principal,
    *,
    unit_id: int,
    name: str,
    kind: str,
    contact: str | None = None,
    description: str | None = None,
) -> VolunteerTeam:
    actor.require(Perm.volunteers_write)
    errors = Collector()
    unit = session.get(GridUnit, unit_id)
    if unit is None or not actor.covers_path(unit.path):
        errors.add("unit_id", _("社区不存在或不在您的范围内"), value=unit_id)
    elif unit.level != Level.community.value:
        errors.add("unit_id", _("队伍须建在社区一级"), value=unit.level)
    if not name or not name.strip():
        errors.add("name", _("队名必填"))
    elif len(name.strip()) > 80:
        errors.add("name", _("队名过长"))
    if kind not in TEAM_KIND_LABELS:
        errors.add("kind", _("类型须为 {join} 之一").format(join=", ".join(TeamKind)), value=kind)
    errors.raise_if_any()
    assert unit is not None
    if name.strip() in set(session.scalars(select(VolunteerTeam.name).where(VolunteerTeam.unit_id == unit.id))):
        raise Invalid(_("同名队伍已存在"), [FieldError("name", "duplicate", value=name)])
    team = VolunteerTeam(
        unit_id=unit.id,
        path=unit.path,
        name=name.strip(),
        kind=kind,
        contact=(contact or "").strip() or None,
        description=(description or "").strip() or None,
        active=True,
    )
    session.add(team)
    session.flush()
    audit.record(session, actor, "create", "volunteer_team", team.id, after=audit.snapshot(team))
    return team
