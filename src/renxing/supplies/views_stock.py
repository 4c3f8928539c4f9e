"""What the stock pages show: storage points (map and list), one point with its lots, recent
entries and forms, the ledger with filters, and the expiry list. Built from ``points``,
``items``, ``stock`` and ``movements``; templates only print."""

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import FieldError, Invalid
from renxing.grid.scope import communities_in_scope
from renxing.i18n import _
from renxing.listing import ListQuery
from renxing.supplies import items, points, stock
from renxing.supplies.access import may_write, partner_orgs
from renxing.supplies.models import MOVEMENT_LABELS, POINT_KIND_LABELS, REASON_LABELS, Reason, StoragePoint
from renxing.supplies.stock import ACTION_LABELS, EXPIRY_DAYS

POINTS_PAGE = 20
LEDGER_PAGE = 30
RECENT = 12
WRITE_OFF_REASONS = [r for r in Reason if r is not Reason.found]


def labels() -> dict[str, Any]:
    return {
        "POINT_KIND_LABELS": POINT_KIND_LABELS,
        "MOVEMENT_LABELS": MOVEMENT_LABELS,
        "REASON_LABELS": REASON_LABELS,
        "ACTION_LABELS": ACTION_LABELS,
    }


def item_options(session: Session, actor: Principal) -> list[Any]:
    return items.all_items(session, actor, ListQuery(sort="code", filters={"active": True}))


def point_options(session: Session, actor: Principal) -> list[StoragePoint]:
    return points.all_points(session, actor, ListQuery(sort="name", filters={"active": True}))


def _communities(session: Session, actor: Principal) -> list[Any]:
    """The communities a filter offers (none for partners: their sites are their scope)."""
    return [] if partner_orgs(session, actor) is not None else communities_in_scope(session, actor)


def _url(path: str, params: dict[str, Any]) -> str:
    given = {k: v for k, v in params.items() if v is not None and v != ""}
    return f"{path}?{urlencode(given)}" if given else path


# ---- storage points ----------------------------------------------------------------------------


def _summary(session: Session, actor: Principal, point: StoragePoint, today: date) -> dict[str, Any]:
    _point, levels = stock.point_levels(session, actor, point.id, today=today)
    soon = today + timedelta(days=EXPIRY_DAYS)
    return {
        "items": sum(1 for v in levels if v.quantity),
        "expired": sum(1 for v in levels for x in v.lots if x.expired),
        "expiring": sum(1 for v in levels for x in v.lots if not x.expired and x.expiry and x.expiry <= soon),
        "below": sum(1 for v in levels if v.below_minimum),
        "in_transit": sum(v.in_transit for v in levels),
    }


def points_context(session: Session, actor: Principal, query: ListQuery) -> dict[str, Any]:
    """One page of points with a stock summary each, every point of the filters on the map, and
    the stock by item summed over them."""
    actor.require(Perm.supplies_read)
    today = stock.today_here()
    page = points.list_points(session, actor, query)
    rows = points.present_all(session, page.items)
    for row, p in zip(rows, page.items, strict=True):
        row["stock"] = _summary(session, actor, p, today)
    mapped = points.all_points(session, actor, ListQuery(sort="name", q=query.q, filters=query.filters))
    unit_id = query.filters.get("unit_id")
    _unit, levels = stock.community_stock(session, actor, unit_id, kind=query.filters.get("kind"), today=today)
    return {
        **labels(),
        "page": page,
        "rows": rows,
        "levels": levels,
        "stock_export": _url("/api/v1/supplies/stock.xlsx", {"unit_id": unit_id, "kind": query.filters.get("kind")}),
        "params": {**query.filters, "q": query.q},
        "communities": _communities(session, actor),
        "map": {
            "points": [
                {k: r[k] for k in ("id", "name", "kind", "kind_label", "lon", "lat", "address", "access_hours")}
                for r in points.present_all(session, mapped)
                if r["lon"] is not None and r["lat"] is not None
            ],
            "t": {
                "kind": _("类型"),
                "address": _("地址"),
                "hours": _("开放时间"),
                "open": _("查看库存 ›"),
                "loading": _("正在读取库存…"),
                "none": _("暂无库存"),
                "expired": _("已过期"),
                "more": _("等 {n} 种"),
            },
        },
    }


