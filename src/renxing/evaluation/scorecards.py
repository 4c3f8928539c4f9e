"""Figures of the ratings: scorecards of a community's teams and organizations (staff; a partner
its own), one scorecard with comments, and the public satisfaction report (aggregates only)."""

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Forbidden, NotFound
from renxing.evaluation import report as rpt
from renxing.evaluation.models import DIMENSIONS, Rating, TargetKind
from renxing.evaluation.periods import periods_in, tz
from renxing.evaluation.served import Target, community_targets, label_pair, target
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import community_in_scope, community_of, sees, subtree_clause
from renxing.i18n import _

COMMENTS = 50  # the latest comments on a scorecard
SATISFIED = 12  # a rating's three scores summing to 12 or more: a mean of 4 or more


def _own(actor: Principal, t: Target) -> bool:
    """A partner organization's account reads its own scorecard."""
    return t.kind == TargetKind.organization.value and t.user_id is not None and t.user_id == actor.user_id


def _readable_target(session: Session, actor: Principal, kind: str, target_id: int) -> Target:
    """A target the actor may read the scorecard of; 404 otherwise, as for a record out of scope."""
    actor.require(Perm.evaluation_read)
    t = target(session, kind, target_id)
    if t is None:
        raise NotFound(_("评价对象不存在"))
    allowed = sees(actor, t.path) if actor.can(Perm.evaluation_read_all) else _own(actor, t)
    if not allowed:
        raise NotFound(_("评价对象不存在"))
    return t


def _overall(x: Rating) -> float:
    return round(sum(getattr(x, d) for d in DIMENSIONS) / len(DIMENSIONS), 2)


def _distribution(rows: list[Rating]) -> dict[str, list[int]]:
    dist = {d: [0] * 5 for d in DIMENSIONS}
    for x in rows:
        for d in DIMENSIONS:
            dist[d][getattr(x, d) - 1] += 1
    return dist


def _trend(rows: list[Rating]) -> list[dict[str, Any]]:
    """The mean of each month's ratings (by their last change, local time)."""
    months: dict[str, list[float]] = {}
    for x in rows:
        key = x.updated_at.astimezone(tz()).strftime("%Y-%m")
        months.setdefault(key, []).append(sum(getattr(x, d) for d in DIMENSIONS) / len(DIMENSIONS))
    return [{"month": m, "mean": round(sum(v) / len(v), 2), "count": len(v)} for m, v in sorted(months.items())]


def scorecard(
    session: Session, actor: Principal, kind: str, target_id: int, period: str | None = None
) -> dict[str, Any]:
    """Means per dimension, the distribution of scores, the monthly trend and the comments
    (anonymous) of one team or organization, over a period or all time."""
    t = _readable_target(session, actor, kind, target_id)
    stmt = select(Rating).where(Rating.target_kind == t.kind, Rating.target_id == t.id)
    if period:
        stmt = stmt.where(Rating.period.in_(periods_in(period)))
    rows = list(session.scalars(stmt.order_by(Rating.updated_at)))
    comments = [
        {"at": x.updated_at.isoformat(), "period": x.period, "comment": x.comment, "overall": _overall(x)}
        for x in sorted(rows, key=lambda x: x.updated_at, reverse=True)
        if x.comment
    ][:COMMENTS]
    return {
        "target": {"kind": t.kind, "id": t.id, "name": t.name, "kind_label": label_pair(t.kind_label)},
        "period": period,
        "count": len(rows),
        "means": {d: rpt.mean([getattr(x, d) for x in rows]) for d in DIMENSIONS},
        "overall": rpt.mean([_overall(x) for x in rows]) if rows else None,
        "distribution": _distribution(rows),
        "trend": _trend(rows),
        "comments": comments,
    }


def _aggregates(session: Session, periods: list[str] | None) -> dict[tuple[str, int], dict]:
    """Count and means per target in one grouped query."""
    stmt = select(
        Rating.target_kind,
        Rating.target_id,
        func.count(Rating.id),
        func.avg(Rating.variety),
        func.avg(Rating.quality),
        func.avg(Rating.responsiveness),
        func.count(func.distinct(Rating.resident_id)),
        func.sum(case((Rating.variety + Rating.quality + Rating.responsiveness >= SATISFIED, 1), else_=0)),
    ).group_by(Rating.target_kind, Rating.target_id)
    if periods:
        stmt = stmt.where(Rating.period.in_(periods))
    out = {}
    for kind, tid, n, v, q, r, raters, satisfied in session.execute(stmt):
        out[(kind, tid)] = {
            "count": int(n),
            "variety": round(float(v), 2),
            "quality": round(float(q), 2),
            "responsiveness": round(float(r), 2),
            "raters": int(raters),
            "satisfied": int(satisfied or 0),
        }
    return out


