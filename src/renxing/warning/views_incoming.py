"""What the incoming-alert pages show: the list with its filters, one alert with its map, the feeds.

The map draws the alert's areas and the matched communities from WGS-84 GeoJSON, converted to the
datum of the configured basemap (GCJ-02 tiles, or BD-09 drawn as GCJ-02 like the other maps), so
shapes sit on the streets they name; without a basemap only the shapes are drawn.
"""

from typing import Any

from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.geo.coords import CRS, converter
from renxing.i18n import _, pgettext
from renxing.listing import ListQuery
from renxing.warning import feeds, incoming
from renxing.warning.models import LEVEL_LABELS, IncomingAlert
from renxing.web.pagekit import basemap
from renxing.web.templating import local_time

PAGE_SIZE = 20


def labels() -> dict[str, Any]:
    """The label tables every incoming page uses (worded in the request's language)."""
    return {
        "LEVEL_LABELS": {k.value: str(v) for k, v in LEVEL_LABELS.items()},
        "STATE_LABELS": {k: str(v) for k, v in incoming.STATE_LABELS.items()},
        "HOW_LABELS": {k: str(v) for k, v in incoming.HOW_LABELS.items()},
        "MSG_TYPE_LABELS": {
            "Alert": _("首发"),
            "Update": _("更新"),
            "Cancel": pgettext("CAP msgType", "解除"),
            "Ack": _("确认"),
            "Error": _("更正"),
        },
        "STATUS_LABELS": {
            "Actual": _("正式"),
            "Exercise": _("演练"),
            "System": _("系统"),
            "Test": _("测试"),
            "Draft": _("草稿"),
        },
    }


def list_context(
    session: Session, actor: Principal, query: ListQuery, state: str | None, params: dict[str, Any]
) -> dict[str, Any]:
    page = incoming.list_alerts(session, actor, query, state=state)
    rows = incoming.present_all(session, actor, page.items)
    for row, shown in zip(page.items, rows, strict=True):
        shown["sent_local"] = local_time(row.sent)
    return {
        **labels(),
        "page": page,
        "rows": rows,
        "params": params,
        "can_receive": actor.can(Perm.alerts_receive),
    }


# ---- one alert and its map ------------------------------------------------------------------------


def _moved(coords: Any, point) -> Any:
    if coords and isinstance(coords[0], int | float):
        return list(point(coords[0], coords[1]))
    return [_moved(c, point) for c in coords]


def in_datum(collection: dict[str, Any], crs: CRS) -> dict[str, Any]:
    """A FeatureCollection's coordinates converted from WGS-84 to ``crs``."""
    if crs is CRS.wgs84:
        return collection
    point = converter(CRS.wgs84, crs)
    features = []
    for f in collection.get("features", []):
        geometry = f.get("geometry") or {}
        moved = {**geometry, "coordinates": _moved(geometry.get("coordinates", []), point)}
        features.append({**f, "geometry": moved})
    return {**collection, "features": features}


def _safe_link(url: str | None) -> str | None:
    """An issuer's address is shown as a link only when it is http(s)."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


def alert_context(session: Session, actor: Principal, alert_id: int) -> dict[str, Any]:
    row: IncomingAlert = incoming.get_alert(session, actor, alert_id)
    alert = incoming.present_detail(session, actor, row)
    tiles, crs = basemap()
    for r in alert["resources"]:
        r["link"] = _safe_link(r["uri"])
    alert["web_link"] = _safe_link(alert["web"])
    local = {"received_at": row.received_at, "sent": row.sent, "effective": row.effective, "expires": row.expires}
    return {
        **labels(),
        "alert": alert,
        "times": local,
        "map": {
            "areas": in_datum(alert["areas"], crs),
            "outlines": in_datum(alert["outlines"], crs),
            "level": alert["level"],
            "basemap": tiles,
            "t": {"area": _("预警范围"), "radius": _("半径"), "km": _("公里"), "none": _("没有可在地图上显示的范围")},
        },
        "has_shapes": bool(alert["areas"]["features"]),
    }


# ---- feeds ----------------------------------------------------------------------------------------


def feeds_context(session: Session, actor: Principal, query: ListQuery) -> dict[str, Any]:
    page = feeds.list_feeds(session, actor, query)
    rows = feeds.present_all(session, page.items)
    for feed, shown in zip(page.items, rows, strict=True):
        shown["polled"] = feed.last_polled_at
        shown["ok"] = feed.last_ok_at
        shown["minutes"] = feed.interval_seconds // 60
    return {**labels(), "page": page, "rows": rows}
