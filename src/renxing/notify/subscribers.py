"""What the inbox says when something happens to a report: the notify side of the report
events (:mod:`renxing.signals.catalog`), all subscribed inline so each message commits or
rolls back with the change it tells of.

The publisher says who stands where (handler, escalated-to, followers, the previous handler);
the table below says whom each step concerns and in what words. The actor is never told of
their own step.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from renxing.db import utcnow
from renxing.i18n import N_, _, bilingual, stored
from renxing.notify import service as notify
from renxing.signals.catalog import (
    AgreementExpiring,
    AlertReceived,
    EscalationDigest,
    HouseholdsUnreached,
    ModeChanged,
    ModeProposed,
    ReportEscalated,
    ReportsAutoClosed,
    ReportSubmitted,
    ReportTransitioned,
    StockBelowMinimum,
    WarningProposed,
    WarningSent,
)


@dataclass(frozen=True)
class Notice:
    """One message of a step: its words, whom it goes to, and whether the actor's note is its body."""

    title: str  # a catalog message; may name {other} (the other report of a merge) and {stars} (a rating)
    topic: str
    followers: bool = False
    handlers: bool = False
    previous: bool = False  # the handler before a transfer
    body: bool = False


NOTICES: dict[str, tuple[Notice, ...]] = {
    "assign": (Notice(N_("新事件待受理"), "report.assign", handlers=True),),
    "transfer": (
        Notice(N_("事件转办给您"), "report.transfer", handlers=True),
        Notice(N_("事件已转办"), "report.transfer", followers=True, previous=True, body=True),
    ),
    "accept": (Notice(N_("事件已受理"), "report.accept", followers=True),),
    "check_in": (Notice(N_("处置人员已到场"), "report.check_in", followers=True),),
    "resolve": (Notice(N_("事件已办结，请评价"), "report.resolve", followers=True, body=True),),
    "close": (Notice(N_("事件已关闭"), "report.close", followers=True, handlers=True),),
    "reject": (Notice(N_("事件被退回"), "report.reject", followers=True, body=True),),
    "merge": (Notice(N_("您的上报与 #{other} 合并处理"), "report.merge", followers=True),),
    "merged_in": (Notice(N_("重复事件 #{other} 已并入"), "report.merge", handlers=True),),
    "reopen": (Notice(N_("事件被重新打开"), "report.reopen", handlers=True, body=True),),
    "feedback": (Notice(N_("居民评价：已解决{stars}"), "report.feedback", handlers=True),),
}


def _recipients(notice: Notice, e: ReportTransitioned) -> set[int | None]:
    who: set[int | None] = set()
    if notice.followers:
        who |= set(e.follower_ids)
    if notice.handlers:
        who |= {e.handler_user_id, e.escalated_to_user_id}
    if notice.previous:
        who.add(e.previous_handler_id)
    who.discard(e.actor_user_id)
    return who


def tell_transition(session: Session, e: ReportTransitioned) -> None:
    stars = f"，{e.rating}星" if e.rating else ""
    for notice in NOTICES.get(e.action, ()):
        # Stored for readers of either language, naming the report after both.
        title = bilingual(notice.title, other=e.other_report_id, stars=stars)
        notify.push(
            session,
            _recipients(notice, e),
            title=f"{title}：{e.category} #{e.report_id}",
            body=e.note if notice.body else None,
            link=e.link,
            topic=notice.topic,
            report_id=e.report_id,
        )


def writes_only() -> bool:
    """Whether :func:`notify.push` only writes now (no e-mail or webhook deliveries to queue)."""
    return not notify.reads_back()


def tell_handler(session: Session, e: ReportSubmitted) -> None:
    """The new report's handler has something to accept."""
    notify.push(
        session,
        [e.handler_user_id],
        title=bilingual("新事件待受理：{category} #{report_id}", category=e.category, report_id=e.report_id),
        body=e.summary,
        link=e.link,
        topic="report.assign",
        report_id=e.report_id,
    )


def tell_escalation(session: Session, e: ReportEscalated) -> None:
    notify.push(
        session,
        [e.handler_user_id, e.escalated_to_user_id],
        title=bilingual("事件升级督办") + f"：{e.category} #{e.report_id}",
        body=e.reason,
        link=e.link,
        topic="report.escalate",
        report_id=e.report_id,
    )


