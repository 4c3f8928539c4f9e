"""Agreements with partners (储备协议): what each commits, when the community may draw on it,
the activation procedure and whom to call, in force between two dates.

Staff who keep agreements write those of the communities in their scope; an agreement is never
deleted: it is terminated (dated, audited) or runs out, and a renewal is a new agreement copying
the lines, the old one kept. Its status is computed from the dates on the day asked. A partner's
account sees only its own organizations' agreements and may change only their activation
procedure, contact chain and note. Drawing on an agreement that is not in force is refused by
``drawing.py``.
"""

from collections import defaultdict
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector, Conflict, FieldError, Forbidden, Invalid, NotFound
from renxing.grid.scope import community_in_scope, in_scope, visible_clause
from renxing.i18n import _, _l
from renxing.listing import Filter, ListQuery, ListSpec, Page, apply, list_page
from renxing.partners import directory as partners_directory
from renxing.people.service import LANDLINE, MOBILE, normalise_phone
from renxing.supplies.access import local_day, partner_orgs
from renxing.supplies.models import Agreement, AgreementLine, PointKind, StoragePoint, SupplyItem
from renxing.supplies.schemas import AgreementIn, AgreementPatch, RenewIn

EXPIRING_DAYS = 30  # an agreement ending within this many days is "expiring" and its renewal is reminded
PARTNER_FIELDS = frozenset({"activation", "contact_chain", "note"})
MAX_EXPORT = 10_000


class Status(StrEnum):
    upcoming = "upcoming"  # signed, not yet valid
    in_force = "in_force"
    expiring = "expiring"  # in force, ending within EXPIRING_DAYS
    expired = "expired"
    terminated = "terminated"


STATUS_LABELS = {
    Status.upcoming: _l("未生效"),
    Status.in_force: _l("有效"),
    Status.expiring: _l("即将到期"),
    Status.expired: _l("已过期"),
    Status.terminated: _l("已终止"),
}
DRAW_WHEN_LABELS = {"any": _l("随时"), "alert": _l("预警时"), "emergency": _l("应急响应时")}


def today_here() -> date:
    return local_day(utcnow())


def status_of(a: Agreement, today: date) -> Status:
    if a.terminated_at is not None:
        return Status.terminated
    if today < a.valid_from:
        return Status.upcoming
    if a.valid_until < today:
        return Status.expired
    if (a.valid_until - today).days <= EXPIRING_DAYS:
        return Status.expiring
    return Status.in_force


def status_clause(status: Status, today: date) -> ColumnElement[bool]:
    """The rows :func:`status_of` gives ``status`` on ``today``."""
    if status is Status.terminated:
        return Agreement.terminated_at.is_not(None)
    live = Agreement.terminated_at.is_(None)
    soon = today + timedelta(days=EXPIRING_DAYS)
    if status is Status.upcoming:
        return and_(live, Agreement.valid_from > today)
    if status is Status.expired:
        return and_(live, Agreement.valid_until < today)
    started = and_(live, Agreement.valid_from <= today, Agreement.valid_until >= today)
    if status is Status.expiring:
        return and_(started, Agreement.valid_until <= soon)
    return and_(started, Agreement.valid_until > soon)


AGREEMENTS = ListSpec(
    sorts={
        "valid_until": Agreement.valid_until,
        "valid_from": Agreement.valid_from,
        "number": Agreement.number,
        "created": Agreement.id,
    },
    default_sort="valid_until",
    tiebreaker=Agreement.id,
    search=(Agreement.number, Agreement.title),
    filters={"org_id": Filter(Agreement.org_id), "unit_id": Filter(Agreement.unit_id)},
)


def _visible(session: Session, actor: Principal) -> Select:
    """Agreements the actor may read: a partner its own; others those of communities they see."""
    actor.require(Perm.supplies_read)
    stmt = select(Agreement)
    orgs = partner_orgs(session, actor)
    if orgs is not None:
        return stmt.where(Agreement.org_id.in_(orgs))
    clause = visible_clause(Agreement.path, actor)
    return stmt if clause is None else stmt.where(clause)


