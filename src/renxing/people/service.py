"""Use cases of the resident register: scoped lists, search, masked reads, audited writes."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from renxing import listing
from renxing.auth import audit
from renxing.auth.policy import Field, Perm, sees_birth_date
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector, Conflict, FieldError, Invalid, NotFound
from renxing.grid.models import Household
from renxing.grid.scope import in_scope, scope_clause, subtree_clause
from renxing.grid.service import get_household
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.people import vulnerability
from renxing.people.idcard import IdNumberError, parse_id_number
from renxing.people.masking import HIDDEN, mask_id_number, mask_phone
from renxing.people.models import Resident
from renxing.people.schemas import ResidentIn, ResidentPatch

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
# Columns that always hold a value: a patch may change them but not blank them.
REQUIRED_FIELDS = (
    "household_id",
    "name",
    "hukou_here",
    "lives_here",
    "living_alone",
    "bedridden",
    "pregnant",
    "mobility",
    "party_member",
)
HEALTH_FIELDS = ("disability_kind", "disability_grade", "bedridden", "chronic_illness", "pregnant", "special_needs")


def normalise_phone(raw: str | None) -> str | None:
    if raw is None:
        return None
    phone = re.sub(r"[\s()]", "", str(raw))
    if phone.startswith("+86"):
        phone = phone[3:]
    return phone or None


def check_fields(values: dict[str, Any], errors: Collector, row: int | None = None) -> dict[str, Any]:
    """Validate and complete one resident's values in place; used by forms, the API and imports."""
    _check_id_number(values, errors, row)
    for key in ("phone", "emergency_phone"):
        if key in values:
            phone = normalise_phone(values[key])
            if phone and not (MOBILE.match(phone) or LANDLINE.match(phone)):
                errors.add(key, _("电话号码格式错误"), row, values[key])
            values[key] = phone
    _check_needs(values, errors, row)
    mobility = values.get("mobility")
    if mobility and mobility not in vulnerability.MOBILITY_CLASSES:
        errors.add(
            "mobility",
            _("行动能力应为 {mobility_classes} 之一").format(mobility_classes=vulnerability.MOBILITY_CLASSES),
            row,
        )
    if values.get("birth_date") and values["birth_date"] > date.today():
        errors.add("birth_date", _("出生日期在未来"), row)
    return values


def _check_id_number(values: dict[str, Any], errors: Collector, row: int | None) -> None:
    """A valid ID number, in its canonical form; birth date and gender follow from it unless given,
    and must agree with it when given."""
    idn = values.get("id_number")
    if not idn:
        values["id_number"] = None
        return
    try:
        info = parse_id_number(str(idn))
    except IdNumberError as exc:
        errors.add("id_number", str(exc), row, idn)
        return
    values["id_number"] = info.number
    if values.get("birth_date") is None:
        values["birth_date"] = info.birth_date
    elif values["birth_date"] != info.birth_date:
        errors.add("birth_date", _("出生日期与身份证号不符"), row)
    if values.get("gender") is None:
        values["gender"] = info.gender
    elif values["gender"] != info.gender:
        errors.add("gender", _("性别与身份证号不符"), row)


def _check_needs(values: dict[str, Any], errors: Collector, row: int | None) -> None:
    needs = values.get("special_needs")
    if not needs:
        return
    parts = [p.strip() for p in str(needs).replace("，", ",").split(",") if p.strip()]
    bad = [p for p in parts if p not in vulnerability.SPECIAL_NEEDS]
    if bad:
        errors.add("special_needs", _("未知的特殊需求：{needs}").format(needs=", ".join(bad)), row)
    values["special_needs"] = ",".join(parts) or None


def tags_of(r: Resident, today: date | None = None) -> list[vulnerability.Tag]:
    return vulnerability.tags(
        birth_date=r.birth_date,
        living_alone=r.living_alone,
        disability_kind=r.disability_kind,
        bedridden=r.bedridden,
        chronic_illness=r.chronic_illness,
        pregnant=r.pregnant,
        special_needs=r.special_needs,
        today=today or date.today(),
    )


