"""What the register's pages show: the list and search with their filters, the person page and
its form, the audit trail, the import page. Built from the register's and the grid's services;
the routes in ``people/pages.py`` render them."""

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from renxing.auth.audit import TrailEntry
from renxing.auth.policy import Field, Perm
from renxing.auth.principal import Principal
from renxing.errors import Invalid
from renxing.grid import service as grid
from renxing.grid.models import GridUnit
from renxing.grid.scope import in_scope
from renxing.grid.views import GENDER_LABELS, addresses, household_label, scope_units
from renxing.i18n import N_, _, _l, current_lang
from renxing.listing import sort_key_names
from renxing.people import importer
from renxing.people import service as people
from renxing.people.masking import HIDDEN
from renxing.people.vulnerability import MOBILITY_CLASSES, SPECIAL_NEEDS, TAG_LABELS

FIELD_LABELS = {
    "name": _l("姓名"),
    "gender": _l("性别"),
    "birth_date": _l("出生日期"),
    "id_number": _l("身份证号"),
    "phone": _l("电话"),
    "relation": _l("与户主关系"),
    "hukou_here": _l("户籍在本社区"),
    "lives_here": _l("实际居住"),
    "registered_address": _l("户籍地址"),
    "living_alone": _l("独居"),
    "disability_kind": _l("残疾类别"),
    "disability_grade": _l("残疾等级"),
    "bedridden": _l("卧床"),
    "chronic_illness": _l("慢性病"),
    "pregnant": _l("孕期"),
    "special_needs": _l("特殊需求"),
    "mobility": _l("行动能力"),
    "emergency_contact": _l("紧急联系人"),
    "emergency_phone": _l("紧急联系电话"),
    "party_member": _l("党员"),
    "notes": _l("备注"),
    "household_id": _l("户"),
    "deleted_at": _l("移除时间"),
}
MOBILITY_LABELS = {
    "normal": _l("正常"),
    "slow": _l("行动较慢"),
    "aided": _l("需搀扶"),
    "wheelchair": _l("轮椅"),
    "bedridden": _l("卧床"),
}
NEED_LABELS = {"wheelchair": _l("轮椅"), "oxygen": _l("吸氧"), "dialysis": _l("透析")}
# Stored in Chinese; the catalog words them for the reader (``|stored``).
DISABILITY_KINDS = (N_("视力"), N_("听力"), N_("言语"), N_("肢体"), N_("智力"), N_("精神"), N_("多重"))
ACTION_LABELS = {
    "create": _l("新建"),
    "update": _l("修改"),
    "delete": _l("移除"),
    "restore": _l("恢复"),
    "read_personal": _l("查看敏感信息"),
    "import": _l("导入"),
}
SORT_KEYS = tuple(sort_key_names(people.RESIDENTS))

# Which fields a writer may edit follows what the role sees in the clear: a masked value
# cannot be shown in a form, and a form must not be a way to probe hidden data.
BASE_FIELDS = (
    "name",
    "relation",
    "hukou_here",
    "lives_here",
    "living_alone",
    "party_member",
    "mobility",
    "emergency_contact",
)
ID_FIELDS = ("id_number", "gender", "birth_date")
PHONE_FIELDS = ("phone", "emergency_phone")
HEALTH_FORM = ("disability_kind", "disability_grade", "bedridden", "chronic_illness", "pregnant", "special_needs")
BOOL_FIELDS = frozenset({"hukou_here", "lives_here", "living_alone", "party_member", "bedridden", "pregnant"})
# Fields the database needs filled: an empty box means "leave as it is", not "clear it".
KEEP_IF_EMPTY = frozenset({"mobility"})


def editable_fields(actor: Principal, resident_id: int) -> list[str]:
    if not actor.can(Perm.residents_write):
        return []
    clear = actor.clear_fields(resident_id)
    fields = list(BASE_FIELDS)
    if Field.id_number in clear:
        fields += ID_FIELDS
    if Field.phone in clear:
        fields += PHONE_FIELDS
    if Field.health in clear:
        fields += HEALTH_FORM
    return fields