def _with_status(stmt: Select, query: ListQuery, today: date) -> tuple[Select, ListQuery]:
    filters = dict(query.filters)
    status = filters.pop("status", None)
    if status:
        try:
            stmt = stmt.where(status_clause(Status(status), today))
        except ValueError as exc:
            why = _("应为 {join} 之一").format(join=", ".join(Status))
            raise Invalid(_("筛选条件无效"), [FieldError("status", why, value=str(status))]) from exc
    return stmt, ListQuery(page=query.page, size=query.size, sort=query.sort, q=query.q, filters=filters)


def list_agreements(
    session: Session, actor: Principal, query: ListQuery, *, today: date | None = None
) -> Page[Agreement]:
    stmt, rest = _with_status(_visible(session, actor), query, today or today_here())
    return list_page(session, stmt, AGREEMENTS, rest)


def all_agreements(
    session: Session, actor: Principal, query: ListQuery, *, today: date | None = None
) -> list[Agreement]:
    stmt, rest = _with_status(_visible(session, actor), query, today or today_here())
    return list(session.scalars(apply(stmt, AGREEMENTS, rest).limit(MAX_EXPORT)))


def get_agreement(session: Session, actor: Principal, agreement_id: int) -> Agreement:
    a = session.scalar(_visible(session, actor).where(Agreement.id == agreement_id))
    if a is None:
        raise NotFound(_("协议 {agreement_id} 不存在").format(agreement_id=agreement_id))
    return a


