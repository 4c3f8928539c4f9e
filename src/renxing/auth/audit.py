"""The audit trail: every write, every clear read of personal data, every login."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.models import AuditEntry
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.people.masking import mask_value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(obj: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """The column values of an ORM row, JSON-ready, for before → after records."""
    names = fields or [c.key for c in obj.__table__.columns]
    return {n: _plain(getattr(obj, n)) for n in names}


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    session: Session,
    actor: Principal,
    action: str,
    entity: str,
    entity_id: int | None,
    *,
    summary: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor.user_id,
            actor_name=actor.username,
            action=action,
            entity=entity,
            entity_id=entity_id,
            summary=summary,
            before=before,
            after=after,
        )
    )


def record_anonymous(
    session: Session,
    claimed_name: str,
    action: str,
    entity: str,
    entity_id: int | None,
    *,
    summary: str | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """An entry for someone not logged in (a failed or locked login): no actor id, and the name
    they claimed, cut to the column's length."""
    session.add(
        AuditEntry(
            actor_id=None,
            actor_name=claimed_name[:60],
            action=action,
            entity=entity,
            entity_id=entity_id,
            summary=summary,
            after=after,
        )
    )


@dataclass(frozen=True)
class TrailEntry:
    """An audit entry as one reader may see it."""

    at: datetime
    actor_name: str
    action: str
    summary: str | None
    before: dict[str, Any]
    after: dict[str, Any]


def trail(
    session: Session,
    actor: Principal,
    entity: str,
    entity_id: int,
    *,
    resident_id: int | None = None,
    limit: int = 200,
) -> list[TrailEntry]:
    """The history of one record, masked for this reader like every other read: personal fields
    by their key, phone and ID numbers inside free text (notes, comments, summaries), and names
    for readers who may not read people at all. ``resident_id`` names the person the record is
    about, so that a resident's own clear fields apply. The caller has checked the record's scope."""
    actor.require(Perm.audit_read)
    clear = actor.clear_fields(resident_id)
    names = actor.can(Perm.residents_read)
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return [
        TrailEntry(
            at=e.at,
            actor_name=e.actor_name,
            action=e.action,
            summary=mask_value(clear, "summary", e.summary, names=names),
            before={k: mask_value(clear, k, v, names=names) for k, v in (e.before or {}).items()},
            after={k: mask_value(clear, k, v, names=names) for k, v in (e.after or {}).items()},
        )
        for e in session.scalars(stmt)
    ]