def point_context(session: Session, actor: Principal, point_id: int) -> dict[str, Any]:
    """A point: its levels by item and lot, goods on their way to it, recent entries, the forms
    of those who may move its stock."""
    today = stock.today_here()
    point, levels = stock.point_levels(session, actor, point_id, today=today)
    recent = stock.ledger_page(session, actor, ListQuery(size=RECENT, filters={"point_id": point.id}))
    coming = stock.transfers_page(
        session, actor, ListQuery(size=50, filters={"status": "in_transit", "to_point_id": point.id})
    )
    can_move = actor.can(Perm.supplies_move) and may_write(session, actor, point)
    ctx: dict[str, Any] = {
        **labels(),
        "p": points.present_all(session, [point])[0],
        "levels": levels,
        "today": today,
        "soon": today + timedelta(days=EXPIRY_DAYS),
        "recent": recent,
        "coming": coming.items,
        "can_move": can_move,
        "values": {},
        "errors": {},
        "error_list": [],
        "failed": None,
    }
    if can_move:
        ctx["item_options"] = item_options(session, actor)
        ctx["targets"] = [p for p in point_options(session, actor) if p.id != point.id]
        ctx["reasons"] = WRITE_OFF_REASONS
    return ctx


# ---- the ledger ---------------------------------------------------------------------------------

LEDGER_FILTERS = ("point_id", "item_id", "kind", "run_id", "transfer_id", "count_id")


def day_range(since: date | None, until: date | None) -> dict[str, datetime | None]:
    """A page's inclusive days as the ledger's filters: from the start of ``since`` (local time)
    to before the start of the day after ``until``."""
    return {
        "since": stock.aware(datetime.combine(since, time())) if since else None,
        "until": stock.aware(datetime.combine(until + timedelta(days=1), time())) if until else None,
    }


def ledger_context(
    session: Session, actor: Principal, query: ListQuery, since: date | None, until: date | None
) -> dict[str, Any]:
    """One page of the ledger with its filters, and the same filters as the export's link."""
    chosen = {k: v for k, v in query.filters.items() if v is not None}
    query.filters = {**chosen, **day_range(since, until)}
    page = stock.ledger_page(session, actor, query)
    export = [(k, v) for k, v in chosen.items()] + [
        (k, v.isoformat()) for k, v in day_range(since, until).items() if v is not None
    ]
    if query.q:
        export.append(("q", query.q))
    return {
        **labels(),
        "page": page,
        "params": {**chosen, "q": query.q, "since": since, "until": until},
        "export_url": "/api/v1/supplies/ledger.xlsx" + (f"?{urlencode(export)}" if export else ""),
        "point_options": point_options(session, actor),
        "item_options": item_options(session, actor),
        "kinds": MOVEMENT_LABELS,
    }


# ---- expiry ---------------------------------------------------------------------------------------


def expiry_context(
    session: Session, actor: Principal, query: ListQuery, days: int, expired_only: bool
) -> dict[str, Any]:
    today = stock.today_here()
    page = stock.expiry_page(session, actor, query, days=days, expired_only=expired_only, today=today)
    export = {k: v for k, v in query.filters.items() if v is not None} | {"days": days}
    if expired_only:
        export["expired_only"] = "true"
    if query.q:
        export["q"] = query.q
    return {
        **labels(),
        "page": page,
        "today": today,
        "days": days,
        "expired_only": expired_only,
        "params": {**query.filters, "q": query.q},
        "export_url": f"/api/v1/supplies/expiry.xlsx?{urlencode(export)}",
        "point_options": point_options(session, actor),
    }


def parse_day(value: str | None, field: str) -> date | None:
    """A date typed into a filter; an unreadable one is a 422 naming the field."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        why = _("日期格式应为 年-月-日")
        raise Invalid(why, [FieldError(field, why, value=text)]) from exc
