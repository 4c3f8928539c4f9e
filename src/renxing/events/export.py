"""The staff overview of reports as an .xlsx workbook, with the same filters as the page.

Reporters' phones appear as the user sees them on screen (masked for roles that do not call
back); a file holding any phone in the clear is recorded in the audit log, like every
export of personal data.
"""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.principal import Principal
from renxing.errors import Forbidden, Invalid
from renxing.events import pagedata, queries, service
from renxing.events.models import Report
from renxing.events.policy import CHANNEL_LABELS, SEVERITY_LABELS
from renxing.exporting import to_xlsx

MAX_EXPORT_ROWS = 20_000
BATCH = 500

COLUMNS = [
    ("编号", "No."),
    ("公开编号", "Public token"),
    ("类别", "Category"),
    ("状态", "State"),
    ("紧急程度", "Severity"),
    ("渠道", "Channel"),
    ("描述", "Description"),
    ("地点", "Place"),
    ("地址", "Address"),
    ("上报人", "Reporter"),
    ("上报人电话", "Reporter phone"),
    ("承办人", "Handler"),
    ("升级督办至", "Escalated to"),
    ("上报时间", "Submitted"),
    ("受理时间", "Accepted"),
    ("到场时间", "On site"),
    ("办结时间", "Resolved"),
    ("关闭时间", "Closed"),
    ("受理时限", "Accept by"),
    ("到场时限", "On site by"),
    ("办结时限", "Resolve by"),
    ("当前超时", "Overdue now"),
    ("是否解决", "Solved"),
    ("评分", "Rating"),
    ("评价", "Comment"),
    ("办结说明", "Resolution"),
    ("退回原因", "Rejection reason"),
]


def _label(pair: tuple[str, str] | None, code: str, en: bool) -> str:
    if pair is None:
        return code
    return pair[1] if en else pair[0]


def export_reports(
    session: Session, actor: Principal, *, lang: str = "zh", now: datetime | None = None, **filters: Any
) -> tuple[bytes, int]:
    """Every report of the overview's filters (``queries.list_reports`` keywords) as .xlsx bytes."""
    if not pagedata.is_event_staff(actor):
        raise Forbidden("只有网格工作人员可以导出事件 / only grid staff export reports")
    reports: list[Report] = []
    page = 1
    while True:
        result = queries.list_reports(session, actor, page=page, size=BATCH, **filters)
        reports += result.items
        if len(reports) > MAX_EXPORT_ROWS:
            raise Invalid(
                f"超过 {MAX_EXPORT_ROWS} 条，请缩小范围分批导出 / "
                f"more than {MAX_EXPORT_ROWS} reports; narrow the filters",
                [],
            )
        if page >= result.pages:
            break
        page += 1
    en = lang == "en"
    categories = pagedata.category_labels(session)
    states = service.state_labels(session)
    places = pagedata.place_names(session, reports)
    rows = []
    clear = 0
    for r in reports:
        view = queries.present(r, actor, service.kinds_of(session, actor, r), now=now)
        reporter = view["reporter"]
        if r.reporter_phone and reporter["phone"] == r.reporter_phone:
            clear += 1
        # StrEnum keys look up by their plain string value.
        severity = SEVERITY_LABELS.get(r.severity)  # type: ignore[call-overload]
        channel = CHANNEL_LABELS.get(r.channel)  # type: ignore[call-overload]
        solved = None if r.feedback_solved is None else (("否", "no"), ("是", "yes"))[r.feedback_solved]
        rows.append(
            [
                r.id,
                r.token,
                _label(categories.get(r.category_code), r.category_code, en),
                _label(states.get(r.state), r.state, en),
                _label(severity, r.severity, en),
                _label(channel, r.channel, en),
                r.description,
                places.get(r.id, ""),
                r.address,
                reporter["name"],
                reporter["phone"],
                r.handler_label,
                r.escalated_to_label,
                r.created_at,
                r.accepted_at,
                r.on_site_at,
                r.resolved_at,
                r.closed_at,
                r.due_accept,
                r.due_on_site,
                r.due_resolve,
                ("是", "yes")[en] if view["overdue"] else "",
                _label(solved, "", en) if solved else None,
                r.feedback_rating,
                r.feedback_comment,
                r.resolution_note,
                r.reject_reason,
            ]
        )
    headers = [en_h if en else zh for zh, en_h in COLUMNS]
    data = to_xlsx(headers, rows, sheet="reports" if en else "事件")
    if clear:
        audit.record(
            session,
            actor,
            "export",
            "report",
            None,
            summary=(
                f"导出事件 {len(rows)} 条（含电话明文 {clear} 条）/ "
                f"exported {len(rows)} reports, {clear} phones in clear"
            ),
            after={"rows": len(rows), "clear_phones": clear, "filters": {k: str(v) for k, v in filters.items()}},
        )
    return data, len(rows)