def parse_form(form: FormData, fields: list[str]) -> dict[str, Any]:
    """Only the fields this role's form shows; an unchecked box is a definite no."""
    out: dict[str, Any] = {}
    for f in fields:
        if f in BOOL_FIELDS:
            out[f] = form.get(f) == "on"
        elif f == "special_needs":
            out[f] = ",".join(str(v) for v in form.getlist(f) if v) or None
        else:
            value = str(form.get(f) or "").strip()
            if f == "name":
                out[f] = value  # an empty name must fail validation, not pass as "unchanged"
            elif value or f not in KEEP_IF_EMPTY:
                out[f] = value or None
    return out


def form_values(view: dict[str, Any]) -> dict[str, Any]:
    values = dict(view)
    values["special_needs"] = [n for n in (view.get("special_needs") or "").split(",") if n]
    return values


HIDDEN_AUDIT_KEYS = frozenset({"id", "path", "created_at", "updated_at"})


def unit_options(session: Session, actor: Principal) -> list[tuple[GridUnit, int]]:
    """The units a user can filter by: their scope units and one level below, with depth."""
    out: list[tuple[GridUnit, int]] = []
    for u in scope_units(session, actor):
        if not in_scope(actor, u):
            continue
        out.append((u, 0))
        out += [(k, 1) for k, _ in grid.children(session, actor, u.id)] if u.level != "building" else []
    return out


def export_link(params: dict[str, Any]) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return "/api/v1/residents/export.xlsx" + (f"?{query}" if query else "")


def search(
    session: Session,
    actor: Principal,
    *,
    unit_id: int | None,
    tag: str | None,
    q: str | None,
    sort: str,
    page: int,
    size: int | None,
) -> dict[str, Any]:
    """Run the list query; a refused search (role may not search by phone, …) becomes a message."""
    ctx: dict[str, Any] = {"result": None, "rows": [], "addresses": {}, "problem": None}
    try:
        unit_path = grid.get_unit(session, actor, unit_id).path if unit_id else None
        result = people.list_residents(
            session, actor, unit_path=unit_path, q=q, tag=tag, sort=sort, page=page, size=size
        )
    except Invalid as exc:
        ctx["problem"] = exc
        return ctx
    rows = [people.present(r, actor, frozenset()) for r in result.items]
    ctx.update(result=result, rows=rows, addresses=addresses(session, actor, rows))
    return ctx


# ---- list and search --------------------------------------------------------------------


def list_context(
    session: Session,
    actor: Principal,
    *,
    unit_id: int | None,
    tag: str | None,
    q: str | None,
    sort: str | None,
    page: int,
    size: int | None,
) -> dict[str, Any]:
    """The list page's results and the filters they came from (an unknown sort: the grid's order)."""
    sort = sort if sort in SORT_KEYS else "grid"
    ctx = search(session, actor, unit_id=unit_id, tag=tag, q=q, sort=sort, page=page, size=size)
    ctx.update(
        q=q or "",
        tag=tag or "",
        sort=sort,
        unit_id=unit_id,
        export=export_link({"unit_id": unit_id, "tag": tag, "q": q, "sort": sort, "lang": current_lang()}),
        TAG_LABELS=TAG_LABELS,
        GENDER_LABELS=GENDER_LABELS,
    )
    return ctx


def list_filters(session: Session, actor: Principal) -> dict[str, Any]:
    """The choices of the list page's filter form."""
    return {"tags": people.visible_tags(actor), "units": unit_options(session, actor)}


def search_context(session: Session, actor: Principal, q: str | None, *, page: int, size: int | None) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "q": q or "",
        "result": None,
        "rows": [],
        "addresses": {},
        "problem": None,
        "allowed": actor.can(Perm.residents_read),
        "TAG_LABELS": TAG_LABELS,
        "GENDER_LABELS": GENDER_LABELS,
        "sort": "name",
    }
    if q and ctx["allowed"]:
        ctx.update(search(session, actor, unit_id=None, tag=None, q=q, sort="name", page=page, size=size))
    return ctx


# ---- one person -------------------------------------------------------------------------


