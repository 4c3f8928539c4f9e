"""Composing a warning (编制预警): staff write a draft for a community, compound or area of their
grid, or for a polygon drawn inside it; they edit it while it is a draft; everyone who reads
warnings lists and reads them.

A draft carries a provisional identifier; the CAP identifier is given when it is sent
(``sending.freeze``). Times are aware (a naive time is refused naming the field), ``expires`` after
``effective``; a drawn polygon is checked (``polygon.parse_polygon``: closed, simple, sane) and
must touch the warned unit's outline when the unit has one.
"""

import json
import uuid
from datetime import datetime
from typing import Any

from shapely.geometry import Polygon
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import Collector, Conflict, FieldError, Invalid
from renxing.geo.shapes import stored_shape
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import unit_in_scope
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.warning import access
from renxing.warning.models import LEVEL_LABELS, WarningMessage, WarningStatus
from renxing.warning.models import Level as Colour
from renxing.warning.polygon import PolygonError, as_geojson, parse_polygon
from renxing.warning.schemas import WarningIn, WarningPatch

WARNED_LEVELS = (Level.community.value, Level.compound.value, Level.area.value)
CHANNELS = ("in_app", "sms", "voice", "email", "log")
STATUSES = tuple(s.value for s in WarningStatus)
COLOURS = tuple(c.value for c in Colour)
EDITABLE = ("draft",)
REQUIRED = ("level", "event", "category", "headline", "description", "exercise", "public", "channels", "unit_id")


def _choice(allowed: tuple[str, ...]):
    def parse(value: Any) -> str:
        if str(value) not in allowed:
            raise ValueError(value)
        return str(value)

    return parse


WARNINGS = ListSpec(
    sorts={"sent": WarningMessage.sent_at, "created": WarningMessage.id, "level": WarningMessage.level},
    default_sort="-created",
    tiebreaker=WarningMessage.id,
    search=(WarningMessage.headline, WarningMessage.event, WarningMessage.identifier),
    filters={
        "status": Filter(WarningMessage.status, parse=_choice(STATUSES)),
        "level": Filter(WarningMessage.level, parse=_choice(COLOURS)),
        "unit_id": Filter(WarningMessage.unit_id),
        "msg_type": Filter(WarningMessage.msg_type, parse=_choice(("Alert", "Update", "Cancel"))),
    },
)


def default_channels() -> list[str]:
    configured = [c.strip() for c in get_settings().warning_channels.split(",") if c.strip()]
    return [c for c in configured if c in CHANNELS] or ["in_app"]


def provisional_identifier() -> str:
    return f"draft-{uuid.uuid4().hex}"


# ---- checks -----------------------------------------------------------------------------------------


def warned_unit(session: Session, actor: Principal, unit_id: int) -> GridUnit:
    """The unit a warning is for: a community, compound or area inside the actor's scope."""
    unit = unit_in_scope(session, actor, unit_id, write=True)
    if unit.level not in WARNED_LEVELS:
        why = _("预警对象应为社区、小区或片区")
        raise Invalid(why, [FieldError("unit_id", why, value=str(unit_id))])
    return unit


def drawn_polygon(value: dict[str, Any] | None, crs: str, unit: GridUnit) -> str | None:
    """The drawn polygon as stored GeoJSON (WGS-84), or None for the unit's outline; 422 naming
    ``polygon`` when it is not a closed, simple, sane ring touching the unit."""
    if value is None:
        return None
    try:
        ring = parse_polygon(value, crs)
    except PolygonError as exc:
        raise Invalid(_("所画区域无效"), [FieldError("polygon", str(exc))]) from exc
    outline = stored_shape(unit.geometry)
    if outline is not None and not outline.intersects(Polygon(ring)):
        why = _("所画区域不在{unit}范围内").format(unit=unit.name)
        raise Invalid(why, [FieldError("polygon", why)])
    return as_geojson(ring)


def check_times(effective: datetime | None, expires: datetime | None, errors: Collector) -> None:
    for name, value in (("effective", effective), ("expires", expires)):
        if value is not None and value.tzinfo is None:
            errors.add(name, _("时间应带时区，例如 2025-03-03T10:00:00+08:00"), value=value.isoformat())
    if errors.errors:
        return
    if effective is not None and expires is not None and expires <= effective:
        errors.add("expires", _("失效时间应晚于生效时间"), value=expires.isoformat())


def _channels(values: list[str] | None) -> list[str]:
    if values is None:
        return default_channels()
    return [c for c in CHANNELS if c in values]  # one of each, in a stable order


# ---- writes -------------------------------------------------------------------------------------


def compose(session: Session, actor: Principal, data: WarningIn) -> WarningMessage:
    """A new draft warning (nothing is sent until ``approving.send``)."""
    actor.require(Perm.warnings_compose)
    unit = warned_unit(session, actor, data.unit_id)
    errors = Collector()
    check_times(data.effective, data.expires, errors)
    errors.raise_if_any()
    polygon = drawn_polygon(data.polygon, data.crs, unit)
    warning = WarningMessage(
        identifier=provisional_identifier(),
        msg_type="Alert",
        status=WarningStatus.draft.value,
        exercise=data.exercise,
        level=data.level,
        event=data.event,
        category=data.category,
        headline=data.headline,
        description=data.description,
        instruction=data.instruction or None,
        unit_id=unit.id,
        path=unit.path,
        polygon=polygon,
        area_desc=data.area_desc or unit.name,
        effective=data.effective,
        expires=data.expires,
        channels=_channels(data.channels),
        public=data.public,
        created_by=actor.user_id,
        created_at=utcnow(),
    )
    session.add(warning)
    session.flush()
    audit.record(session, actor, "create", "warning", warning.id, after=audit.snapshot(warning))
    return warning


