"""Drawing on a partner's stock: only under an agreement in force on the day of the draw.

A partner's site holds the partner's own goods; the community may take from them what an
agreement commits, while the agreement is valid and not terminated. Points of the community (its
store, shelters' stores, household kits) need no agreement.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.errors import FieldError, Invalid
from renxing.i18n import _
from renxing.supplies.models import Agreement, StoragePoint


def in_force(agreement: Agreement, day: date) -> bool:
    return agreement.terminated_at is None and agreement.valid_from <= day <= agreement.valid_until


def agreements_in_force(session: Session, org_id: int, day: date) -> list[Agreement]:
    stmt = (
        select(Agreement)
        .where(
            Agreement.org_id == org_id,
            Agreement.terminated_at.is_(None),
            Agreement.valid_from <= day,
            Agreement.valid_until >= day,
        )
        .order_by(Agreement.valid_until.desc(), Agreement.id)
    )
    return list(session.scalars(stmt))


def agreement_for_draw(session: Session, point: StoragePoint, day: date, agreement_id: int | None) -> int | None:
    """The agreement a draw from ``point`` on ``day`` rests on (None: a community point, no
    agreement needed). Raises ``Invalid`` naming ``agreement_id`` when there is none in force."""
    if point.org_id is None:
        return None
    if agreement_id is not None:
        agreement = session.get(Agreement, agreement_id)
        if agreement is None or agreement.org_id != point.org_id:
            raise Invalid(
                _("协议不属于该储备点的单位"),
                [FieldError("agreement_id", _("协议不属于该储备点的单位"), None, str(agreement_id))],
            )
        if not in_force(agreement, day):
            why = (
                _("协议已终止，不能动用")
                if agreement.terminated_at is not None
                else _("协议有效期为 {start} 至 {end}，{day} 不能动用").format(
                    start=agreement.valid_from, end=agreement.valid_until, day=day
                )
            )
            raise Invalid(why, [FieldError("agreement_id", why, None, str(agreement_id))])
        return agreement.id
    found = agreements_in_force(session, point.org_id, day)
    if not found:
        why = _("该单位没有有效的储备协议，不能动用其物资")
        raise Invalid(why, [FieldError("agreement_id", why, None, None)])
    return found[0].id