def present(r: Resident, actor: Principal, clear: frozenset[Field] | None = None) -> dict[str, Any]:
    """A resident as this actor may see it; sensitive fields masked unless ``clear`` names them."""
    clear = actor.clear_fields(r.id) if clear is None else clear
    # A masked list still shows the birth date to a role that may read the ID number anyway;
    # anyone else gets the age only (birth date + last four digits would narrow the ID down).
    birth_date = r.birth_date if sees_birth_date(clear | actor.clear_fields(r.id)) else None
    tags = tags_of(r)
    if Field.health not in clear:
        tags = [t for t in tags if t not in vulnerability.HEALTH_TAGS]
    out: dict[str, Any] = {
        "id": r.id,
        "household_id": r.household_id,
        "name": r.name,
        "gender": r.gender,
        "birth_date": birth_date.isoformat() if birth_date else None,
        "age": vulnerability.age_on(r.birth_date, date.today()) if r.birth_date else None,
        "relation": r.relation,
        "hukou_here": r.hukou_here,
        "lives_here": r.lives_here,
        "living_alone": r.living_alone,
        "party_member": r.party_member,
        "mobility": r.mobility,
        "tags": [t.value for t in tags],
        "id_number": r.id_number if Field.id_number in clear else mask_id_number(r.id_number),
        "phone": r.phone if Field.phone in clear else mask_phone(r.phone),
        "emergency_contact": r.emergency_contact,
        "emergency_phone": r.emergency_phone if Field.phone in clear else mask_phone(r.emergency_phone),
        "masked": sorted(f.value for f in set(Field) - clear),
    }
    for key in HEALTH_FIELDS:
        value = getattr(r, key)
        out[key] = value if Field.health in clear else (HIDDEN if value else None)
    return out


def visible_tags(actor: Principal) -> list[vulnerability.Tag]:
    """Health tags follow the health field's masking, in views, counts and filters alike."""
    clear = actor.clear_fields()
    return [t for t in vulnerability.Tag if t not in vulnerability.HEALTH_TAGS or Field.health in clear]


def _scoped(actor: Principal) -> Select[tuple[Resident]]:
    actor.require(Perm.residents_read)
    stmt = select(Resident).where(Resident.deleted_at.is_(None))
    if actor.household_only:
        return stmt.where(Resident.household_id == (actor.household_id or -1))
    clause = scope_clause(Resident.path, actor)
    return stmt if clause is None else stmt.where(clause)