def _items_of(session: Session, agreement_ids: list[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    stmt = select(AgreementLine.agreement_id, AgreementLine.item_id).where(
        AgreementLine.agreement_id.in_(agreement_ids)
    )
    for agreement_id, item_id in session.execute(stmt):
        found[agreement_id].add(item_id)
    return found


def successor(session: Session, a: Agreement) -> int | None:
    """The agreement continuing this one (a renewal): the same partner and community, not
    terminated, starting later and ending later, committing at least every item this one does."""
    later = list(
        session.scalars(
            select(Agreement.id)
            .where(
                Agreement.org_id == a.org_id,
                Agreement.unit_id == a.unit_id,
                Agreement.id != a.id,
                Agreement.terminated_at.is_(None),
                Agreement.valid_from > a.valid_from,
                Agreement.valid_until > a.valid_until,
            )
            .order_by(Agreement.valid_from, Agreement.id)
        )
    )
    if not later:
        return None
    items = _items_of(session, [a.id, *later])
    return next((i for i in later if items[a.id] <= items[i]), None)


# ---- presenting -------------------------------------------------------------------------------


def org_names(session: Session, agreements: list[Agreement]) -> dict[int, str]:
    return {o.id: o.name for o in partners_directory.organizations(session, [a.org_id for a in agreements])}


def lines_of(session: Session, agreement_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not agreement_ids:
        return found
    stmt = (
        select(AgreementLine, SupplyItem, StoragePoint.name)
        .join(SupplyItem, SupplyItem.id == AgreementLine.item_id)
        .outerjoin(StoragePoint, StoragePoint.id == AgreementLine.point_id)
        .where(AgreementLine.agreement_id.in_(agreement_ids))
        .order_by(AgreementLine.agreement_id, SupplyItem.category, SupplyItem.code)
    )
    for line, item, point in session.execute(stmt):
        found[line.agreement_id].append(
            {
                "id": line.id,
                "item_id": item.id,
                "item": item.name,
                "unit": item.unit,
                "quantity": line.quantity,
                "point_id": line.point_id,
                "point": point,
            }
        )
    return found


def present_row(a: Agreement, organization: str, today: date) -> dict[str, Any]:
    status = status_of(a, today)
    return {
        "id": a.id,
        "org_id": a.org_id,
        "organization": organization,
        "unit_id": a.unit_id,
        "number": a.number,
        "title": a.title,
        "valid_from": a.valid_from,
        "valid_until": a.valid_until,
        "days_left": (a.valid_until - today).days,
        "status": status.value,
        "status_label": str(STATUS_LABELS[status]),
        "draw_share": a.draw_share,
        "draw_when": a.draw_when,
        "terminated_at": a.terminated_at.isoformat() if a.terminated_at else None,
        "reminded_on": a.reminded_on,
    }


def present_rows(session: Session, agreements: list[Agreement], today: date | None = None) -> list[dict[str, Any]]:
    names = org_names(session, agreements)
    day = today or today_here()
    return [present_row(a, names.get(a.org_id, ""), day) for a in agreements]


def present(session: Session, a: Agreement, today: date | None = None) -> dict[str, Any]:
    return {
        **present_rows(session, [a], today)[0],
        "activation": a.activation,
        "contact_chain": [
            {"name": c.get("name", ""), "role": c.get("role", ""), "phone": c.get("phone", "")}
            for c in a.contact_chain or []
        ],
        "note": a.note,
        "lines": lines_of(session, [a.id]).get(a.id, []),
        "renewed_by": successor(session, a),
    }


# ---- validation -------------------------------------------------------------------------------


def _check_contacts(chain: list[dict[str, Any]], errors: Collector) -> list[dict[str, str]]:
    out = []
    for n, contact in enumerate(chain):
        phone = normalise_phone(contact["phone"])
        if not phone or not (MOBILE.match(phone) or LANDLINE.match(phone)):
            errors.add(f"contact_chain.{n}.phone", _("电话号码格式错误"), value=contact["phone"])
        out.append({"name": contact["name"], "role": contact.get("role") or "", "phone": phone or ""})
    return out


def _check_lines(session: Session, org_id: int, lines: list[dict[str, Any]], errors: Collector) -> None:
    """Each line: an active item, not twice; its point, if named, one of this partner's sites."""
    seen: set[int] = set()
    items = {
        i.id: i for i in session.scalars(select(SupplyItem).where(SupplyItem.id.in_([x["item_id"] for x in lines])))
    }
    for n, line in enumerate(lines):
        item = items.get(line["item_id"])
        if item is None or not item.active:
            errors.add(f"lines.{n}.item_id", _("物资 {item_id} 不存在").format(item_id=line["item_id"]))
        elif item.id in seen:
            errors.add(f"lines.{n}.item_id", _("同一物资只能写一行"), value=item.id)
        seen.add(line["item_id"])
        if line.get("point_id") is not None:
            point = session.get(StoragePoint, line["point_id"])
            if point is None or point.kind != PointKind.partner_site.value or point.org_id != org_id:
                errors.add(f"lines.{n}.point_id", _("应为该合作单位的储备点"), value=line["point_id"])


def _check(session: Session, values: dict[str, Any], errors: Collector) -> None:
    """Rules across fields of the agreement as it will be (``values``: every field)."""
    if values["valid_from"] > values["valid_until"]:
        errors.add("valid_until", _("结束日期不能早于开始日期"), value=values["valid_until"])
    values["contact_chain"] = _check_contacts(values["contact_chain"], errors)
    if values.get("lines") is not None:
        _check_lines(session, values["org_id"], values["lines"], errors)


def _unique_number(session: Session, unit_id: int, number: str, own_id: int | None) -> None:
    other = session.scalar(select(Agreement.id).where(Agreement.unit_id == unit_id, Agreement.number == number))
    if other is not None and other != own_id:
        why = _("本社区已有编号为 {number} 的协议").format(number=number)
        raise Conflict(why, [FieldError("number", why, value=number)])


def _write_lines(session: Session, agreement_id: int, lines: list[dict[str, Any]]) -> None:
    session.execute(delete(AgreementLine).where(AgreementLine.agreement_id == agreement_id))
    session.add_all(
        AgreementLine(
            agreement_id=agreement_id, item_id=x["item_id"], quantity=x["quantity"], point_id=x.get("point_id")
        )
        for x in lines
    )


def _snapshot(session: Session, a: Agreement) -> dict[str, Any]:
    session.flush()
    lines = session.execute(
        select(AgreementLine.item_id, AgreementLine.quantity, AgreementLine.point_id)
        .where(AgreementLine.agreement_id == a.id)
        .order_by(AgreementLine.item_id)
    ).all()
    snap = audit.snapshot(a)
    snap.pop("updated_at", None)
    return {**snap, "lines": [list(x) for x in lines]}


# ---- writes -------------------------------------------------------------------------------------


def _staff_only(session: Session, actor: Principal) -> None:
    actor.require(Perm.supplies_agreements)
    if partner_orgs(session, actor) is not None:
        raise Forbidden(_("合作单位只能修改本单位协议的启动程序、联系人和备注"))


def _writable(session: Session, actor: Principal, agreement_id: int) -> Agreement:
    """The agreement, if the actor may change it: staff in scope, a partner its own."""
    a = get_agreement(session, actor, agreement_id)
    actor.require(Perm.supplies_agreements)
    if partner_orgs(session, actor) is None and not in_scope(actor, a.path):
        raise Forbidden(_("不在您的管理范围内"))
    return a


def create_agreement(session: Session, actor: Principal, data: AgreementIn) -> Agreement:
    _staff_only(session, actor)
    org = partners_directory.organization(session, data.org_id)
    if org is None or not org.active:
        why = _("合作单位 {org_id} 不存在或已停用").format(org_id=data.org_id)
        raise Invalid(why, [FieldError("org_id", why, value=str(data.org_id))])
    community = community_in_scope(session, actor, org.unit_id, field="org_id", write=True)
    values = data.model_dump()
    errors = Collector()
    _check(session, values, errors)
    errors.raise_if_any()
    _unique_number(session, community.id, values["number"], None)
    lines = values.pop("lines")
    a = Agreement(**values, unit_id=community.id, path=community.path)
    session.add(a)
    session.flush()
    _write_lines(session, a.id, lines)
    audit.record(session, actor, "create", "supply_agreement", a.id, after=_snapshot(session, a))
    return a


def update_agreement(session: Session, actor: Principal, agreement_id: int, patch: AgreementPatch) -> Agreement:
    a = _writable(session, actor, agreement_id)
    changes = patch.model_dump(exclude_unset=True)
    if partner_orgs(session, actor) is not None and set(changes) - PARTNER_FIELDS:
        why = _("合作单位只能修改本单位协议的启动程序、联系人和备注")
        raise Forbidden(why, [FieldError(f, why) for f in sorted(set(changes) - PARTNER_FIELDS)])
    if a.terminated_at is not None:
        raise Conflict(_("协议已终止，不能修改"))
    errors = Collector()
    for key in ("number", "title", "valid_from", "valid_until", "draw_share", "draw_when", "contact_chain", "lines"):
        if key in changes and changes[key] is None:
            errors.add(key, _("不能为空"))
    errors.raise_if_any()
    current = {k: getattr(a, k) for k in AgreementPatch.model_fields if k != "lines"}
    values = {**current, "org_id": a.org_id, "contact_chain": a.contact_chain or [], **changes}
    _check(session, values, errors)
    errors.raise_if_any()
    if values["number"] != a.number:
        _unique_number(session, a.unit_id, values["number"], a.id)
    before = _snapshot(session, a)
    if values["valid_until"] != a.valid_until:
        a.reminded_on = None  # a new end date gets its own reminder
    for key in changes:
        if key != "lines":
            setattr(a, key, values[key])
    if "lines" in changes:
        _write_lines(session, a.id, values["lines"])
    old, new = audit.changed(before, _snapshot(session, a))
    if new:
        audit.record(session, actor, "update", "supply_agreement", a.id, before=old, after=new)
    return a


def terminate(session: Session, actor: Principal, agreement_id: int, reason: str | None = None) -> Agreement:
    """End an agreement before its term (dated and audited; it is kept, never deleted)."""
    a = _writable(session, actor, agreement_id)
    _staff_only(session, actor)
    if a.terminated_at is not None:
        raise Conflict(_("协议已终止"))
    a.terminated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "terminate",
        "supply_agreement",
        a.id,
        summary=reason,
        after={"terminated_at": a.terminated_at.isoformat()},
    )
    return a


def renew(session: Session, actor: Principal, agreement_id: int, data: RenewIn) -> Agreement:
    """A new agreement continuing this one with new dates and the same lines; the old one stays.
    By default the new term starts the day after the old ends and lasts as long."""
    old = _writable(session, actor, agreement_id)
    _staff_only(session, actor)
    if old.terminated_at is not None:
        raise Conflict(_("已终止的协议不能续签"))
    start = data.valid_from or old.valid_until + timedelta(days=1)
    end = data.valid_until or start + (old.valid_until - old.valid_from)
    if start > end:
        why = _("结束日期不能早于开始日期")
        raise Invalid(why, [FieldError("valid_until", why, value=str(end))])
    if start <= old.valid_from or end <= old.valid_until:
        why = _("续签协议应晚于原协议开始和结束")
        raise Invalid(why, [FieldError("valid_from" if start <= old.valid_from else "valid_until", why)])
    number = data.number or f"{old.number[:35]}-{start.year}"
    _unique_number(session, old.unit_id, number, None)
    new = Agreement(
        org_id=old.org_id,
        unit_id=old.unit_id,
        path=old.path,
        number=number,
        title=old.title,
        valid_from=start,
        valid_until=end,
        draw_share=old.draw_share,
        draw_when=old.draw_when,
        activation=old.activation,
        contact_chain=list(old.contact_chain or []),
        note=old.note,
    )
    session.add(new)
    session.flush()
    lines = session.scalars(select(AgreementLine).where(AgreementLine.agreement_id == old.id)).all()
    _write_lines(
        session, new.id, [{"item_id": x.item_id, "quantity": x.quantity, "point_id": x.point_id} for x in lines]
    )
    after = {**_snapshot(session, new), "renews": old.id}
    audit.record(session, actor, "create", "supply_agreement", new.id, after=after)
    audit.record(session, actor, "renew", "supply_agreement", old.id, after={"renewed_by": new.id})
    return new


# ---- export -------------------------------------------------------------------------------------


def export_rows(session: Session, agreements: list[Agreement]) -> tuple[list[str], list[list[Any]]]:
    headers = [
        _("协议编号"),
        _("名称"),
        _("合作单位"),
        _("状态"),
        _("开始日期"),
        _("结束日期"),
        _("可动用比例"),
        _("动用条件"),
        _("承诺物资"),
        _("联系人"),
    ]
    today = today_here()
    names = org_names(session, agreements)
    lines = lines_of(session, [a.id for a in agreements])
    rows = []
    for a in agreements:
        committed = "；".join(f"{x['item']} {x['quantity']}{x['unit']}" for x in lines.get(a.id, []))
        contacts = "；".join(
            " ".join(v for v in (c.get("name"), c.get("role"), c.get("phone")) if v) for c in a.contact_chain or []
        )
        rows.append(
            [
                a.number,
                a.title,
                names.get(a.org_id, ""),
                str(STATUS_LABELS[status_of(a, today)]),
                a.valid_from,
                a.valid_until,
                a.draw_share,
                str(DRAW_WHEN_LABELS.get(a.draw_when, a.draw_when)),
                committed,
                contacts,
            ]
        )
    return headers, rows
