"""What the reach's API and pages show: progress and the unreached as plain dicts (the API's
answers and the page's data block are the same shapes, so the page's script refreshes from the API)."""

from datetime import datetime
from typing import Any

from renxing.i18n import _, _l
from renxing.warning.climbing import RUNG_LABELS
from renxing.warning.models import LEVEL_LABELS
from renxing.warning.progress import STATES, Place, Progress, Unreached

STATE_LABELS = {
    "acknowledged": _l("已确认"),
    "delivered": _l("已送达"),
    "sent": _l("已发送"),
    "queued": _l("排队中"),
    "failed": _l("失败"),
}
CHANNEL_LABELS = {
    "in_app": _l("应用内"),
    "sms": _l("短信"),
    "voice": _l("语音电话"),
    "email": _l("电子邮件"),
    "log": _l("日志"),
}
HOW_CHOICES = (("call", _l("电话确认")), ("door", _l("上门确认")), ("app", _l("应用内确认")))


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def place_out(p: Place) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "households": p.households,
        "acknowledged": p.acknowledged,
        "unreached": p.unreached,
        "percent": p.percent,
        "states": dict(p.states),
        "lon": p.lon,
        "lat": p.lat,
        "area_id": p.area_id,
    }


def progress_out(p: Progress) -> dict[str, Any]:
    w = p.warning
    return {
        "warning_id": w.id,
        "headline": w.headline,
        "level": w.level,
        "msg_type": w.msg_type,
        "status": w.status,
        "sent_at": _iso(w.sent_at),
        "next_climb_at": None if p.percent >= 100 or p.superseded else _iso(w.next_climb_at),
        "lifted": p.lifted,
        "superseded": p.superseded,
        "totals": {"households": p.households, "acknowledged": p.acknowledged, "percent": p.percent},
        "states": dict(p.states),
        "channels": [{"channel": c, "states": states} for c, states in p.channels.items()],
        "buildings": [place_out(b) for b in p.buildings],
        "areas": [place_out(a) for a in p.areas],
        "climbs": [
            {
                "at": c.at.isoformat(),
                "rung": c.rung,
                "rung_label": str(RUNG_LABELS.get(c.rung, c.rung)),
                "households": c.households,
                "recipients": len(c.recipients or []),
            }
            for c in p.climbs
        ],
    }


def unreached_out(u: Unreached) -> dict[str, Any]:
    return dict(u.__dict__)


def labels() -> dict[str, Any]:
    """The words the page's script needs, in the reader's language."""
    return {
        "states": {s: str(STATE_LABELS[s]) for s in STATES},
        "channels": {k: str(v) for k, v in CHANNEL_LABELS.items()},
        "hows": [[k, str(v)] for k, v in HOW_CHOICES],
        "rungs": {str(k): str(v) for k, v in RUNG_LABELS.items()},
        "count": _("已确认 {acknowledged} / {households} 户"),
        "climb": _("第 {rung} 级（{who}）：{households} 户未确认，通知 {recipients} 人"),
        "updated": _("更新于 {time}"),
        "door": _("需上门"),
        "vulnerability": _("脆弱度 {n}"),
        "rung": _("已上溯 {n} 级"),
        "record": _("记录"),
        "note": _("备注"),
        "how": _("确认方式"),
        "all_reached": _("您负责范围内的住户都已确认"),
        "no_climb": _("尚未上溯"),
        "households": _("住户"),
        "pager": _("第 {page} / {pages} 页，共 {total} 条"),
    }


def page_context(p: Progress, rows: list[Unreached], page: Any, may_record: bool) -> dict[str, Any]:
    data = progress_out(p)
    return {
        "p": p,
        "data": data,
        "rows": rows,
        "page": page,
        "may_record": may_record,
        "STATES": STATES,
        "STATE_LABELS": STATE_LABELS,
        "CHANNEL_LABELS": CHANNEL_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
        "RUNG_LABELS": RUNG_LABELS,
        "HOW_CHOICES": HOW_CHOICES,
        "script": {"progress": data, "labels": labels(), "may_record": may_record, "warning_id": p.warning.id},
    }