def years_ago(today: date, years: int) -> date:
    """The same calendar day ``years`` back; 29 February falls back to the 28th."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def tag_clause(tag: vulnerability.Tag, today: date | None = None):
    """The residents carrying a vulnerability tag, in SQL."""
    today = today or date.today()
    years = {vulnerability.Tag.aged60: 60, vulnerability.Tag.aged80: 80}
    if tag in years:
        return Resident.birth_date <= years_ago(today, years[tag])
    if tag is vulnerability.Tag.infant:
        return Resident.birth_date > years_ago(today, 3)
    columns = {
        vulnerability.Tag.living_alone: Resident.living_alone.is_(True),
        vulnerability.Tag.disabled: Resident.disability_kind.is_not(None),
        vulnerability.Tag.bedridden: Resident.bedridden.is_(True),
        vulnerability.Tag.chronic: Resident.chronic_illness.is_not(None),
        vulnerability.Tag.pregnant: Resident.pregnant.is_(True),
        vulnerability.Tag.special_needs: Resident.special_needs.is_not(None),
    }
    return columns[tag]


@dataclass(frozen=True)
class _Built(Filter):
    """A filter whose clause a function builds from the value (a subtree, a tag, a number's end)."""

    build: Callable[[Any], Any] | None = None

    def clause(self, value: Any):
        assert self.build is not None
        return self.build(value)


# The register's list: the page, the search page, the building and household pages and the
# Excel export all go through it. Phone and ID-number filters are set by the search rule below,
# never taken from a request as they are.
RESIDENTS = ListSpec(
    sorts={
        "grid": Resident.path,  # building by building, as the register is kept on paper
        "id": Resident.id,
        "name": Resident.name,
        "birth_date": Resident.birth_date,
    },
    default_sort="grid",
    tiebreaker=Resident.id,
    search=(Resident.name,),
    filters={
        "unit_path": _Built(Resident.path, build=lambda path: subtree_clause(Resident.path, path)),
        "household_id": Filter(Resident.household_id),
        "tag": _Built(Resident.birth_date, parse=vulnerability.Tag, build=tag_clause),
        "id_number": Filter(Resident.id_number),
        "phone": Filter(Resident.phone),
        "phone_end": _Built(Resident.phone, build=lambda digits: Resident.phone.like(f"%{digits}")),
    },
)


def _residents_asked(
    actor: Principal,
    *,
    unit_path: str | None,
    household_id: int | None,
    q: str | None,
    tag: str | None,
    sort: str | None = None,
    page: int = 1,
    size: int | None = None,
) -> ListQuery:
    query = ListQuery(page=page, size=size, sort=sort, q=q)
    query.filters = {"unit_path": unit_path, "household_id": household_id, "tag": _checked_tag(actor, tag)}
    _search_rule(actor, query)
    return query


def resident_query(
    actor: Principal,
    *,
    unit_path: str | None = None,
    household_id: int | None = None,
    q: str | None = None,
    tag: str | None = None,
) -> Select[tuple[Resident]]:
    """The residents in scope matching the filters, in grid order; the Excel export reads it."""
    query = _residents_asked(actor, unit_path=unit_path, household_id=household_id, q=q, tag=tag)
    return listing.apply(_scoped(actor), RESIDENTS, query)


def list_residents(
    session: Session,
    actor: Principal,
    *,
    unit_path: str | None = None,
    household_id: int | None = None,
    q: str | None = None,
    tag: str | None = None,
    sort: str | None = None,
    page: int = 1,
    size: int | None = None,
) -> Page[Resident]:
    """Residents in scope, one page. Lists are always masked; see :func:`get_resident`."""
    query = _residents_asked(
        actor, unit_path=unit_path, household_id=household_id, q=q, tag=tag, sort=sort, page=page, size=size
    )
    return list_page(session, _scoped(actor), RESIDENTS, query)


def _search_rule(actor: Principal, query: ListQuery) -> None:
    """Name always; phone and full ID number only for roles that see those fields in the clear,
    so that searching cannot be used to test whether someone lives here. A number becomes the
    matching filter and is no longer searched as a name."""
    compact = (query.q or "").strip().replace(" ", "").upper()
    clear = actor.clear_fields()
    if len(compact) == 18 and compact[:17].isdigit():
        if Field.id_number not in clear:
            raise Invalid(_("您的角色不能按身份证号查询"), [FieldError("q", "ID")])
        query.filters["id_number"], query.q = compact, None
    elif compact.isdigit() and len(compact) >= 4:
        if Field.phone not in clear:
            raise Invalid(_("您的角色不能按电话查询"), [FieldError("q", "phone")])
        query.filters["phone" if len(compact) == 11 else "phone_end"], query.q = compact, None


def _checked_tag(actor: Principal, tag: str | None) -> vulnerability.Tag | None:
    if not tag:
        return None
    try:
        t = vulnerability.Tag(tag)
    except ValueError as exc:
        raise Invalid(_("未知标签：{tag}").format(tag=tag), [FieldError("tag", "unknown", value=tag)]) from exc
    if t not in visible_tags(actor):
        # Listing who has a condition would reveal the health data the role may not see.
        raise Invalid(_("您的角色不能按健康标签筛选"), [FieldError("tag", "health")])
    return t


def _load(session: Session, actor: Principal, resident_id: int, *, deleted: bool = False) -> Resident:
    r = session.get(Resident, resident_id)
    # 404 rather than 403: whether someone lives outside one's scope is itself personal data.
    if r is None or (r.deleted_at is not None) != deleted:
        raise NotFound(_("居民 {resident_id} 不存在").format(resident_id=resident_id))
    if actor.household_only:
        if r.household_id != actor.household_id:
            raise NotFound(_("居民 {resident_id} 不存在").format(resident_id=resident_id))
    elif not in_scope(actor, r.path):
        raise NotFound(_("居民 {resident_id} 不存在").format(resident_id=resident_id))
    return r


def get_resident(session: Session, actor: Principal, resident_id: int) -> dict[str, Any]:
    """One resident; fields the role needs come in the clear and that read is audited."""
    actor.require(Perm.residents_read)
    r = _load(session, actor, resident_id)
    clear = actor.clear_fields(r.id)
    view = present(r, actor, clear)
    revealed = [f.value for f in clear if _has_value(r, f)]
    if revealed:
        audit.record(session, actor, "read_personal", "resident", r.id, summary=",".join(sorted(revealed)))
    return view


def _has_value(r: Resident, f: Field) -> bool:
    if f is Field.id_number:
        return bool(r.id_number)
    if f is Field.phone:
        return bool(r.phone or r.emergency_phone)
    return any(getattr(r, k) for k in HEALTH_FIELDS)


def _check_household(session: Session, actor: Principal, household_id: int) -> Household:
    try:
        return get_household(session, actor, household_id)
    except NotFound as exc:
        raise Invalid(_("户不存在或不在范围内"), [FieldError("household_id", "not found")]) from exc


def create_resident(session: Session, actor: Principal, data: ResidentIn) -> Resident:
    actor.require(Perm.residents_write)
    hh = _check_household(session, actor, data.household_id)
    errors = Collector()
    values = check_fields(data.model_dump(), errors)
    errors.raise_if_any()
    _unique_id(session, values.get("id_number"), None)
    r = Resident(path=hh.path, **values)
    if not r.mobility:
        r.mobility = vulnerability.default_mobility(tags_of(r), r.special_needs)
    session.add(r)
    session.flush()
    audit.record(session, actor, "create", "resident", r.id, after=audit.snapshot(r))
    return r


def update_resident(session: Session, actor: Principal, resident_id: int, patch: ResidentPatch) -> Resident:
    actor.require(Perm.residents_write)
    r = _load(session, actor, resident_id)
    before = audit.snapshot(r)
    changes = patch.model_dump(exclude_unset=True)
    errors = Collector()
    for key in REQUIRED_FIELDS:
        if key in changes and changes[key] is None:
            errors.add(key, _("不能为空"))
    errors.raise_if_any()
    if "household_id" in changes:
        hh = _check_household(session, actor, changes["household_id"])
        r.path = hh.path
    merged = {**{k: getattr(r, k) for k in ResidentPatch.model_fields}, **changes}
    if "id_number" in changes:
        # A new number brings its own birth date and gender unless they were also given.
        merged["birth_date"] = changes.get("birth_date")
        merged["gender"] = changes.get("gender")
    check_fields(merged, errors)
    errors.raise_if_any()
    _unique_id(session, merged.get("id_number"), r.id)
    for key, value in merged.items():
        setattr(r, key, value)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(r))
    old.pop("updated_at", None)
    new.pop("updated_at", None)
    if new:
        audit.record(session, actor, "update", "resident", r.id, before=old, after=new)
    return r


