"""A person's rights over their data (PIPL arts. 45 and 47), and how long data is kept.

``export_personal_data`` gives a person a copy of everything the platform holds about them;
``erase_personal_data`` removes it on request: the register row is anonymised in place (its id
stays, so aggregates such as drill coverage and ratings keep counting a person), the accounts
linked to it are closed, the contact details and free text of the reports they filed are removed,
and the values of the audit entries about them are redacted while the entries themselves (who
did what, when) stay. ``purge_expired`` applies the retention periods of ``docs/security.md``.

Acting on such a request is the register's keeper's job: community staff in scope, or the
operator on the command line. Every export and erasure is itself audited, without the data.

The request reaches into other domains' rows (care, drills, evaluation, reports, accounts)
because erasure must be complete; it reads and blanks, it never decides anything for them.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import AuditEntry, AuthSession, User
from renxing.auth.policy import Field, Perm
from renxing.auth.principal import Principal
from renxing.care.models import CarePlan, CareVisit
from renxing.db import utcnow
from renxing.drills.models import Activity, Attendance
from renxing.errors import FieldError, Forbidden, Invalid, NotFound
from renxing.evaluation.models import Rating
from renxing.events.models import IdempotencyKey, ReportPublicText, reports
from renxing.grid.models import GridUnit, Household
from renxing.i18n import _
from renxing.people.models import Resident
from renxing.people.service import _load
from renxing.volunteers.models import TeamMember

ERASED_TEXT = "（已应本人要求删除 / erased at the person's request）"
REDACTED = "[erased]"
# Register columns that identify a person or describe their health; blanked on erasure.
PERSONAL_COLUMNS: dict[str, Any] = {
    "gender": None,
    "birth_date": None,
    "id_number": None,
    "phone": None,
    "relation": None,
    "registered_address": None,
    "living_alone": False,
    "disability_kind": None,
    "disability_grade": None,
    "bedridden": False,
    "chronic_illness": None,
    "pregnant": False,
    "special_needs": None,
    "emergency_contact": None,
    "emergency_phone": None,
    "party_member": False,
    "notes": None,
}


def _require_keeper(actor: Principal) -> None:
    """Only whoever keeps the register in the clear acts on a person's request."""
    actor.require(Perm.residents_write)
    if Field.id_number not in actor.clear_fields():
        raise Forbidden(_("只有社区工作者可以办理个人信息查阅或删除申请"))


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _load_any(session: Session, actor: Principal, resident_id: int) -> Resident:
    """A request may come after the resident was removed from the register (soft delete)."""
    try:
        return _load(session, actor, resident_id)
    except NotFound:
        return _load(session, actor, resident_id, deleted=True)


def export_personal_data(session: Session, actor: Principal, resident_id: int) -> dict[str, Any]:
    """Everything held about one resident, in the clear, as JSON-ready values; audited."""
    _require_keeper(actor)
    r = _load_any(session, actor, resident_id)
    household = session.get(Household, r.household_id)
    building = session.get(GridUnit, household.building_id) if household else None
    user_ids = list(session.scalars(select(User.id).where(User.resident_id == r.id)))
    plans = list(session.scalars(select(CarePlan).where(CarePlan.resident_id == r.id).order_by(CarePlan.id)))
    visits = list(
        session.scalars(
            select(CareVisit).where(CareVisit.plan_id.in_([p.id for p in plans])).order_by(CareVisit.visited_at)
        )
    )
    attended = session.execute(
        select(Activity.title, Activity.starts_at, Attendance.method, Attendance.signed_at)
        .join(Attendance, Attendance.activity_id == Activity.id)
        .where(Attendance.resident_id == r.id)
        .order_by(Attendance.signed_at)
    ).all()
    ratings = list(session.scalars(select(Rating).where(Rating.resident_id == r.id).order_by(Rating.id)))
    memberships = list(session.scalars(select(TeamMember).where(TeamMember.resident_id == r.id)))
    filed = (
        session.execute(
            select(
                reports.c.id,
                reports.c.token,
                reports.c.category_code,
                reports.c.description,
                reports.c.state,
                reports.c.created_at,
                reports.c.reporter_name,
                reports.c.reporter_phone,
            )
            .where(reports.c.reporter_user_id.in_(user_ids))
            .order_by(reports.c.id)
        )
        .mappings()
        .all()
        if user_ids
        else []
    )
    accesses = list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "resident", AuditEntry.entity_id == r.id)
            .order_by(AuditEntry.id)
        )
    )
    audit.record(session, actor, "pipl_export", "resident", r.id)
    return {
        "resident": audit.snapshot(r),
        "household": {
            "id": household.id if household else None,
            "building": building.name if building else None,
            "unit_no": household.unit_no if household else None,
            "room": household.room if household else None,
            "address": household.address if household else None,
        },
        "accounts": user_ids,
        "care_plans": [
            audit.snapshot(p, ["id", "frequency_days", "needs", "status", "note", "created_at"]) for p in plans
        ],
        "care_visits": [
            audit.snapshot(v, ["id", "plan_id", "visited_at", "found", "note", "report_id"]) for v in visits
        ],
        "drill_attendance": [
            {"activity": t, "starts_at": _iso(s), "method": m, "signed_at": _iso(at)} for t, s, m, at in attended
        ],
        "ratings": [
            audit.snapshot(g, ["target_kind", "target_id", "period", "variety", "quality", "responsiveness", "comment"])
            for g in ratings
        ],
        "volunteer_teams": [
            audit.snapshot(m, ["team_id", "role", "joined_on", "max_care", "active"]) for m in memberships
        ],
        "reports": [{k: _iso(v) for k, v in row.items()} for row in filed],
        "accesses": [
            {"at": _iso(e.at), "actor": e.actor_name, "action": e.action, "fields": e.summary} for e in accesses
        ],
    }


