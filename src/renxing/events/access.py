"""Who stands how to a report, and loading a report with that check.

    report, kinds = load_report(session, actor, report_id, for_update=True)   # NotFound unless they may see it
    kinds = kinds_of(session, actor, report)   # reporter, handler, staff, system: one may be several
    visible_clause(actor)                      # the same rule in SQL, for lists
    allowed_actions(session, report, kinds)    # what the transition table lets them do now

A user stands to a report as reporter (their own), handler (assigned to them or escalated to
them), staff (a role that works reports, ``Perm.reports_work``, whose scope covers the report's
place) or system; a follower (the reporter of a merged duplicate) may read it too. A report the
user may not see is NotFound (404) rather than Forbidden: whether someone reported something is
not for everyone to learn.
"""

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import NotFound
from renxing.events import cache
from renxing.events.models import Report, ReportFollower
from renxing.events.policy import Action, ActorKind, actor_kinds
from renxing.grid.scope import scope_clause
from renxing.i18n import _


def kinds_of(session: Session, actor: Principal, report: Report) -> frozenset[ActorKind]:
    return actor_kinds(
        user_id=actor.user_id,
        role=actor.role,
        is_system=actor.is_system,
        in_scope=actor.covers_path(report.path) and not actor.is_global,
        reporter_user_id=report.reporter_user_id,
        handler_ids=(report.handler_user_id, report.escalated_to_user_id),
    )


def _is_follower(session: Session, actor: Principal, report_id: int) -> bool:
    if actor.user_id is None:
        return False
    return session.get(ReportFollower, (report_id, actor.user_id)) is not None


def load_report(
    session: Session, actor: Principal, report_id: int, *, for_update: bool = False
) -> tuple[Report, frozenset[ActorKind]]:
    stmt = select(Report).where(Report.id == report_id)
    if for_update:
        stmt = stmt.with_for_update()
    report = session.scalar(stmt)
    if report is None:
        raise NotFound(_("事件 {report_id} 不存在").format(report_id=report_id))
    kinds = kinds_of(session, actor, report)
    # 404 rather than 403: whether someone reported something is not for everyone to learn.
    if not kinds and not _is_follower(session, actor, report.id):
        raise NotFound(_("事件 {report_id} 不存在").format(report_id=report_id))
    return report, kinds


def get_report(session: Session, actor: Principal, report_id: int) -> Report:
    return load_report(session, actor, report_id)[0]


def visible_clause(actor: Principal):
    if actor.is_system:
        return true()
    uid = actor.user_id if actor.user_id is not None else -1
    conds = [
        Report.handler_user_id == uid,
        Report.escalated_to_user_id == uid,
        Report.id.in_(select(ReportFollower.report_id).where(ReportFollower.user_id == uid)),
    ]
    if actor.can(Perm.reports_work):
        clause = scope_clause(Report.path, actor)
        if clause is not None:
            conds.append(clause)
    return or_(*conds)


def may_give_feedback(report: Report, kinds: frozenset[ActorKind]) -> bool:
    """The public holds the ruler: the reporter rates the handling. Staff may record the answer
    of a caller who has no account, but a handler never rates their own work."""
    if ActorKind.reporter in kinds:
        return True
    return report.reporter_user_id is None and ActorKind.handler not in kinds


def allowed_actions(session: Session, report: Report, kinds: frozenset[ActorKind]) -> list[str]:
    actions = cache.actions_by_state(session, cache.versions(session)).get(report.state, ())
    allowed = {action for action, actors in actions if kinds & actors}
    if not may_give_feedback(report, kinds):
        allowed.discard(Action.feedback.value)
    return sorted(allowed)
