"""What the warning pages show: the list with the colour table, the compose form with its map, and
one warning with the actions its reader may take. Built from the services; templates only print.

Maps draw WGS-84 outlines, converted to the datum of the configured basemap when it is GCJ-02 so
they line up with its tiles; a polygon drawn on such a map is posted with that datum and brought
back to WGS-84 by the service.
"""

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.errors import FieldError
from renxing.geo.coords import CRS, convert_geometry
from renxing.grid import directory as grid
from renxing.grid.scope import in_scope
from renxing.i18n import _, _l, _lp
from renxing.listing import ListQuery
from renxing.warning import composing, levels, sending
from renxing.warning.models import LEVEL_LABELS, WarningMessage
from renxing.web.pagekit import basemap
from renxing.web.templating import local_time

LIST_PAGE = 20
STATUS_LABELS = {
    "draft": _l("草稿"),
    "pending": _l("待审核"),
    "sent": _l("已发布"),
    "rejected": _l("未通过"),
    "withdrawn": _l("已撤回"),
}
# CAP msgType: "预警" and "解除" also name the section (Warnings) and a cleared sensor trigger.
MSG_TYPE_LABELS = {"Alert": _lp("CAP msgType", "预警"), "Update": _l("更新"), "Cancel": _lp("CAP msgType", "解除")}
CHANNEL_LABELS = {
    "in_app": _l("应用内"),
    "sms": _l("短信"),
    "voice": _l("语音电话"),
    "email": _l("电子邮件"),
    "log": _l("日志（开发）"),
}
CATEGORY_LABELS = {
    "Met": _l("气象"),
    "Geo": _l("地质"),
    "Fire": _l("火灾"),
    "Safety": _l("安全"),
    "Infra": _l("基础设施"),
    "Health": _l("卫生"),
    "Env": _l("环境"),
    "Transport": _l("交通"),
    "Security": _l("治安"),
    "Rescue": _l("救援"),
    "CBRNE": _l("危化品"),
    "Other": _l("其他"),
}
UNIT_LEVEL_LABELS = {"community": _l("社区"), "compound": _l("小区"), "area": _l("片区")}


def when(w: WarningMessage) -> dict[str, str]:
    """The warning's moments as its pages print them (the platform's zone)."""
    return {
        "created": local_time(w.created_at),
        "sent": local_time(w.sent_at),
        "effective": local_time(w.effective),
        "expires": local_time(w.expires),
        "decided": local_time(w.decided_at),
    }


def _row(w: WarningMessage) -> dict[str, Any]:
    return {**composing.present_row(w), "when": when(w)}


def labels() -> dict[str, Any]:
    return {
        "LEVEL_LABELS": {k.value: v for k, v in LEVEL_LABELS.items()},
        "STATUS_LABELS": STATUS_LABELS,
        "MSG_TYPE_LABELS": MSG_TYPE_LABELS,
        "CHANNEL_LABELS": CHANNEL_LABELS,
        "CATEGORY_LABELS": CATEGORY_LABELS,
    }


def _shown(geometry: str | dict | None, crs: str) -> dict | None:
    if not geometry:
        return None
    try:
        value = json.loads(geometry) if isinstance(geometry, str) else geometry
        return value if crs == CRS.wgs84.value else convert_geometry(value, CRS.wgs84, crs)
    except (ValueError, TypeError, KeyError):
        return None


