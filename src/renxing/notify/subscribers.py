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

from renxing.notify import service as notify
from renxing.signals.catalog import (
    EscalationDigest,
    ReportEscalated,
    ReportsAutoClosed,
    ReportSubmitted,
    ReportTransitioned,
)


@dataclass(frozen=True)
class Notice:
    """One message of a step: its words, whom it goes to, and whether the actor's note is its body."""

    title: str  # may name {other} (the other report of a merge) and {stars} (a rating)
    topic: str
    followers: bool = False
    handlers: bool = False
    previous: bool = False  # the handler before a transfer
    body: bool = False


NOTICES: dict[str, tuple[Notice, ...]] = {
    "assign": (Notice("新事件待受理 / new report to accept", "report.assign", handlers=True),),
    "transfer": (
        Notice("事件转办给您 / a report was transferred to you", "report.transfer", handlers=True),
        Notice("事件已转办 / your report was transferred", "report.transfer", followers=True, previous=True, body=True),
    ),
    "accept": (Notice("事件已受理 / your report was accepted", "report.accept", followers=True),),
    "check_in": (Notice("处置人员已到场 / the handler is on site", "report.check_in", followers=True),),
    "resolve": (
        Notice(
            "事件已办结，请评价 / resolved: was it solved? please rate it", "report.resolve", followers=True, body=True
        ),
    ),
    "close": (Notice("事件已关闭 / closed", "report.close", followers=True, handlers=True),),
    "reject": (Notice("事件被退回 / your report was rejected", "report.reject", followers=True, body=True),),
    "merge": (Notice("您的上报与 #{other} 合并处理 / merged into #{other}", "report.merge", followers=True),),
    "merged_in": (Notice("重复事件 #{other} 已并入 / a duplicate was merged in", "report.merge", handlers=True),),
    "reopen": (Notice("事件被重新打开 / a report was reopened", "report.reopen", handlers=True, body=True),),
    "feedback": (Notice("居民评价：已解决{stars} / rated", "report.feedback", handlers=True),),
}

AUTO_CLOSED = "事件已自动关闭 / report closed without feedback #"


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
        title = notice.title.format(other=e.other_report_id, stars=stars)
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
        title=f"新事件待受理：{e.category} #{e.report_id} / new report to accept",
        body=e.summary,
        link=e.link,
        topic="report.assign",
        report_id=e.report_id,
    )


def tell_escalation(session: Session, e: ReportEscalated) -> None:
    notify.push(
        session,
        [e.handler_user_id, e.escalated_to_user_id],
        title=f"事件升级督办 / a report was escalated to you：{e.category} #{e.report_id}",
        body=e.reason,
        link=e.link,
        topic="report.escalate",
        report_id=e.report_id,
    )


def tell_digest(session: Session, e: EscalationDigest) -> None:
    """One message per person for a whole sweep, however many reports climbed."""
    n = e.count
    if e.role == "reached":
        title, topic = f"{n} 件事件超时，升级至您督办 / {n} overdue report(s) escalated to you", "report.escalate"
    else:
        title = f"您有 {n} 件事件超时，已升级督办 / {n} of your reports are overdue and were escalated"
        topic = "report.overdue"
    report_id = e.first_report_id if n == 1 else None
    notify.push(session, [e.user_id], title=title, link=e.link, topic=topic, report_id=report_id)


def tell_auto_closed(session: Session, e: ReportsAutoClosed) -> None:
    """In-app only, all in one statement: a sweep may close thousands at once."""
    messages: Iterable[dict] = (
        {"user_id": user_id, "title": f"{AUTO_CLOSED}{report_id}", "link": link, "report_id": report_id}
        for report_id, user_id, link in e.followers
    )
    notify.push_each(session, list(messages), topic="report.auto_close", at=e.at)


def retry_deliveries(engine: Engine) -> None:
    """E-mail and webhook sendings left pending or failed: once the background sender is idle."""
    notify.dispatcher.join()
    notify.deliver_pending(engine)
