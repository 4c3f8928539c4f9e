"""Residents rate the teams and organizations that served them: one rating per rater, target
and quarter; a second one in the quarter updates the first (audited)."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import FieldError, Forbidden, Invalid
from renxing.evaluation.models import DIMENSIONS, Rating, TargetKind
from renxing.evaluation.periods import period_bounds, period_of
from renxing.evaluation.schemas import RatingIn
from renxing.evaluation.served import Target, community_targets, label_pair, service_basis, target
from renxing.grid.scope import community_of
from renxing.i18n import _
from renxing.people import directory as people

if TYPE_CHECKING:
    from renxing.people.models import Resident


def _rater(session: Session, actor: Principal) -> "Resident":
    actor.require(Perm.evaluation_rate)
    if actor.resident_id is None:
        raise Forbidden(_("只有居民可以评价"))
    r = people.living_resident(session, actor.resident_id)
    if r is None:
        raise Forbidden(_("居民档案不存在"))
    return r


def rateable(session: Session, actor: Principal, now: datetime | None = None) -> list[dict[str, Any]]:
    """The teams and organizations of the resident's community that served them, for the form."""
    r = _rater(session, actor)
    community = community_of(session, r.path)
    if community is None:
        return []
    period = period_of(now or utcnow())
    mine = {
        (x.target_kind, x.target_id): x
        for x in session.scalars(select(Rating).where(Rating.resident_id == r.id, Rating.period == period))
    }
    out = []
    for t in community_targets(session, community.path):
        basis = service_basis(session, r.id, t, now)
        if basis is None:
            continue
        done = mine.get((t.kind, t.id))
        out.append(
            {
                "kind": t.kind,
                "id": t.id,
                "name": t.name,
                "kind_label": label_pair(t.kind_label),
                "basis": basis,
                "period": period,
                "mine": None if done is None else {d: getattr(done, d) for d in (*DIMENSIONS, "comment")},
            }
        )
    return out


def _rated_period(data: RatingIn, now: datetime) -> str:
    """The quarter rated (the current one by default); a year or a quarter not begun is a 422."""
    period = data.period or period_of(now)
    start, _end = period_bounds(period)
    if "Q" not in period:
        raise Invalid(_("请按季度评价"), [FieldError("period", "quarter")])
    if start > now:
        raise Invalid(_("不能评价未来的期间"), [FieldError("period", "future")])
    return period


def _community_target(session: Session, r: "Resident", data: RatingIn) -> Target:
    """The target named, if it belongs to the rater's community; a 422 on ``target_id`` otherwise."""
    t = target(session, data.target_kind, data.target_id)
    community = community_of(session, r.path)
    if t is None or community is None or t.path != community.path:
        raise Invalid(_("评价对象不存在"), [FieldError("target_id", "not found")])
    return t


def _basis(session: Session, r: "Resident", t: Target, now: datetime) -> str:
    """How the target served the rater; a 422 on ``target_id`` when it never did."""
    basis = service_basis(session, r.id, t, now)
    if basis is None:
        raise Invalid(_("您未接受过该组织的服务，不能评价"), [FieldError("target_id", "no_service_received")])
    return basis


def rate(session: Session, actor: Principal, data: RatingIn, now: datetime | None = None) -> tuple[Rating, bool]:
    """Create or update the resident's rating of a target for a period; True when created."""
    now = now or utcnow()
    r = _rater(session, actor)
    t = _community_target(session, r, data)
    period = _rated_period(data, now)
    basis = _basis(session, r, t, now)
    values = {d: getattr(data, d) for d in DIMENSIONS} | {"comment": data.comment or None}
    row = session.scalar(
        select(Rating).where(
            Rating.resident_id == r.id,
            Rating.target_kind == t.kind,
            Rating.target_id == t.id,
            Rating.period == period,
        )
    )
    if row is None:
        row = Rating(
            resident_id=r.id,
            path=r.path,
            target_kind=t.kind,
            target_id=t.id,
            team_id=t.id if t.kind == TargetKind.team.value else None,
            organization_id=t.id if t.kind == TargetKind.organization.value else None,
            period=period,
            basis=basis,
            created_at=now,
            updated_at=now,
            **values,
        )
        session.add(row)
        session.flush()
        audit.record(session, actor, "create", "rating", row.id, after=audit.snapshot(row))
        return row, True
    before = audit.snapshot(row)
    for k, v in values.items():
        setattr(row, k, v)
    row.basis = basis
    row.updated_at = now
    session.flush()
    old, new = audit.changed(before, audit.snapshot(row))
    audit.record(session, actor, "update", "rating", row.id, before=old, after=new)
    return row, False


def rating_answer(row: Rating, created: bool) -> dict[str, Any]:
    return {
        "id": row.id,
        "created": created,
        "target_kind": row.target_kind,
        "target_id": row.target_id,
        "period": row.period,
        "variety": row.variety,
        "quality": row.quality,
        "responsiveness": row.responsiveness,
        "comment": row.comment,
        "basis": row.basis,
    }
