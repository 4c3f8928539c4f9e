"""A device's readings between two moments, for the API and the chart, and the triggers of the
devices in scope.

A range is at most ``MAX_SPAN`` long (a 422 naming ``since`` beyond it); by default the last day.
More than ``2 × BUCKETS`` readings are thinned (``series.thin``) to each bucket's lowest and
highest, so a chart still shows every peak.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import FieldError, Invalid
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.sensors.devices import load_device
from renxing.sensors.models import SensorDevice, SensorReading, SensorRule, SensorTrigger
from renxing.sensors.series import thin

MAX_SPAN = timedelta(days=92)
DEFAULT_SPAN = timedelta(days=1)
BUCKETS = 600


def _aware(since: datetime | None, until: datetime | None) -> None:
    errors: list[FieldError] = []
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            errors.append(FieldError(name, _("时间须带时区，如 +08:00"), value=value.isoformat()))
    if errors:
        raise Invalid(_("时间范围有误"), errors)


def _range(since: datetime | None, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    _aware(since, until)
    end = until or now
    start = since or end - DEFAULT_SPAN
    if start >= end:
        why = _("起始时间须早于结束时间")
        raise Invalid(why, [FieldError("since", why, value=start.isoformat())])
    if end - start > MAX_SPAN:
        why = _("时间范围最长 {days} 天").format(days=MAX_SPAN.days)
        raise Invalid(why, [FieldError("since", why, value=start.isoformat())])
    return start, end


def series(
    session: Session,
    actor: Principal,
    device_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    buckets: int = BUCKETS,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The readings of a device in ``[since, until)``, thinned when long."""
    device = load_device(session, actor, device_id)
    start, end = _range(since, until, now or utcnow())
    stmt = (
        select(SensorReading.measured_at, SensorReading.value)
        .where(
            SensorReading.device_id == device.id, SensorReading.measured_at >= start, SensorReading.measured_at < end
        )
        .order_by(SensorReading.measured_at)
    )
    points = [(at, value) for at, value in session.execute(stmt)]
    shown = thin(points, buckets)
    return {
        "device_id": device.id,
        "since": start.isoformat(),
        "until": end.isoformat(),
        "count": len(points),
        "downsampled": len(shown) < len(points),
        "points": [{"at": at.isoformat(), "value": value} for at, value in shown],
    }


# ---- triggers ----------------------------------------------------------------------------------------------


TRIGGER_KINDS = ("threshold", "rate", "offline")


def _trigger_kind(value: str) -> str:
    if value not in TRIGGER_KINDS:
        raise ValueError(value)
    return value


TRIGGERS = ListSpec(
    sorts={"triggered_at": SensorTrigger.triggered_at, "level": (SensorTrigger.level, SensorTrigger.triggered_at)},
    default_sort="-triggered_at",
    tiebreaker=SensorTrigger.id,
    filters={
        "device_id": Filter(SensorTrigger.device_id),
        "rule_id": Filter(SensorTrigger.rule_id),
        "kind": Filter(SensorTrigger.kind, parse=lambda v: _trigger_kind(v)),
        "since": Filter(SensorTrigger.triggered_at, ">="),
        "until": Filter(SensorTrigger.triggered_at, "<"),
    },
    scope=SensorTrigger.path,
)


def list_triggers(session: Session, actor: Principal, query: ListQuery) -> Page[SensorTrigger]:
    """Triggers of the devices in scope, newest first; ``open`` (true/false) keeps those not yet
    cleared or those cleared."""
    actor.require(Perm.sensors_read)
    stmt = select(SensorTrigger)
    filters = dict(query.filters)
    _aware(filters.get("since"), filters.get("until"))
    wanted = filters.pop("open", None)
    if wanted is not None:
        stmt = stmt.where(SensorTrigger.cleared_at.is_(None) if wanted else SensorTrigger.cleared_at.is_not(None))
    narrowed = ListQuery(page=query.page, size=query.size, sort=query.sort, q=query.q, filters=filters)
    return list_page(session, stmt, TRIGGERS, narrowed, actor)


def present_triggers(session: Session, triggers: list[SensorTrigger]) -> list[dict[str, Any]]:
    device_ids = sorted({t.device_id for t in triggers})
    rule_ids = sorted({t.rule_id for t in triggers if t.rule_id is not None})
    devices = {
        i: (name, code)
        for i, name, code in session.execute(
            select(SensorDevice.id, SensorDevice.name, SensorDevice.code).where(SensorDevice.id.in_(device_ids))
        )
    }
    rules = (
        dict(session.execute(select(SensorRule.id, SensorRule.name).where(SensorRule.id.in_(rule_ids))).all())
        if rule_ids
        else {}
    )
    return [
        {
            "id": t.id,
            "device_id": t.device_id,
            "device": devices.get(t.device_id, ("", ""))[0],
            "device_code": devices.get(t.device_id, ("", ""))[1],
            "rule_id": t.rule_id,
            "rule": rules.get(t.rule_id) if t.rule_id else None,
            "kind": t.kind,
            "level": t.level,
            "value": t.value,
            "triggered_at": t.triggered_at.isoformat(),
            "cleared_at": t.cleared_at.isoformat() if t.cleared_at else None,
            "report_id": t.report_id,
            "path": t.path,
        }
        for t in triggers
    ]