def _unique_id(session: Session, id_number: str | None, own_id: int | None) -> None:
    if not id_number:
        return
    other = session.scalar(select(Resident.id).where(Resident.id_number == id_number))
    if other is not None and other != own_id:
        raise Conflict(_("身份证号已登记"))


def delete_resident(session: Session, actor: Principal, resident_id: int) -> Resident:
    """Soft delete: the row leaves every list but can be restored (undo)."""
    actor.require(Perm.residents_write)
    r = _load(session, actor, resident_id)
    r.deleted_at = utcnow()
    audit.record(session, actor, "delete", "resident", r.id, before={"deleted_at": None})
    return r


def restore_resident(session: Session, actor: Principal, resident_id: int) -> Resident:
    actor.require(Perm.residents_write)
    r = _load(session, actor, resident_id, deleted=True)
    _unique_id(session, r.id_number, r.id)
    r.deleted_at = None
    audit.record(session, actor, "restore", "resident", r.id, after={"deleted_at": None})
    return r


def audit_trail(session: Session, actor: Principal, resident_id: int) -> list[audit.TrailEntry]:
    """The record's history with personal values masked as this reader sees them, so the trail
    cannot undo the masks."""
    r = session.get(Resident, resident_id)
    if r is None or not in_scope(actor, r.path):
        raise NotFound(_("居民 {resident_id} 不存在").format(resident_id=resident_id))
    return audit.trail(session, actor, "resident", resident_id, resident_id=r.id)
