"""What the accounts and the audit trail hold about a resident, for a person's request.

A copy lists the accounts linked to them and who read or changed their record (the audit
entries about it, without their values). Erasure closes the accounts and ends their sessions,
and redacts the values of the audit entries about the person while the entries themselves
(who did what, when) stay. Audit entries older than the retention period go.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from renxing.auth.models import AuditEntry, AuthSession, User
from renxing.people.subject import PersonalData, Retention, Subject, iso

REDACTED = "[erased]"


def _about(resident_id: int):
    return select(AuditEntry).where(AuditEntry.entity == "resident", AuditEntry.entity_id == resident_id)


def export(session: Session, subject: Subject) -> dict[str, Any]:
    entries = session.scalars(_about(subject.resident_id).order_by(AuditEntry.id))
    return {
        "accounts": list(subject.account_ids),
        "accesses": [
            {"at": iso(e.at), "actor": e.actor_name, "action": e.action, "fields": e.summary} for e in entries
        ],
    }


def erase(session: Session, subject: Subject) -> dict[str, int]:
    closed = 0
    if subject.account_ids:
        ids = list(subject.account_ids)
        session.execute(delete(AuthSession).where(AuthSession.user_id.in_(ids)))
        closed = session.execute(
            update(User).where(User.id.in_(ids)).values(is_active=False, phone=None, display_name=subject.erased_name)
        ).rowcount
    return {"accounts": closed, "audit_entries": redact_audit(session, subject.resident_id)}


def redact_audit(session: Session, resident_id: int) -> int:
    """Keep who did what and when about the person; drop the values they saw or wrote."""
    entries = session.scalars(_about(resident_id)).all()
    for e in entries:
        e.before = {k: REDACTED for k in e.before} if e.before else e.before
        e.after = {k: REDACTED for k in e.after} if e.after else e.after
    return len(entries)


def purge(session: Session, now: datetime, retention: Retention) -> dict[str, int]:
    cutoff = now - timedelta(days=retention.audit_days)
    return {"audit_entries": session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff)).rowcount}


PROVIDER = PersonalData("auth", export=export, erase=erase, purge=purge)
