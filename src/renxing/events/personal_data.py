"""What the closed loop holds about a resident, for a person's request: the reports they filed
from their accounts. Erasure removes the reporter's contact details and words (the report
stays, so the loop's statistics hold) and the public copy made from them. Idempotency keys,
kept only to answer a client's retry, go after a month.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from renxing.events.models import IdempotencyKey, ReportPublicText, reports
from renxing.people.subject import PersonalData, Retention, Subject, iso

ERASED_TEXT = "（已应本人要求删除 / erased at the person's request）"
KEY_DAYS = 30  # a retry comes within minutes; a month-old key only keeps a client's history


def export(session: Session, subject: Subject) -> dict[str, Any]:
    if not subject.account_ids:
        return {"reports": []}
    filed = session.execute(
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
        .where(reports.c.reporter_user_id.in_(subject.account_ids))
        .order_by(reports.c.id)
    ).mappings()
    return {"reports": [{k: iso(v) for k, v in row.items()} for row in filed]}


def erase(session: Session, subject: Subject) -> dict[str, int]:
    if not subject.account_ids:
        return {"reports": 0}
    mine = reports.c.reporter_user_id.in_(subject.account_ids)
    session.execute(delete(ReportPublicText).where(ReportPublicText.report_id.in_(select(reports.c.id).where(mine))))
    blanked = session.execute(
        update(reports)
        .where(mine)
        .values(
            reporter_name=None, reporter_phone=None, reporter_email=None, description=ERASED_TEXT, public_consent=False
        )
    ).rowcount
    return {"reports": blanked}


def purge(session: Session, now: datetime, retention: Retention) -> dict[str, int]:
    old = IdempotencyKey.created_at < now - timedelta(days=KEY_DAYS)
    return {"idempotency_keys": session.execute(delete(IdempotencyKey).where(old)).rowcount}


PROVIDER = PersonalData("events", export=export, erase=erase, purge=purge)