def erase_personal_data(session: Session, actor: Principal, resident_id: int, *, confirm_name: str) -> dict[str, int]:
    """Anonymise one resident everywhere; ``confirm_name`` must repeat their name. Returns counts."""
    _require_keeper(actor)
    r = _load_any(session, actor, resident_id)
    if confirm_name.strip() != r.name:
        message = _("请输入该居民的姓名以确认删除")
        raise Invalid(message, [FieldError("confirm_name", message)])
    _anonymise(r)
    r.deleted_at = r.deleted_at or utcnow()
    counts = {"accounts": 0, "reports": 0, "care_visits": 0, "ratings": 0, "audit_entries": 0}
    user_ids = list(session.scalars(select(User.id).where(User.resident_id == r.id)))
    if user_ids:
        session.execute(delete(AuthSession).where(AuthSession.user_id.in_(user_ids)))
        counts["accounts"] = session.execute(
            update(User).where(User.id.in_(user_ids)).values(is_active=False, phone=None, display_name=r.name)
        ).rowcount
        filed = select(reports.c.id).where(reports.c.reporter_user_id.in_(user_ids)).scalar_subquery()
        session.execute(delete(ReportPublicText).where(ReportPublicText.report_id.in_(filed)))
        counts["reports"] = session.execute(
            update(reports)
            .where(reports.c.reporter_user_id.in_(user_ids))
            .values(
                reporter_name=None,
                reporter_phone=None,
                reporter_email=None,
                description=ERASED_TEXT,
                public_consent=False,
            )
        ).rowcount
    plan_ids = select(CarePlan.id).where(CarePlan.resident_id == r.id).scalar_subquery()
    session.execute(update(CarePlan).where(CarePlan.resident_id == r.id).values(note=None, needs=None, status="closed"))
    counts["care_visits"] = session.execute(
        update(CareVisit).where(CareVisit.plan_id.in_(plan_ids)).values(note=None)
    ).rowcount
    counts["ratings"] = session.execute(update(Rating).where(Rating.resident_id == r.id).values(comment=None)).rowcount
    session.execute(
        update(TeamMember).where(TeamMember.resident_id == r.id).values(name=r.name, phone=None, active=False)
    )
    counts["audit_entries"] = _redact_audit(session, r.id)
    audit.record(
        session, actor, "pipl_erase", "resident", r.id, summary=",".join(f"{k}={v}" for k, v in counts.items())
    )
    return counts


def _anonymise(r: Resident) -> None:
    """The register row keeps its id (aggregates keep counting a person) and nothing else of them."""
    for column, blank in PERSONAL_COLUMNS.items():
        setattr(r, column, blank)
    r.name = f"已删除居民 #{r.id}"


def _redact_audit(session: Session, resident_id: int) -> int:
    """Keep who did what and when about the person; drop the values they saw or wrote."""
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "resident", AuditEntry.entity_id == resident_id)
    ).all()
    for e in entries:
        e.before = {k: REDACTED for k in e.before} if e.before else e.before
        e.after = {k: REDACTED for k in e.after} if e.after else e.after
    return len(entries)


def purge_expired(
    session: Session, *, audit_days: int, deleted_resident_days: int, now: datetime | None = None
) -> dict[str, int]:
    """Apply the retention periods: old audit entries go, residents removed long ago are anonymised."""
    now = now or utcnow()
    gone = session.execute(delete(AuditEntry).where(AuditEntry.at < now - timedelta(days=audit_days))).rowcount
    # A retry comes within minutes; a month-old key only keeps a client's request history.
    keys = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - timedelta(days=30))).rowcount
    stale = session.scalars(
        select(Resident).where(
            Resident.deleted_at.is_not(None),
            Resident.deleted_at < now - timedelta(days=deleted_resident_days),
            Resident.id_number.is_not(None) | Resident.phone.is_not(None) | Resident.birth_date.is_not(None),
        )
    ).all()
    for r in stale:
        _anonymise(r)
        _redact_audit(session, r.id)
    return {"audit_entries": gone, "residents_anonymised": len(stale), "idempotency_keys": keys}