def tell_digest(session: Session, e: EscalationDigest) -> None:
    """One message per person for a whole sweep, however many reports climbed."""
    n = e.count
    if e.role == "reached":
        title, topic = bilingual("{n} 件事件超时，升级至您督办", n=n), "report.escalate"
    else:
        title = bilingual("您有 {n} 件事件超时，已升级督办", n=n)
        topic = "report.overdue"
    report_id = e.first_report_id if n == 1 else None
    notify.push(session, [e.user_id], title=title, link=e.link, topic=topic, report_id=report_id)


def tell_auto_closed(session: Session, e: ReportsAutoClosed) -> None:
    """In-app only, all in one statement: a sweep may close thousands at once."""
    messages: Iterable[dict] = (
        {
            "user_id": user_id,
            "title": bilingual("事件已自动关闭 #{report_id}", report_id=report_id),
            "link": link,
            "report_id": report_id,
        }
        for report_id, user_id, link in e.followers
    )
    notify.push_each(session, list(messages), topic="report.auto_close", at=e.at)


def retry_deliveries(engine: Engine) -> None:
    """E-mail and webhook sendings left pending or failed: once the background sender is idle."""
    notify.dispatcher.join()
    notify.deliver_pending(engine)


def tell_agreement_expiring(session: Session, e: AgreementExpiring) -> None:
    """Renewal reminder: staff and the partner hear it thirty days ahead."""
    notify.push(
        session,
        e.recipients,
        title=bilingual(
            "储备协议即将到期：{organization}（{number}，{until} 止）",
            organization=e.organization,
            number=e.number,
            until=e.valid_until,
        ),
        link=e.link,
        topic="supplies.agreement",
    )


def tell_stock_below_minimum(session: Session, e: StockBelowMinimum) -> None:
    notify.push(
        session,
        e.recipients,
        title=bilingual(
            "物资低于最低储备：{point} {item} 现有 {level}{unit}，最低 {minimum}{unit}",
            point=e.point,
            item=e.item,
            level=e.level,
            minimum=e.minimum,
            unit=e.unit,
        ),
        link=e.link,
        topic="supplies.minimum",
    )


def tell_alert_received(session: Session, e: AlertReceived) -> None:
    """Staff of the matched communities hear of an incoming alert, its update or its cancellation."""
    notify.push(
        session,
        e.recipients,
        title=bilingual("收到预警信息（{msg_type}）：{headline}", msg_type=e.msg_type, headline=e.headline),
        link=e.link,
        topic="warning.incoming",
    )


def tell_warning_proposed(session: Session, e: WarningProposed) -> None:
    """A draft to review, or an orange/red warning waiting for a second person's approval."""
    if e.approval:
        title = bilingual("预警待审核：{headline}", headline=e.headline)
    else:
        title = bilingual("建议发布预警：{headline}", headline=e.headline)
    notify.push(session, e.recipients, title=title, link=e.link, topic="warning.proposed")


def tell_warning_sent(session: Session, e: WarningSent) -> None:
    """Building leaders and carers of vulnerable households: go and check on them in person."""
    notify.push(
        session,
        e.door_to_door,
        title=bilingual("预警已发布，请上门确认重点人员：{headline}", headline=e.headline),
        link=e.link,
        topic="warning.door_to_door",
    )


def tell_households_unreached(session: Session, e: HouseholdsUnreached) -> None:
    """Each holder of the next rung: how many households of theirs have not confirmed yet."""
    messages = [
        {
            "user_id": user_id,
            "title": bilingual("预警未确认：{count} 户待联系（{headline}）", count=count, headline=e.headline)[:200],
            "link": e.link,
            "report_id": None,
        }
        for user_id, count in e.counts
    ]
    notify.push_each(session, messages, topic="warning.unreached", at=utcnow())


def tell_mode_changed(session: Session, e: ModeChanged) -> None:
    """Staff covering a community hear that its operating mode was switched (and why)."""

    def words() -> str:
        text = _("{community}已切换至{mode}状态").format(community=e.community, mode=stored(e.to_name))
        return text + (_("（演练）") if e.exercise else "")

    notify.push(session, e.recipients, title=bilingual(words)[:200], body=e.reason, link=e.link, topic="response.mode")


def tell_mode_proposed(session: Session, e: ModeProposed) -> None:
    """A rule proposes switching a community's mode: its staff confirm or dismiss it."""

    def words() -> str:
        text = _("建议{community}切换至{mode}状态").format(community=e.community, mode=stored(e.to_name))
        return text + (_("（演练）") if e.exercise else "")

    notify.push(
        session, e.recipients, title=bilingual(words)[:200], body=e.reason, link=e.link, topic="response.proposed"
    )
