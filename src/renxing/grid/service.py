"""Use cases of the grid: walking the tree within scope, building pages, the responsibility chain."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Collector, Conflict, Forbidden, NotFound
from renxing.grid.models import DUTY_LEVEL, TREE_LEVELS, Building, Duty, GridUnit, Household, Level, Responsibility
from renxing.grid.scope import in_scope, path_ids, sees, unit_in_scope
from renxing.i18n import _, _l
from renxing.people import directory as people
from renxing.people.masking import mask_phone

DUTY_LABELS = {
    Duty.street_director: _l("街道主任"),
    Duty.secretary: _l("社区书记"),
    Duty.branch_secretary: _l("支部书记"),
    Duty.branch_committee: _l("支委委员"),
    Duty.grid_worker: _l("网格员"),
    Duty.party_group_leader: _l("党小组长"),
    Duty.party_member: _l("党员"),
}
LEVEL_LABELS = {
    Level.street: _l("街道"),
    Level.community: _l("社区"),
    Level.compound: _l("苑区"),
    Level.area: _l("片区/网格"),
    Level.building: _l("楼栋"),
    Level.household: _l("户"),
}
# The five-level chain in the order an escalation climbs it (household first).
CHAIN_DUTIES = [
    Duty.party_member,
    Duty.party_group_leader,
    Duty.branch_committee,
    Duty.branch_secretary,
    Duty.secretary,
]


CHUNK = 1000  # ids or codes per IN (...) lookup


# ---- reading the tree -------------------------------------------------------------------


def get_unit(session: Session, actor: Principal, unit_id: int) -> GridUnit:
    """A unit the actor sees (in scope or above it): 404 when missing, 403 beside the scope."""
    actor.require(Perm.grid_read)
    return unit_in_scope(session, actor, unit_id)


def roots(session: Session, actor: Principal) -> list[GridUnit]:
    """The top units a user sees: streets for most; where the scope is lower, its ancestors' top."""
    actor.require(Perm.grid_read)
    streets = session.scalars(select(GridUnit).where(GridUnit.parent_id.is_(None)).order_by(GridUnit.code))
    return [u for u in streets if sees(actor, u)]


def children(session: Session, actor: Principal, unit_id: int) -> list[tuple[GridUnit, int]]:
    """Visible children of a unit with the number of residents in each subtree."""
    parent = get_unit(session, actor, unit_id)
    kids = session.scalars(select(GridUnit).where(GridUnit.parent_id == parent.id).order_by(GridUnit.code))
    visible = [k for k in kids if sees(actor, k)]
    counts = resident_counts(session, [k.path for k in visible])
    return [(k, counts.get(k.path, 0)) for k in visible]


def resident_counts(session: Session, paths: list[str]) -> dict[str, int]:
    """Residents in each subtree (the register counts them)."""
    return people.residents_under(session, paths)