def person_context(session: Session, request: Request, actor: Principal, resident_id: int) -> dict[str, Any]:
    view = people.get_resident(session, actor, resident_id)
    hh = grid.get_household(session, actor, view["household_id"])
    building = grid.get_unit(session, actor, hh.building_id)
    crumbs: list[tuple[str, str | None]] = [(a.name, f"/grid/{a.id}") for a in grid.ancestors(session, building)]
    label = household_label(hh)
    crumbs += [(building.name, f"/grid/{building.id}"), (label, f"/households/{hh.id}"), (view["name"], None)]
    return {
        "r": view,
        "hh": hh,
        "hh_label": f"{building.name} {label}",
        "crumbs": crumbs,
        "fields": editable_fields(actor, resident_id),
        "values": form_values(view),
        "errors": {},
        "problem": None,
        "can_audit": actor.can(Perm.audit_read),
        "TAG_LABELS": TAG_LABELS,
        "GENDER_LABELS": GENDER_LABELS,
        "FIELD_LABELS": FIELD_LABELS,
        "MOBILITY_LABELS": MOBILITY_LABELS,
        "MOBILITY_CLASSES": MOBILITY_CLASSES,
        "NEED_LABELS": NEED_LABELS,
        "SPECIAL_NEEDS": SPECIAL_NEEDS,
        "DISABILITY_KINDS": DISABILITY_KINDS,
        "HIDDEN": HIDDEN,
        "saved": request.query_params.get("saved") == "1",
        "restored": request.query_params.get("restored") == "1",
    }


def failed_edit_context(
    session: Session,
    request: Request,
    actor: Principal,
    resident_id: int,
    submitted: dict[str, Any],
    errors: dict[str, str],
    problem: str | None,
) -> dict[str, Any]:
    """The person page again with what was typed and what was wrong (nothing was written)."""
    ctx = person_context(session, request, actor, resident_id)
    values = dict(ctx["values"])
    values.update(submitted)
    values["special_needs"] = (
        [n for n in (submitted.get("special_needs") or "").split(",") if n]
        if ("special_needs" in submitted)
        else ctx["values"]["special_needs"]
    )
    ctx.update(values=values, errors=errors, problem=problem, editing=True)
    return ctx


def audit_rows(entries: list[TrailEntry]) -> list[dict[str, Any]]:
    """Each entry with the fields it changed: (field, before, after); a creation shows what it set."""
    rows = []
    for e in entries:
        before, after = e.before or {}, e.after or {}
        keys = [k for k in dict.fromkeys([*before, *after]) if k not in HIDDEN_AUDIT_KEYS]
        if e.action == "create":
            keys = [k for k in keys if after.get(k) not in (None, False, "")]
        changes = [(k, before.get(k), after.get(k)) for k in keys]
        rows.append({"entry": e, "changes": changes})
    return rows


def audit_context(session: Session, actor: Principal, resident_id: int) -> dict[str, Any]:
    return {
        "rows": audit_rows(people.audit_trail(session, actor, resident_id)),
        "resident_id": resident_id,
        "ACTION_LABELS": ACTION_LABELS,
        "FIELD_LABELS": FIELD_LABELS,
        "GENDER_LABELS": GENDER_LABELS,
        "MOBILITY_LABELS": MOBILITY_LABELS,
        "NEED_LABELS": NEED_LABELS,
        "HIDDEN": HIDDEN,
        "crumbs": [
            (_("居民"), "/residents"),
            (f"#{resident_id}", f"/residents/{resident_id}"),
            (_("审计记录"), None),
        ],
    }


# ---- import ------------------------------------------------------------------------------

IMPORT_KIND_LABELS = {"residents": _l("居民"), "buildings": _l("楼栋")}


def import_kinds(actor: Principal) -> list[importer.ImportKind]:
    return [k for k in importer.ImportKind if actor.can(importer.REQUIRED_PERM[k])]


def import_context(actor: Principal, **extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "kinds": import_kinds(actor),
        "kind": "residents",
        "report": None,
        "problem": None,
        "errors": [],
        "token": None,
        "columns": [],
        "KIND_LABELS": IMPORT_KIND_LABELS,
        "HIDDEN": HIDDEN,
    }
    ctx.update(extra)
    report = ctx["report"]
    if report is not None:
        kind = importer.ImportKind(report.kind)
        ctx["columns"] = [(c.key, (c.zh, c.en)) for c in importer.COLUMNS[kind]]
    return ctx
