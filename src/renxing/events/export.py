"""The staff overview of reports as an .xlsx workbook, with the same filters as the page.

Reporters' phones appear as the user sees them on screen (masked for roles that do not call
back); a file holding any phone in the clear is recorded in the audit log, like every
export of personal data.
"""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Forbidden, Invalid
from renxing.events import access, lookups, pagedata, queries
from renxing.events.models import Report
from renxing.events.policy import CHANNEL_LABELS, SEVERITY_LABELS
from renxing.exporting import to_xlsx
from renxing.i18n import _, _l, localized
from renxing.listing import ListQuery

MAX_EXPORT_ROWS = 20_000

COLUMNS = [
    _l("编号"),
    _l("公开编号"),
    _l("类别"),
    _l("状态"),
    _l("紧急程度"),
    _l("渠道"),
    _l("描述"),
    _l("地点"),
    _l("地址"),
    _l("上报人"),
    _l("上报人电话"),
    _l("承办人"),
    _l("升级督办至"),
    _l("上报时间"),
    _l("受理时间"),
    _l("到场时间"),
    _l("办结时间"),
    _l("关闭时间"),
    _l("受理时限"),
    _l("到场时限"),
    _l("办结时限"),
    _l("当前超时"),
    _l("是否解决"),
    _l("评分"),
    _l("评价"),
    _l("办结说明"),
    _l("退回原因"),
]


def _label(label: Any, code: str) -> str:
    """A catalog label, or a row's (zh, en) pair, in the export's language; the code when there is none."""
    if label is None:
        return code
    return localized(*label) if isinstance(label, tuple) else str(label)


def _row(r: Report, view: dict[str, Any], place: str, categories: dict, states: dict) -> list[Any]:
    """One report as the columns of the sheet; the reporter as the user sees them on screen."""
    reporter = view["reporter"]
    # StrEnum keys look up by their plain string value.
    severity = SEVERITY_LABELS.get(r.severity)  # type: ignore[call-overload]
    channel = CHANNEL_LABELS.get(r.channel)  # type: ignore[call-overload]
    solved = None if r.feedback_solved is None else (_("否"), _("是"))[r.feedback_solved]
    return [
        r.id,
        r.token,
        _label(categories.get(r.category_code), r.category_code),
        _label(states.get(r.state), r.state),
        _label(severity, r.severity),
        _label(channel, r.channel),
        r.description,
        place,
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
        _("是") if view["overdue"] else "",
        solved,
        r.feedback_rating,
        r.feedback_comment,
        r.resolution_note,
        r.reject_reason,
    ]


def export_reports(
    session: Session, actor: Principal, query: ListQuery, *, now: datetime | None = None
) -> tuple[bytes, int]:
    """Every report of the overview's filters and sort (``queries.list_reports``) as .xlsx bytes."""
    if not actor.can(Perm.reports_work):
        raise Forbidden(_("只有网格工作人员可以导出事件"))
    reports = queries.all_reports(session, actor, query, limit=MAX_EXPORT_ROWS + 1, now=now)
    if len(reports) > MAX_EXPORT_ROWS:
        raise Invalid(
            _("超过 {max_export_rows} 条，请缩小范围分批导出").format(max_export_rows=MAX_EXPORT_ROWS),
            [],
        )
    labels = (pagedata.category_labels(session), lookups.state_labels(session))
    places = pagedata.place_names(session, reports)
    rows = []
    clear = 0
    for r in reports:
        view = queries.present(r, actor, access.kinds_of(session, actor, r), now=now)
        if r.reporter_phone and view["reporter"]["phone"] == r.reporter_phone:
            clear += 1
        rows.append(_row(r, view, places.get(r.id, ""), *labels))
    data = to_xlsx([str(h) for h in COLUMNS], rows, sheet=_("事件"))
    if clear:
        audit.record(
            session,
            actor,
            "export",
            "report",
            None,
            summary=(_("导出事件 {len} 条（含电话明文 {clear} 条）").format(len=len(rows), clear=clear)),
            after={"rows": len(rows), "clear_phones": clear, "filters": {k: str(v) for k, v in query.filters.items()}},
        )
    return data, len(rows)
