"""A person's rights over their data (PIPL arts. 45 and 47), and how long data is kept.

``export_personal_data`` gives a person a copy of everything the platform holds about them;
``erase_personal_data`` removes it on request: the register row is anonymised in place (its id
stays, so aggregates such as drill coverage and ratings keep counting a person), and every
domain that keeps rows about them forgets them its own way (accounts closed, the contact details
and words of their reports removed, audit values redacted while the entries stay …).
``purge_expired`` applies the retention periods of ``docs/security.md``.

Acting on such a request is the register's keeper's job: community staff in scope, or the
operator on the command line. Every export and erasure is itself audited, without the data.

The register answers for its own rows here; every other domain answers through the
:class:`~renxing.people.subject.PersonalData` it declares in its ``personal_data.py``, listed in
``PROVIDERS`` below. They run in the caller's transaction: an erasure is whole or not at all.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth import personal_data as accounts
from renxing.auth.directory import accounts_of_resident
from renxing.auth.policy import Field, Perm
from renxing.auth.principal import Principal
from renxing.care import personal_data as care
from renxing.db import utcnow
from renxing.drills import personal_data as drills
from renxing.errors import FieldError, Forbidden, Invalid, NotFound
from renxing.evaluation import personal_data as evaluation
from renxing.events import personal_data as events
from renxing.grid.models import GridUnit, Household
from renxing.i18n import _
from renxing.people.models import Resident
from renxing.people.service import _load
from renxing.people.subject import PersonalData, Retention, Subject
from renxing.volunteers import personal_data as volunteers

# Every domain that keeps rows about a resident, in the order their sections appear in a copy.
PROVIDERS: tuple[PersonalData, ...] = (
    accounts.PROVIDER,
    care.PROVIDER,
    drills.PROVIDER,
    evaluation.PROVIDER,
    volunteers.PROVIDER,
    events.PROVIDER,
)
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


def _load_any(session: Session, actor: Principal, resident_id: int) -> Resident:
    """A request may come after the resident was removed from the register (soft delete)."""
    try:
        return _load(session, actor, resident_id)
    except NotFound:
        return _load(session, actor, resident_id, deleted=True)


def _subject(session: Session, r: Resident) -> Subject:
    return Subject(r.id, tuple(accounts_of_resident(session, r.id)), erased_name=_erased_name(r.id))


def _erased_name(resident_id: int) -> str:
    return f"已删除居民 #{resident_id}"


def export_personal_data(session: Session, actor: Principal, resident_id: int) -> dict[str, Any]:
    """Everything held about one resident, in the clear, as JSON-ready values; audited."""
    _require_keeper(actor)
    r = _load_any(session, actor, resident_id)
    household = session.get(Household, r.household_id)
    building = session.get(GridUnit, household.building_id) if household else None
    data: dict[str, Any] = {
        "resident": audit.snapshot(r),
        "household": {
            "id": household.id if household else None,
            "building": building.name if building else None,
            "unit_no": household.unit_no if household else None,
            "room": household.room if household else None,
            "address": household.address if household else None,
        },
    }
    subject = _subject(session, r)
    for provider in PROVIDERS:
        data.update(provider.export(session, subject))
    audit.record(session, actor, "pipl_export", "resident", r.id)
    return data


def erase_personal_data(session: Session, actor: Principal, resident_id: int, *, confirm_name: str) -> dict[str, int]:
    """Anonymise one resident everywhere; ``confirm_name`` must repeat their name. Returns counts."""
    _require_keeper(actor)
    r = _load_any(session, actor, resident_id)
    if confirm_name.strip() != r.name:
        message = _("请输入该居民的姓名以确认删除")
        raise Invalid(message, [FieldError("confirm_name", message)])
    subject = _subject(session, r)
    _anonymise(r)
    r.deleted_at = r.deleted_at or utcnow()
    counts: dict[str, int] = {}
    for provider in PROVIDERS:
        counts.update(provider.erase(session, subject))
    audit.record(
        session, actor, "pipl_erase", "resident", r.id, summary=",".join(f"{k}={v}" for k, v in counts.items())
    )
    return counts


def _anonymise(r: Resident) -> None:
    """The register row keeps its id (aggregates keep counting a person) and nothing else of them."""
    for column, blank in PERSONAL_COLUMNS.items():
        setattr(r, column, blank)
    r.name = _erased_name(r.id)


def purge_expired(
    session: Session, *, audit_days: int, deleted_resident_days: int, now: datetime | None = None
) -> dict[str, int]:
    """Apply the retention periods: every domain drops what has expired (old audit entries,
    idempotency keys), and residents removed long ago are anonymised."""
    now = now or utcnow()
    retention = Retention(audit_days=audit_days, deleted_resident_days=deleted_resident_days)
    counts: dict[str, int] = {}
    for provider in PROVIDERS:
        counts.update(provider.purge(session, now, retention))
    stale = session.scalars(
        select(Resident).where(
            Resident.deleted_at.is_not(None),
            Resident.deleted_at < now - timedelta(days=deleted_resident_days),
            Resident.id_number.is_not(None) | Resident.phone.is_not(None) | Resident.birth_date.is_not(None),
        )
    ).all()
    for r in stale:
        _anonymise(r)
        accounts.redact_audit(session, r.id)
    counts["residents_anonymised"] = len(stale)
    return counts