def local_input(value: datetime | None) -> str:
    """A moment as a datetime-local field shows it (the platform's zone, to the minute)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%dT%H:%M")


def parse_local(text: str, field: str, errors: list[FieldError]) -> datetime | None:
    """A datetime-local field's value, in the platform's zone; blank is none."""
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(field, _("时间格式应为 年-月-日 时:分"), value=text))
        return None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(get_settings().timezone))


# ---- the list ------------------------------------------------------------------------------------


def list_context(session: Session, actor: Principal, query: ListQuery) -> dict[str, Any]:
    page = composing.list_warnings(session, actor, query)
    return {
        **labels(),
        "page": page,
        "rows": [_row(w) for w in page.items],
        "params": {"q": query.q, **query.filters},
        "can_compose": actor.can(Perm.warnings_compose),
        "levels": [levels.present(row) for row in levels.list_levels(session, actor)],
        "can_edit_levels": actor.can(Perm.settings_street),
        "enums": levels.ENUMERATIONS,
    }


# ---- composing -----------------------------------------------------------------------------------


def warned_units(session: Session, actor: Principal) -> list[dict[str, Any]]:
    """The communities, compounds and areas the actor may warn, each with its outline."""
    paths = ["/"] if actor.is_global else list(actor.scope_paths)
    found: dict[int, Any] = {}
    for path in paths:
        for level in composing.WARNED_LEVELS:
            for unit in grid.units_under(session, path, level):
                if in_scope(actor, unit.path):
                    found[unit.id] = unit
    order = {level: n for n, level in enumerate(composing.WARNED_LEVELS)}
    units = sorted(found.values(), key=lambda u: (u.path.count("/"), order[u.level], u.code))
    _tiles, crs = basemap()
    return [
        {
            "id": u.id,
            "name": u.name,
            "level": u.level,
            "level_label": str(UNIT_LEVEL_LABELS[u.level]),
            "geometry": _shown(u.geometry, crs),
            "lon": u.lon,
            "lat": u.lat,
        }
        for u in units
    ]


def _level_hints(session: Session, actor: Principal) -> dict[str, bool]:
    return {row.code: bool(row.needs_approval) for row in levels.list_levels(session, actor)}


def compose_context(
    session: Session,
    actor: Principal,
    values: dict[str, Any],
    errors: list[FieldError] | None = None,
    *,
    warning: WarningMessage | None = None,
) -> dict[str, Any]:
    units = warned_units(session, actor)
    tiles, crs = basemap()
    polygon = values.get("polygon")
    needs = _level_hints(session, actor)
    return {
        **labels(),
        "values": values,
        "errors": {e.field.split(".")[0]: e.message for e in errors or []},
        "error_list": errors or [],
        "units": units,
        "needs_approval": needs,
        "warning": warning,
        "map": {
            "units": units,
            "basemap": tiles,
            "crs": crs,
            "polygon": _shown(polygon, crs) if isinstance(polygon, dict | str) else None,
            "needsApproval": needs,
            "t": {
                "draw": _("在地图上画区域"),
                "drawing": _("依次点击地图添加顶点"),
                "undo": _("撤销上一点"),
                "clear": _("清除"),
                "vertices": _("已画 {n} 个顶点"),
                "none": _("未画区域：按所选单元的范围发布"),
                "tooFew": _("至少需要 3 个顶点"),
                "approval": _("该级别须由另一位工作人员审核后发布"),
                "direct": _("该级别由您直接发布"),
            },
        },
    }


def form_values(w: WarningMessage | None = None) -> dict[str, Any]:
    """The compose form's values: a warning's, or a new one's defaults."""
    if w is None:
        return {"level": "yellow", "category": "Met", "channels": composing.default_channels(), "public": True}
    return {
        "unit_id": w.unit_id,
        "level": w.level,
        "event": w.event,
        "category": w.category,
        "headline": w.headline,
        "description": w.description,
        "instruction": w.instruction or "",
        "effective": local_input(w.effective),
        "expires": local_input(w.expires),
        "channels": list(w.channels or []),
        "exercise": w.exercise,
        "public": w.public,
        "area_desc": w.area_desc,
        "polygon": w.polygon,
    }


# ---- one warning ---------------------------------------------------------------------------------


def read_context(session: Session, actor: Principal, warning_id: int) -> dict[str, Any]:
    w = composing.get_warning(session, actor, warning_id)
    shown = composing.present(actor, w)
    tiles, crs = basemap()
    unit = grid.unit(session, w.unit_id)
    chain = sending.chain(session, w) if w.status == "sent" or w.references_id else []
    others = [x for x in chain if x.id != w.id]
    mine = actor.user_id is not None and actor.user_id == w.created_by
    return {
        **labels(),
        "w": shown,
        "unit_name": unit.name if unit is not None else "",
        "level": levels.present(sending.level_row(session, w.level)),
        "chain": [_row(x) for x in others],
        "when": when(w),
        "mine": mine,
        "approved_by_me": actor.user_id is not None and actor.user_id == w.approved_by,
        "staff_link": f"/api/v1/warning/warnings/{w.id}/cap.xml" if w.cap_xml else None,
        "map": {
            "basemap": tiles,
            "crs": crs,
            "polygon": _shown(w.polygon, crs),
            "outline": _shown(unit.geometry if unit is not None else None, crs),
            "point": [unit.lat, unit.lon] if unit is not None and unit.lat is not None else None,
            "level": w.level,
        },
    }
