"""The residents not reached in 12 months, the vulnerable first: a page for staff (masked as lists
are) and the whole list as a sheet with phones for the roles that call people (audited)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import case, exists, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Field, Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.drills.activities import tz
from renxing.drills.attendance import shows_names
from renxing.drills.models import Activity, Attendance
from renxing.drills.reach import concerning, live_activities, root_for, window
from renxing.errors import Forbidden
from renxing.grid.models import GridUnit, Household
from renxing.grid.scope import in_scope, scope_clause, subtree_clause
from renxing.i18n import _
from renxing.listing import ListQuery, ListSpec, Page, apply, list_page
from renxing.people import vulnerability
from renxing.people.masking import mask_id_number, mask_name, mask_phone

# The register's table is joined here rather than read through its functions: "not reached" is
# an anti-join of residents against attendance, ordered by a priority computed from their record.
from renxing.people.models import Resident
from renxing.people.service import tags_of, years_ago

EXPORT_LIMIT = 100_000
EXPORT_HEADERS = ["姓名", "住址", "年龄", "重点人群", "联系电话", "身份证号"]


def _priority(actor: Principal, today: date):
    """How urgently to invite someone: the vulnerable first. Health-based parts only for roles
    that see health data, so the order cannot reveal what the role may not see."""
    old80, old60, baby = years_ago(today, 80), years_ago(today, 60), years_ago(today, 3)
    score = (
        case((Resident.birth_date <= old80, 3), else_=0)
        + case((Resident.birth_date <= old60, 1), else_=0)
        + case((Resident.living_alone.is_(True), 2), else_=0)
        + case((Resident.birth_date > baby, 1), else_=0)
    )
    if Field.health in actor.clear_fields():
        score = (
            score
            + case((Resident.bedridden.is_(True), 5), else_=0)
            + case((Resident.special_needs.is_not(None), 4), else_=0)
            + case((Resident.disability_kind.is_not(None), 3), else_=0)
            + case((Resident.pregnant.is_(True), 2), else_=0)
            + case((Resident.chronic_illness.is_not(None), 1), else_=0)
        )
    return score


def _spec(urgency) -> ListSpec:
    """The most urgent first, then by address. ``urgency`` is the selected, labelled negative
    priority: ordering by the label sorts the computed column instead of computing it again."""
    return ListSpec(sorts={"priority": (urgency, Resident.path)}, default_sort="priority", tiebreaker=Resident.id)


def not_reached_query(session: Session, actor: Principal, unit_id: int | None, now: datetime | None = None):
    """The unit, the unreached residents of its subtree that the actor may see (with their
    urgency: the priority negated), and the list spec ordering them."""
    actor.require(Perm.drills_attend)
    actor.require(Perm.residents_read)
    root = root_for(session, actor, unit_id)
    if not in_scope(actor, root):
        raise Forbidden(_("不在您的网格范围内"))
    since, until = window(now)
    # Joined rather than "activity_id IN (...)": per resident, SQLite would probe the index once
    # for every live activity.
    attended = (
        select(Attendance.id)
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(Attendance.resident_id == Resident.id, live_activities(since, until), concerning(root.path))
    )
    urgency = (-_priority(actor, (now or utcnow()).astimezone(tz()).date())).label("urgency")
    stmt = select(Resident, urgency).where(
        subtree_clause(Resident.path, root.path), Resident.deleted_at.is_(None), ~exists(attended)
    )
    clause = scope_clause(Resident.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return root, stmt, _spec(urgency)


def not_reached(
    session: Session, actor: Principal, unit_id: int | None, query: ListQuery, now: datetime | None = None
) -> tuple[GridUnit, Page[Any]]:
    """One page of (resident, priority)."""
    root, stmt, spec = not_reached_query(session, actor, unit_id, now)
    return root, list_page(session, stmt, spec, query, scalars=False)


def _addresses(session: Session, residents: list[Resident]) -> dict[int, str]:
    """Building and room of each resident's household, e.g. "1栋 2-201"."""
    hh_ids = sorted({r.household_id for r in residents})
    if not hh_ids:
        return {}
    rows = session.execute(
        select(Household.id, Household.unit_no, Household.room, GridUnit.name)
        .join(GridUnit, GridUnit.id == Household.building_id)
        .where(Household.id.in_(hh_ids))
    )
    return {hid: f"{b} {u}-{room}" for hid, u, room, b in rows}


def invite_rows(session: Session, actor: Principal, residents: list[Resident]) -> list[dict[str, Any]]:
    """Residents to invite, masked as a list is: names only for roles that meet people, phones masked."""
    today = date.today()
    clear_health = Field.health in actor.clear_fields()
    addresses = _addresses(session, residents)
    out = []
    for r in residents:
        tags = [t for t in tags_of(r, today) if clear_health or t not in vulnerability.HEALTH_TAGS]
        out.append(
            {
                "id": r.id,
                "name": r.name if shows_names(actor) else mask_name(r.name),
                "household": addresses.get(r.household_id, ""),
                "age": vulnerability.age_on(r.birth_date, today) if r.birth_date else None,
                "tags": [t.value for t in tags],
                "phone": mask_phone(r.phone),
            }
        )
    return out


def export_not_reached(
    session: Session, actor: Principal, unit_id: int | None = None, now: datetime | None = None
) -> tuple[GridUnit, list[str], list[list[Any]]]:
    """The whole invitation list for roles that may call people (phones in the clear), audited."""
    if Field.phone not in actor.clear_fields():
        raise Forbidden(_("您的角色不能导出联系电话"))
    root, stmt, spec = not_reached_query(session, actor, unit_id, now)
    residents = [r for r, _ in session.execute(apply(stmt, spec, ListQuery()).limit(EXPORT_LIMIT))]
    addresses = _addresses(session, residents)
    today = date.today()
    clear = actor.clear_fields()
    rows = []
    for r in residents:
        shown = [
            str(vulnerability.TAG_LABELS[t])
            for t in tags_of(r, today)
            if Field.health in clear or t not in vulnerability.HEALTH_TAGS
        ]
        rows.append(
            [
                r.name,
                addresses.get(r.household_id, ""),
                vulnerability.age_on(r.birth_date, today) if r.birth_date else None,
                "、".join(shown),
                r.phone,
                r.id_number if Field.id_number in clear else mask_id_number(r.id_number),
            ]
        )
    audit.record(
        session, actor, "export", "drill_not_reached", root.id, summary=f"{len(rows)} residents, phones in the clear"
    )
    return root, EXPORT_HEADERS, rows