def require_composer(actor: Principal) -> None:
    actor.require(Perm.warnings_compose)


def editable(session: Session, actor: Principal, warning_id: int) -> WarningMessage:
    """A draft the actor may change (409 once it left the draft state)."""
    actor.require(Perm.warnings_compose)
    warning = access.warning_in_scope(session, actor, warning_id, write=True)
    if warning.status not in EDITABLE:
        raise Conflict(_("只有草稿可以修改；已发出的预警请发布更新或解除"))
    return warning


def edit(session: Session, actor: Principal, warning_id: int, patch: WarningPatch) -> WarningMessage:
    """Change a draft; ``polygon`` set to null goes back to the unit's outline."""
    warning = editable(session, actor, warning_id)
    changes = patch.model_dump(exclude_unset=True)
    crs = changes.pop("crs", "wgs84")
    errors = Collector()
    for key in REQUIRED:
        if key in changes and changes[key] is None:
            errors.add(key, _("不能为空"))
    errors.raise_if_any()
    before = audit.snapshot(warning)
    unit = warned_unit(session, actor, changes.pop("unit_id", warning.unit_id))
    check_times(changes.get("effective", warning.effective), changes.get("expires", warning.expires), errors)
    errors.raise_if_any()
    if "polygon" in changes:
        warning.polygon = drawn_polygon(changes.pop("polygon"), crs, unit)
    elif unit.id != warning.unit_id and warning.polygon:
        warning.polygon = drawn_polygon(json.loads(warning.polygon), "wgs84", unit)
    if unit.id != warning.unit_id:
        changes.setdefault("area_desc", None)  # a new unit: its name, unless given
        warning.unit_id, warning.path = unit.id, unit.path
    if "area_desc" in changes:
        changes["area_desc"] = changes["area_desc"] or unit.name
    if "channels" in changes:
        changes["channels"] = _channels(changes["channels"])
    for key, value in changes.items():
        setattr(warning, key, value)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(warning))
    if new:
        audit.record(session, actor, "update", "warning", warning.id, before=old, after=new)
    return warning


# ---- reads ------------------------------------------------------------------------------------------


def list_warnings(session: Session, actor: Principal, query: ListQuery) -> Page[WarningMessage]:
    return list_page(session, access.visible(actor), WARNINGS, query)


def get_warning(session: Session, actor: Principal, warning_id: int) -> WarningMessage:
    return access.warning_in_scope(session, actor, warning_id)


def level_label(code: str) -> str:
    try:
        return str(LEVEL_LABELS[Colour(code)])
    except ValueError:
        return code


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def present_row(w: WarningMessage) -> dict[str, Any]:
    return {
        "id": w.id,
        "identifier": w.identifier if w.status == WarningStatus.sent.value else None,
        "msg_type": w.msg_type,
        "status": w.status,
        "level": w.level,
        "level_label": level_label(w.level),
        "exercise": w.exercise,
        "public": w.public,
        "event": w.event,
        "headline": w.headline,
        "unit_id": w.unit_id,
        "area_desc": w.area_desc,
        "created_at": w.created_at.isoformat(),
        "sent_at": _iso(w.sent_at),
        "households": w.households or 0,
        "acknowledged": w.acknowledged or 0,
    }


def cap_url(w: WarningMessage) -> str | None:
    if w.status != WarningStatus.sent.value or not w.public:
        return None
    return f"{get_settings().public_url.rstrip('/')}/cap/alerts/{w.identifier}.xml"


def permissions(actor: Principal, w: WarningMessage) -> dict[str, bool]:
    """What the reader may do with the warning now (the services check again)."""
    writes = access.may_write(actor, w)
    composes = actor.can(Perm.warnings_compose) and writes
    return {
        "may_edit": composes and w.status in EDITABLE,
        "may_send": composes and w.status in EDITABLE,
        "may_decide": (
            actor.can(Perm.warnings_approve)
            and writes
            and w.status == WarningStatus.pending.value
            and (actor.user_id is None or actor.user_id != w.created_by)
        ),
        "may_follow_up": composes and w.status == WarningStatus.sent.value and w.msg_type != "Cancel",
    }


def present(actor: Principal, w: WarningMessage) -> dict[str, Any]:
    return {
        **present_row(w),
        "references_id": w.references_id,
        "trigger_id": w.trigger_id,
        "category": w.category,
        "description": w.description,
        "instruction": w.instruction,
        "polygon": json.loads(w.polygon) if w.polygon else None,
        "effective": _iso(w.effective),
        "expires": _iso(w.expires),
        "channels": list(w.channels or []),
        "created_by": w.created_by,
        "submitted_at": _iso(w.submitted_at),
        "approved_by": w.approved_by,
        "decided_at": _iso(w.decided_at),
        "decision_note": w.decision_note,
        "sent_text": w.sent_text,
        "cap_url": cap_url(w),
        **permissions(actor, w),
    }