def ancestors(session: Session, unit: GridUnit) -> list[GridUnit]:
    ids = path_ids(unit.path)[:-1]
    if not ids:
        return []
    by_id = {u.id: u for u in session.scalars(select(GridUnit).where(GridUnit.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


@dataclass
class BuildingView:
    unit: GridUnit
    building: Building | None
    households: list[tuple[Household, int]]  # with resident count


def building_view(session: Session, actor: Principal, unit_id: int) -> BuildingView:
    unit = get_unit(session, actor, unit_id)
    if unit.level != Level.building:
        raise NotFound(_("单元 {unit_id} 不是楼栋").format(unit_id=unit_id))
    actor.require(Perm.households_read)
    stmt = select(Household).where(Household.building_id == unit.id).order_by(Household.unit_no, Household.room)
    if actor.household_only:
        stmt = stmt.where(Household.id == actor.household_id)
    elif not in_scope(actor, unit):
        raise Forbidden(_("楼栋 {unit_id} 不在您的网格范围内").format(unit_id=unit_id))
    households = list(session.scalars(stmt))
    sizes = people.household_sizes(session, [h.id for h in households])
    rows = [(h, sizes.get(h.id, 0)) for h in households]
    return BuildingView(unit=unit, building=session.get(Building, unit.id), households=rows)


def get_household(session: Session, actor: Principal, household_id: int) -> Household:
    actor.require(Perm.households_read)
    hh = session.get(Household, household_id)
    # 404 either way: whether a household exists outside one's scope is itself personal data.
    if hh is None or not actor.sees_household(hh.id, hh.path):
        raise NotFound(_("户 {household_id} 不存在").format(household_id=household_id))
    return hh


# ---- changing the tree ------------------------------------------------------------------


def create_unit(
    session: Session,
    actor: Principal,
    *,
    level: Level,
    code: str,
    name: str,
    parent_id: int | None = None,
    kind: str | None = None,
    geometry: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> GridUnit:
    actor.require(Perm.grid_write)
    errors = Collector()
    parent = session.get(GridUnit, parent_id) if parent_id is not None else None
    if parent_id is not None and parent is None:
        errors.add("parent_id", _("上级单元 {parent_id} 不存在").format(parent_id=parent_id))
    if level is Level.household:
        errors.add("level", _("户请用户表"))
    elif parent is not None and TREE_LEVELS.index(level) != TREE_LEVELS.index(Level(parent.level)) + 1:
        errors.add("level", _("{level} 不能直接属于 {parent_level}").format(level=level, parent_level=parent.level))
    elif parent is None and parent_id is None and level is not Level.street:
        errors.add("parent_id", _("只有街道可以没有上级"))
    if not name.strip():
        errors.add("name", _("名称必填"))
    errors.raise_if_any()
    if parent is not None and not in_scope(actor, parent):
        raise Forbidden(_("上级单元不在您的范围内"))
    if session.scalar(select(GridUnit.id).where(GridUnit.code == code)):
        raise Conflict(_("编码 {code} 已存在").format(code=code))
    unit = GridUnit(
        parent_id=parent_id,
        level=level.value,
        code=code,
        name=name.strip(),
        kind=kind,
        geometry=geometry,
        lon=lon,
        lat=lat,
        path="",
    )
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    audit.record(session, actor, "create", "grid_unit", unit.id, after=audit.snapshot(unit))
    return unit


def create_household(
    session: Session, actor: Principal, *, building_id: int, unit_no: int, room: str, address: str | None = None
) -> Household:
    building = get_unit(session, actor, building_id)
    if building.level != Level.building:
        raise NotFound(_("单元 {unit_id} 不是楼栋").format(unit_id=building_id))
    if not in_scope(actor, building):
        raise Forbidden(_("楼栋不在您的范围内"))
    hh = Household(building_id=building.id, path=building.path, unit_no=unit_no, room=room, address=address)
    session.add(hh)
    session.flush()
    audit.record(session, actor, "create", "household", hh.id, after=audit.snapshot(hh))
    return hh


def create_building(
    session: Session,
    actor: Principal,
    *,
    area_id: int,
    code: str,
    name: str,
    lon: float | None = None,
    lat: float | None = None,
    attrs: dict[str, Any],
) -> GridUnit:
    """A building unit under an area, with its attributes (address, units, floors, year built,
    structure, elevator); both audited."""
    unit = create_unit(session, actor, level=Level.building, code=code, name=name, parent_id=area_id, lon=lon, lat=lat)
    building = Building(id=unit.id, **attrs)
    session.add(building)
    audit.record(session, actor, "create", "building", unit.id, after=audit.snapshot(building))
    return unit


def codes_in_use(session: Session, codes: list[str]) -> set[str]:
    """Which of these unit codes are taken (codes are unique across the whole tree)."""
    taken: set[str] = set()
    for start in range(0, len(codes), CHUNK):
        taken.update(session.scalars(select(GridUnit.code).where(GridUnit.code.in_(codes[start : start + CHUNK]))))
    return taken


def building_names(session: Session, area_ids: list[int]) -> set[tuple[int, str]]:
    """(area id, name) of every building in these areas: a name is unique within its area."""
    names: set[tuple[int, str]] = set()
    for start in range(0, len(area_ids), CHUNK):
        stmt = select(GridUnit.parent_id, GridUnit.name).where(
            GridUnit.level == Level.building.value, GridUnit.parent_id.in_(area_ids[start : start + CHUNK])
        )
        names.update((pid, name) for pid, name in session.execute(stmt))
    return names


HouseholdKey = tuple[int, int, str]  # (building id, unit number, room)


def household_keys(session: Session, building_ids: list[int]) -> dict[HouseholdKey, int]:
    """The households of these buildings by (building, unit, room). Internal, no principal: the
    register's import reads it after checking its own rights and scope."""
    out: dict[HouseholdKey, int] = {}
    for start in range(0, len(building_ids), CHUNK):
        stmt = select(Household.id, Household.building_id, Household.unit_no, Household.room).where(
            Household.building_id.in_(building_ids[start : start + CHUNK])
        )
        out.update({(b, u, r): hid for hid, b, u, r in session.execute(stmt)})
    return out


def insert_households(session: Session, rows: list[dict[str, Any]], at: datetime) -> dict[HouseholdKey, int]:
    """Many new households at once (building_id, path, unit_no, room, address), and their ids by
    key. Internal, like :func:`household_keys`. A plain executemany without RETURNING is the fast
    path on both databases; the rows share the creation time ``at``, which finds their ids again."""
    if not rows:
        return {}
    session.execute(insert(Household.__table__), [{**h, "created_at": at} for h in rows])
    building_ids = sorted({h["building_id"] for h in rows})
    out: dict[HouseholdKey, int] = {}
    for start in range(0, len(building_ids), CHUNK):
        stmt = select(Household.id, Household.building_id, Household.unit_no, Household.room).where(
            Household.building_id.in_(building_ids[start : start + CHUNK]), Household.created_at == at
        )
        out.update({(b, u, r): hid for hid, b, u, r in session.execute(stmt)})
    return out


# ---- the responsibility chain (五级负责制) ----------------------------------------------


@dataclass
class ChainLink:
    level: Level
    duty: Duty
    unit_id: int | None
    unit_name: str
    people: list[Responsibility]


def _active(on: date):
    return and_(Responsibility.start_date <= on, or_(Responsibility.end_date.is_(None), Responsibility.end_date >= on))


def assign(
    session: Session,
    actor: Principal,
    *,
    duty: Duty,
    person_name: str,
    unit_id: int | None = None,
    household_id: int | None = None,
    phone: str | None = None,
    user_id: int | None = None,
    resident_id: int | None = None,
    start: date,
    end: date | None = None,
) -> Responsibility:
    actor.require(Perm.grid_write)
    errors = Collector()
    want = DUTY_LEVEL[duty]
    path: str | None = None
    if want is Level.household:
        hh = session.get(Household, household_id) if household_id else None
        if hh is None:
            errors.add("household_id", _("党员联系户须指定户"))
        else:
            path = hh.path
    else:
        unit = session.get(GridUnit, unit_id) if unit_id else None
        if unit is None:
            errors.add("unit_id", _("须指定网格单元"))
        elif unit.level != want:
            errors.add(
                "unit_id", _("{duty} 对应 {want}，而不是 {level}").format(duty=duty, want=want, level=unit.level)
            )
        else:
            path = unit.path
    if end is not None and end < start:
        errors.add("end_date", _("结束日期早于开始日期"))
    if not person_name.strip():
        errors.add("person_name", _("姓名必填"))
    errors.raise_if_any()
    assert path is not None
    if not in_scope(actor, path):
        raise Forbidden(_("不在您的范围内"))
    row = Responsibility(
        duty=duty.value,
        unit_id=unit_id if want is not Level.household else None,
        household_id=household_id if want is Level.household else None,
        person_name=person_name.strip(),
        phone=phone,
        user_id=user_id,
        resident_id=resident_id,
        start_date=start,
        end_date=end,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "responsibility", row.id, after=audit.snapshot(row))
    return row


def chain(
    session: Session, *, unit_id: int | None = None, household_id: int | None = None, on: date | None = None
) -> list[ChainLink]:
    """Who answers for a unit or household at each level, from it up to the street.

    Internal (no principal): routing and escalation call it; pages call :func:`chain_for`.
    The first link is the lowest level, so escalation walks the list in order.
    """
    on = on or date.today()
    household = session.get(Household, household_id) if household_id is not None else None
    if household_id is not None and household is None:
        raise NotFound(_("户 {household_id} 不存在").format(household_id=household_id))
    start_unit = session.get(GridUnit, household.building_id if household else unit_id)
    if start_unit is None:
        raise NotFound(_("网格单元 {unit_id} 不存在").format(unit_id=unit_id))
    unit_ids = path_ids(start_unit.path)
    units = {u.id: u for u in session.scalars(select(GridUnit).where(GridUnit.id.in_(unit_ids)))}
    conds = [Responsibility.unit_id.in_(unit_ids)]
    if household is not None:
        conds.append(Responsibility.household_id == household.id)
    people = list(session.scalars(select(Responsibility).where(or_(*conds), _active(on)).order_by(Responsibility.id)))
    links: list[ChainLink] = []
    if household is not None:
        hh_people = [p for p in people if p.household_id == household.id]
        label = f"{household.unit_no}单元{household.room}"
        links.append(ChainLink(Level.household, Duty.party_member, None, label, hh_people))
    for uid in reversed(unit_ids):
        unit = units[uid]
        level = Level(unit.level)
        for duty in [d for d, lv in DUTY_LEVEL.items() if lv is level]:
            who = [p for p in people if p.unit_id == uid and p.duty == duty.value]
            links.append(ChainLink(level, duty, uid, unit.name, who))
    return links


def chain_above(
    session: Session, *, unit_id: int | None = None, household_id: int | None = None, on: date | None = None
) -> list[Responsibility]:
    """The people of the five-level chain above a place, lowest first: the escalation order."""
    out: list[Responsibility] = []
    for link in chain(session, unit_id=unit_id, household_id=household_id, on=on):
        if link.duty in CHAIN_DUTIES:
            out.extend(link.people)
    return out


@dataclass(frozen=True)
class ChainPerson:
    """A duty holder as one reader sees them (never the stored row, so nothing masked is saved)."""

    person_name: str
    phone: str | None  # in the clear, masked or None, as the reader may see it
    phone_clear: bool
    start_date: date
    user_id: int | None


def _shown(actor: Principal, p: Responsibility) -> ChainPerson:
    # Least necessity: those who call duty holders in their work (Perm.chain_contacts: staff,
    # grid workers, building leaders) get the personal phone; residents need the name and the
    # duty only; other roles see that a phone exists, masked.
    if actor.can(Perm.chain_contacts):
        phone, clear = p.phone, True
    elif actor.household_only:
        phone, clear = None, False
    else:
        phone, clear = mask_phone(p.phone), False
    return ChainPerson(p.person_name, phone, clear and bool(p.phone), p.start_date, p.user_id)


@dataclass
class ChainView:
    level: Level
    duty: Duty
    unit_id: int | None
    unit_name: str
    people: list[ChainPerson]


def chain_for(
    session: Session, actor: Principal, *, unit_id: int | None = None, household_id: int | None = None
) -> list[ChainView]:
    """The chain as a user may see it: the place must be in scope, and duty holders' personal
    phones follow ``Perm.chain_contacts``."""
    if household_id is not None:
        get_household(session, actor, household_id)
    else:
        get_unit(session, actor, unit_id or 0)
    return [
        ChainView(link.level, link.duty, link.unit_id, link.unit_name, [_shown(actor, p) for p in link.people])
        for link in chain(session, unit_id=unit_id, household_id=household_id)
    ]