def _community_for(session: Session, actor: Principal, unit_id: int | None) -> GridUnit:
    """The community asked for (a 404 outside what the actor sees, hiding it), else the one of the
    actor's first scope unit, else the first community under it (a street), else the first of all."""
    if unit_id is not None:
        try:
            return community_in_scope(session, actor, unit_id)
        except Forbidden as exc:
            raise NotFound(_("社区不存在")) from exc
    path = actor.scope_paths[0] if actor.scope_paths else ""
    unit = community_of(session, path) if path else None
    communities = select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.path)
    if unit is None and path:
        unit = session.scalar(communities.where(subtree_clause(GridUnit.path, path)))
    if unit is None:
        unit = session.scalar(communities)
    if unit is None:
        raise NotFound(_("没有社区"))
    return unit


def scorecards(session: Session, actor: Principal, unit_id: int | None = None, period: str | None = None) -> dict:
    """Every team and organization of a community with its figures (a partner: its own)."""
    actor.require(Perm.evaluation_read)
    community = _community_for(session, actor, unit_id)
    periods = periods_in(period) if period else None
    targets = community_targets(session, community.path)
    if not actor.can(Perm.evaluation_read_all):
        targets = [t for t in targets if _own(actor, t)]
    agg = _aggregates(session, periods)
    empty = {"count": 0, "variety": None, "quality": None, "responsiveness": None, "raters": 0, "satisfied": 0}
    rows = [
        {
            "kind": t.kind,
            "id": t.id,
            "name": t.name,
            "kind_label": label_pair(t.kind_label),
            **agg.get((t.kind, t.id), empty),
        }
        for t in targets
    ]
    return {"community": {"id": community.id, "name": community.name}, "period": period, "rows": rows}


def satisfaction_report(session: Session, actor: Principal, unit_id: int | None, period: str) -> rpt.SatisfactionReport:
    """The public report of a community for a quarter or a year: aggregates only, no names. A
    resident reads their own community's."""
    actor.require(Perm.evaluation_report)
    community = _community_for(session, actor, unit_id)
    if actor.household_only and not (actor.scope_paths and actor.scope_paths[0].startswith(community.path)):
        raise NotFound(_("社区不存在"))
    periods = periods_in(period)
    agg = _aggregates(session, periods)
    rows = []
    total = satisfied = 0
    for t in community_targets(session, community.path):
        a = agg.get((t.kind, t.id))
        if a is None:
            continue
        rows.append(
            rpt.ReportRow(t.name, str(t.kind_label), a["count"], a["variety"], a["quality"], a["responsiveness"])
        )
        total += a["count"]
        satisfied += a["satisfied"]
    raters = session.scalar(
        select(func.count(func.distinct(Rating.resident_id))).where(
            Rating.period.in_(periods), subtree_clause(Rating.path, community.path)
        )
    )
    rows.sort(key=lambda r: (-(r.overall or 0), r.name))
    return rpt.SatisfactionReport(
        community=community.name,
        period=period,
        generated=utcnow().astimezone(tz()).strftime("%Y-%m-%d %H:%M"),
        rows=rows,
        total_count=total,
        raters=raters or 0,
        share_satisfied=round(satisfied / total, 4) if total else None,
    )


def report_answer(report: rpt.SatisfactionReport) -> dict[str, Any]:
    """The report as JSON: its fields, each row with its overall mean."""
    return {
        "community": report.community,
        "period": report.period,
        "generated": report.generated,
        "rows": [
            {
                "name": r.name,
                "kind_label": r.kind_label,
                "count": r.count,
                "variety": r.variety,
                "quality": r.quality,
                "responsiveness": r.responsiveness,
                "overall": r.overall,
            }
            for r in report.rows
        ],
        "total_count": report.total_count,
        "raters": report.raters,
        "share_satisfied": report.share_satisfied,
    }
