"""What the sensors' pages show: devices on the map and in a list with their state, one device
with its readings charted and its triggers, the rules. Built from the services; templates print."""

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.grid import directory as grid_directory
from renxing.grid.scope import communities_in_scope
from renxing.i18n import _, _l
from renxing.listing import ListQuery
from renxing.sensors import devices, readings, rule_admin
from renxing.sensors.ingest import rules_for
from renxing.sensors.models import DEVICE_KIND_LABELS, DeviceKind, SensorDevice
from renxing.sensors.schemas import CATEGORIES, LEVELS
from renxing.web.pagekit import basemap

DEVICES_PAGE = 20
RULES_PAGE = 30
TRIGGERS_SHOWN = 20
RANGES = (1, 7, 30)  # days a device's chart may show
STATE_ORDER = ("alarm", "offline", "unknown", "normal", "inactive")
STATE_COLOURS = {
    "alarm": "#c0392b",
    "offline": "#7f8c8d",
    "unknown": "#b7950b",
    "normal": "#1e7b45",
    "inactive": "#bdc3c7",
}
LEVEL_LABELS = {"blue": _l("蓝色"), "yellow": _l("黄色"), "orange": _l("橙色"), "red": _l("红色")}
CATEGORY_LABELS = {
    "waterlogging": _l("积水内涝"),
    "fire_hazard": _l("消防隐患"),
    "gas": _l("燃气"),
    "building_danger": _l("房屋安全"),
    "electrical": _l("用电"),
    "damaged_facility": _l("设施损坏"),
    "other": _l("其他"),
}
TRIGGER_KIND_LABELS = {"threshold": _l("阈值"), "rate": _l("变化率"), "offline": _l("离线")}


def labels() -> dict[str, Any]:
    return {
        "KIND_LABELS": DEVICE_KIND_LABELS,
        "STATE_LABELS": devices.STATE_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
        "CATEGORY_LABELS": CATEGORY_LABELS,
        "TRIGGER_KIND_LABELS": TRIGGER_KIND_LABELS,
    }


# ---- devices -----------------------------------------------------------------------------------------


def devices_context(session: Session, actor: Principal, query: ListQuery) -> dict[str, Any]:
    """A page of devices, every device of the filters on the map, and the count in each state
    (as shown now: silence counts as offline, never as normal)."""
    actor.require(Perm.sensors_read)
    now = utcnow()
    page = devices.list_devices(session, actor, query)
    rows = _with_times(devices.present_all(session, page.items, now=now), page.items)
    tiles, crs = basemap()
    mapped = devices.present_all(
        session, devices.all_devices(session, actor, ListQuery(filters=query.filters)), crs, now
    )
    counts = Counter(d["state"] for d in mapped)
    kpis = [(s, devices.STATE_LABELS[s], counts.get(s, 0)) for s in STATE_ORDER if s != "inactive"]
    t = {
        "open": _("查看设备"),
        "last": _("最后读数"),
        "never": _("从未上报"),
        "state": _("状态"),
        "place": _("位置"),
    }
    marks = [
        {k: d[k] for k in ("id", "name", "code", "kind_label", "state", "state_label", "unit", "lon", "lat")}
        | {"last": d["last_reading_at"], "value": d["last_value"], "measure_unit": d["measure_unit"]}
        for d in mapped
        if d["lon"] is not None and d["lat"] is not None
    ]
    return {
        **labels(),
        "page": page,
        "rows": rows,
        "params": {"q": query.q, **query.filters},
        "kpis": kpis,
        "offline_count": counts.get("offline", 0),
        "map": {"devices": marks, "colours": STATE_COLOURS, "basemap": tiles, "t": t},
        "places": _places(session, actor) if actor.can(Perm.sensors_manage) else [],
        "can_manage": actor.can(Perm.sensors_manage),
    }


def _with_times(rows: list[dict[str, Any]], items: list[SensorDevice]) -> list[dict[str, Any]]:
    """The moments as datetimes too, for the templates' local time."""
    for row, device in zip(rows, items, strict=True):
        row["last_at"], row["since_at"] = device.last_reading_at, device.state_since
    return rows


def _places(session: Session, actor: Principal) -> list[dict[str, Any]]:
    """Where a manager may put a device: the communities in write scope and their buildings."""
    out: list[dict[str, Any]] = []
    for community in communities_in_scope(session, actor):
        if not actor.covers_path(community.path):
            continue
        out.append({"id": community.id, "name": community.name, "building": False})
        for b in grid_directory.units_under(session, community.path, "building"):
            out.append({"id": b.id, "name": f"{community.name} · {b.name}", "building": True})
    return out


def device_context(session: Session, actor: Principal, device_id: int, days: int) -> dict[str, Any]:
    """One device: its facts and state, the chart of its readings with the thresholds of the
    rules that cover it, its triggers and rules."""
    device = devices.get_device(session, actor, device_id)
    now = utcnow()
    shown = _with_times(devices.present_all(session, [device], now=now), [device])[0]
    span = timedelta(days=days if days in RANGES else 7)
    series = readings.series(session, actor, device.id, now - span, now + timedelta(minutes=5), now=now)
    covering = [r for r in rule_admin.present_all(session, rules_for(session, device)) if r["active"]]
    marks = []
    for rule in covering:
        if rule["rule_type"] != "threshold" or rule["threshold"] is None:
            continue
        marks.append(
            {
                "name": f"{rule['name']} ≥" if rule["direction"] == "above" else f"{rule['name']} ≤",
                "value": rule["threshold"],
                "level": rule["level"],
                "kind": "threshold",
            }
        )
        if rule["clear_at"] is not None and rule["clear_at"] != rule["threshold"]:
            marks.append({"name": _("解除值"), "value": rule["clear_at"], "level": rule["level"], "kind": "clear"})
    trig = readings.list_triggers(session, actor, ListQuery(size=TRIGGERS_SHOWN, filters={"device_id": device.id}))
    return {
        **labels(),
        "d": shown,
        "days": days if days in RANGES else 7,
        "ranges": RANGES,
        "series": series,
        "chart": {
            "points": [[p["at"], p["value"]] for p in series["points"]],
            "marks": marks,
            "unit": device.measure_unit,
            "name": device.name,
            "t": {"empty": _("这段时间没有读数"), "value": _("读数")},
        },
        "rules": covering,
        "triggers": [
            {**row, "triggered": t.triggered_at, "cleared": t.cleared_at}
            for row, t in zip(readings.present_triggers(session, trig.items), trig.items, strict=True)
        ],
        "trigger_total": trig.total,
        "can_manage": actor.can(Perm.sensors_manage) and actor.covers_path(device.path),
    }


# ---- rules ----------------------------------------------------------------------------------------------


def rules_context(session: Session, actor: Principal, query: ListQuery) -> dict[str, Any]:
    page = rule_admin.list_rules(session, actor, query)
    communities = [c for c in communities_in_scope(session, actor) if actor.covers_path(c.path)]
    mine = devices.all_devices(session, actor, ListQuery(sort="name", filters={"active": True}))
    return {
        **labels(),
        "page": page,
        "rows": rule_admin.present_all(session, page.items),
        "params": {"q": query.q, **query.filters},
        "can_manage": actor.can(Perm.sensors_manage),
        "communities": communities,
        "device_options": [d for d in mine if actor.covers_path(d.path)],
        "kinds": list(DeviceKind),
        "levels": LEVELS,
        "categories": CATEGORIES,
    }
