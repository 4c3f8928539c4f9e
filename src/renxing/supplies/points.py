"""Storage points and their minimum levels: the community's store, partners' sites, shelters'
stores and the household kits of a building.

Staff who manage supplies keep the points of the communities in their scope. Each kind has its
rules: a partner site belongs to a partner of that community, household kits lie at a building of
it (the point's path is the building's, so grid workers reach them), a shelter's store may name
the shelter. What the point is (its kind, partner, building) is fixed once stock has moved there,
since every ledger entry carries the point's path. A partner's account may change only the
address, access hours and contact of its own sites.
"""

from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Collector, Conflict, FieldError, Forbidden, Invalid, NotFound
from renxing.geo.coords import CRS, UnknownCRS, convert, parse_crs
from renxing.grid import directory as grid_directory
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import community_in_scope, in_scope
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, apply, list_page
from renxing.partners import directory as partners_directory
from renxing.people.service import LANDLINE, MOBILE, normalise_phone
from renxing.space import directory as space_directory
from renxing.supplies.access import load_point, narrow, partner_orgs
from renxing.supplies.items import get_item
from renxing.supplies.models import POINT_KIND_LABELS, MinLevel, Movement, PointKind, StoragePoint, SupplyItem
from renxing.supplies.schemas import PointIn, PointPatch

# What a partner may change on its own site; everything else is the community's.
PARTNER_FIELDS = frozenset({"address", "access_hours", "contact_name", "contact_phone"})
# What a point is: fixed once stock has moved there.
IDENTITY = ("kind", "org_id", "building_id")
MAX_EXPORT = 10_000

POINTS = ListSpec(
    sorts={
        "name": StoragePoint.name,
        "kind": (StoragePoint.kind, StoragePoint.name),
        "community": (StoragePoint.unit_id, StoragePoint.kind, StoragePoint.name),
    },
    default_sort="community",
    tiebreaker=StoragePoint.id,
    search=(StoragePoint.name, StoragePoint.address),
    filters={
        "kind": Filter(StoragePoint.kind, parse=lambda v: PointKind(v).value),
        "unit_id": Filter(StoragePoint.unit_id),
        "org_id": Filter(StoragePoint.org_id),
        "active": Filter(StoragePoint.active),
    },
)


def crs_of(name: str | None) -> CRS:
    """The datum coordinates arrive in or are asked for: 422 naming ``crs`` when unknown."""
    try:
        return parse_crs(name or "wgs84")
    except UnknownCRS as exc:
        raise Invalid(str(exc), [FieldError("crs", str(exc), value=str(name))]) from exc


def list_points(session: Session, actor: Principal, query: ListQuery) -> Page[StoragePoint]:
    actor.require(Perm.supplies_read)
    return list_page(session, narrow(session, actor, select(StoragePoint)), POINTS, query)


def all_points(session: Session, actor: Principal, query: ListQuery) -> list[StoragePoint]:
    """Every point of the list's filters and order, for the export."""
    actor.require(Perm.supplies_read)
    stmt = apply(narrow(session, actor, select(StoragePoint)), POINTS, query)
    return list(session.scalars(stmt.limit(MAX_EXPORT)))


def get_point(session: Session, actor: Principal, point_id: int) -> StoragePoint:
    return load_point(session, actor, point_id)


def org_names(session: Session, points: list[StoragePoint]) -> dict[int, str]:
    ids = [p.org_id for p in points if p.org_id is not None]
    return {o.id: o.name for o in partners_directory.organizations(session, ids)}


def present(point: StoragePoint, organization: str | None, crs: CRS = CRS.wgs84) -> dict[str, Any]:
    lon, lat = point.lon, point.lat
    if lon is not None and lat is not None and crs is not CRS.wgs84:
        lon, lat = convert(lon, lat, CRS.wgs84, crs)
    return {
        "id": point.id,
        "unit_id": point.unit_id,
        "path": point.path,
        "name": point.name,
        "kind": point.kind,
        "kind_label": str(POINT_KIND_LABELS.get(point.kind, point.kind)),
        "org_id": point.org_id,
        "organization": organization,
        "shelter_id": point.shelter_id,
        "building_id": point.building_id,
        "households": point.households,
        "lon": lon,
        "lat": lat,
        "address": point.address,
        "access_hours": point.access_hours,
        "contact_name": point.contact_name,
        "contact_phone": point.contact_phone,
        "active": point.active,
    }


def present_all(session: Session, points: list[StoragePoint], crs: CRS = CRS.wgs84) -> list[dict[str, Any]]:
    names = org_names(session, points)
    return [present(p, names.get(p.org_id) if p.org_id else None, crs) for p in points]


# ---- validation ---------------------------------------------------------------------------------


def _to_wgs84(values: dict[str, Any], crs: CRS, errors: Collector) -> None:
    """Coordinates come as a pair (or none); given in GCJ-02 or BD-09 they are stored in WGS-84."""
    lon, lat = values.get("lon"), values.get("lat")
    if (lon is None) != (lat is None):
        errors.add("lat" if lat is None else "lon", _("经度和纬度须同时填写"))
        return
    if lon is not None and crs is not CRS.wgs84:
        values["lon"], values["lat"] = convert(lon, lat, crs, CRS.wgs84)


def _phone(values: dict[str, Any], errors: Collector) -> None:
    if values.get("contact_phone"):
        phone = normalise_phone(values["contact_phone"])
        if not phone or not (MOBILE.match(phone) or LANDLINE.match(phone)):
            errors.add("contact_phone", _("电话号码格式错误"), value=values["contact_phone"])
        values["contact_phone"] = phone


def _only_for(values: dict[str, Any], field: str, kind: PointKind, errors: Collector) -> None:
    if values.get(field) is not None and values["kind"] != kind.value:
        label = POINT_KIND_LABELS[kind]
        errors.add(field, _("只有{kind}填写此项").format(kind=label), value=values[field])


def _partner_site(session: Session, values: dict[str, Any], community: GridUnit, errors: Collector) -> None:
    if values.get("org_id") is None:
        errors.add("org_id", _("协议单位储备点须选择合作单位"))
        return
    org = partners_directory.organization(session, values["org_id"])
    if org is None or org.unit_id != community.id:
        errors.add("org_id", _("不是本社区的合作单位"), value=values["org_id"])


def _building(session: Session, values: dict[str, Any], community: GridUnit, errors: Collector) -> str:
    """Household kits lie at a building of the community: its path, and its place by default."""
    if values.get("building_id") is None:
        errors.add("building_id", _("家庭应急包须选择楼栋"))
        return community.path
    building = grid_directory.unit(session, values["building_id"])
    if building is None or building.level != Level.building.value or not building.path.startswith(community.path):
        errors.add("building_id", _("不是本社区的楼栋"), value=values["building_id"])
        return community.path
    if values.get("lon") is None and building.lon is not None:
        values["lon"], values["lat"] = building.lon, building.lat
    return building.path


def _shelter(session: Session, values: dict[str, Any], community: GridUnit, errors: Collector) -> None:
    shelter_id = values.get("shelter_id")
    if shelter_id is None:
        return
    if space_directory.shelter_community(session, shelter_id) != community.id:
        errors.add("shelter_id", _("不是本社区的避难场所"), value=shelter_id)
        return
    shelter = space_directory.shelter(session, shelter_id)
    if values.get("lon") is None and shelter is not None and shelter.lon is not None:
        values["lon"], values["lat"] = shelter.lon, shelter.lat


def _place(session: Session, values: dict[str, Any], community: GridUnit, errors: Collector) -> str:
    """Check the kind's rules; the point's path (its community's, or its building's)."""
    for field, owner in (
        ("org_id", PointKind.partner_site),
        ("building_id", PointKind.household_kits),
        ("households", PointKind.household_kits),
        ("shelter_id", PointKind.shelter_store),
    ):
        _only_for(values, field, owner, errors)
    kind = values["kind"]
    if kind == PointKind.partner_site:
        _partner_site(session, values, community, errors)
    elif kind == PointKind.household_kits:
        return _building(session, values, community, errors)
    elif kind == PointKind.shelter_store:
        _shelter(session, values, community, errors)
    return community.path


def _check(session: Session, values: dict[str, Any], community: GridUnit, errors: Collector) -> str:
    if values["kind"] not in PointKind.__members__:
        errors.add("kind", _("应为 {join} 之一").format(join=", ".join(PointKind)), value=values["kind"])
        return community.path
    _phone(values, errors)
    return _place(session, values, community, errors)


def _unique(session: Session, unit_id: int, name: str, own_id: int | None) -> None:
    other = session.scalar(select(StoragePoint.id).where(StoragePoint.unit_id == unit_id, StoragePoint.name == name))
    if other is not None and other != own_id:
        why = _("本社区已有同名储备点")
        raise Conflict(why, [FieldError("name", why, value=name)])


def _has_history(session: Session, point_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Movement.point_id == point_id))))


# ---- writes ---------------------------------------------------------------------------------------


def create_point(session: Session, actor: Principal, data: PointIn, *, crs: str | None = None) -> StoragePoint:
    actor.require(Perm.supplies_manage)
    source = crs_of(crs)
    community = community_in_scope(session, actor, data.unit_id, write=True)
    values = data.model_dump()
    errors = Collector()
    _to_wgs84(values, source, errors)
    path = _check(session, values, community, errors)
    errors.raise_if_any()
    _unique(session, community.id, values["name"], None)
    point = StoragePoint(**values, path=path)
    session.add(point)
    session.flush()
    audit.record(session, actor, "create", "storage_point", point.id, after=audit.snapshot(point))
    return point


def _load_for_update(session: Session, actor: Principal, point_id: int, changes: dict[str, Any]) -> StoragePoint:
    """The point, if the actor may make these changes: a partner only to its own site's contact
    fields; staff managing supplies anything of a point in their scope."""
    if partner_orgs(session, actor) is not None:
        point = load_point(session, actor, point_id, write=True)
        other = sorted(set(changes) - PARTNER_FIELDS)
        if other:
            why = _("合作单位只能修改本单位储备点的地址、开放时间和联系人")
            raise Forbidden(why, [FieldError(f, why) for f in other])
        return point
    actor.require(Perm.supplies_manage)
    point = load_point(session, actor, point_id)
    if not in_scope(actor, point.path):
        raise Forbidden(_("不在您的管理范围内"))
    return point


def update_point(
    session: Session, actor: Principal, point_id: int, patch: PointPatch, *, crs: str | None = None
) -> StoragePoint:
    changes = patch.model_dump(exclude_unset=True)
    point = _load_for_update(session, actor, point_id, changes)
    source = crs_of(crs)
    errors = Collector()
    for key in ("name", "kind", "active"):
        if key in changes and changes[key] is None:
            errors.add(key, _("不能为空"))
    errors.raise_if_any()
    before = audit.snapshot(point)
    values = {**before, **changes}
    if "lon" in changes or "lat" in changes:
        values["lon"], values["lat"] = changes.get("lon"), changes.get("lat")
        _to_wgs84(values, source, errors)
    community = grid_directory.unit(session, point.unit_id)
    assert community is not None  # a point's community is a foreign key
    path = _check(session, values, community, errors)
    errors.raise_if_any()
    moved = [k for k in IDENTITY if values[k] != before[k]]
    if moved and _has_history(session, point.id):
        why = _("该储备点已有库存记录，类型、合作单位和楼栋不能再改")
        raise Conflict(why, [FieldError(k, why, value=values[k]) for k in moved])
    if values["name"] != before["name"]:
        _unique(session, point.unit_id, values["name"], point.id)
    for key in (*PointPatch.model_fields, "path"):
        new = path if key == "path" else values[key]
        if new != before[key]:
            setattr(point, key, new)
    session.flush()
    old, new_values = audit.changed(before, audit.snapshot(point))
    old.pop("updated_at", None)
    new_values.pop("updated_at", None)
    if new_values:
        audit.record(session, actor, "update", "storage_point", point.id, before=old, after=new_values)
    return point


# ---- minimum levels -------------------------------------------------------------------------------


def list_minimums(session: Session, actor: Principal, point_id: int) -> list[tuple[MinLevel, SupplyItem]]:
    point = load_point(session, actor, point_id)
    stmt = (
        select(MinLevel, SupplyItem)
        .join(SupplyItem, SupplyItem.id == MinLevel.item_id)
        .where(MinLevel.point_id == point.id)
        .order_by(SupplyItem.category, SupplyItem.code)
    )
    return [(m, i) for m, i in session.execute(stmt)]


def present_minimum(m: MinLevel, item: SupplyItem) -> dict[str, Any]:
    return {
        "point_id": m.point_id,
        "item_id": item.id,
        "item": item.name,
        "unit": item.unit,
        "minimum": m.minimum,
        "below_since": m.below_since.isoformat() if m.below_since else None,
    }


def _managed(session: Session, actor: Principal, point_id: int) -> StoragePoint:
    actor.require(Perm.supplies_manage)
    point = load_point(session, actor, point_id)
    if not in_scope(actor, point.path):
        raise Forbidden(_("不在您的管理范围内"))
    return point


def set_minimum(
    session: Session, actor: Principal, point_id: int, item_id: int, minimum: int
) -> tuple[MinLevel, SupplyItem]:
    """Set the least the point should hold of the item. A changed minimum re-arms its notice: the
    next movement below it tells staff again."""
    point = _managed(session, actor, point_id)
    item = get_item(session, actor, item_id)
    row = session.scalar(select(MinLevel).where(MinLevel.point_id == point.id, MinLevel.item_id == item.id))
    before = None if row is None else {"minimum": row.minimum}
    if row is None:
        row = MinLevel(point_id=point.id, item_id=item.id, minimum=minimum)
        session.add(row)
    elif row.minimum != minimum:
        row.minimum = minimum
        row.below_since = None
    session.flush()
    if before != {"minimum": minimum}:
        audit.record(
            session,
            actor,
            "update" if before else "create",
            "supply_min_level",
            row.id,
            before=before,
            after={"point_id": point.id, "item_id": item.id, "minimum": minimum},
        )
    return row, item


def clear_minimum(session: Session, actor: Principal, point_id: int, item_id: int) -> None:
    point = _managed(session, actor, point_id)
    row = session.scalar(select(MinLevel).where(MinLevel.point_id == point.id, MinLevel.item_id == item_id))
    if row is None:
        raise NotFound(_("该储备点没有此物资的最低储备"))
    before = {"point_id": point.id, "item_id": item_id, "minimum": row.minimum}
    session.execute(delete(MinLevel).where(MinLevel.id == row.id))
    audit.record(session, actor, "delete", "supply_min_level", row.id, before=before)


# ---- export -------------------------------------------------------------------------------------------


def export_rows(session: Session, points: list[StoragePoint]) -> tuple[list[str], list[list[Any]]]:
    headers = [
        _("社区"),
        _("名称"),
        _("类型"),
        _("合作单位"),
        _("地址"),
        _("开放时间"),
        _("联系人"),
        _("联系电话"),
        _("户数"),
        _("经度"),
        _("纬度"),
        _("启用"),
    ]
    communities = grid_directory.unit_names(session, [p.unit_id for p in points])
    orgs = org_names(session, points)
    rows = [
        [
            communities.get(p.unit_id, ""),
            p.name,
            str(POINT_KIND_LABELS.get(p.kind, p.kind)),
            orgs.get(p.org_id, "") if p.org_id else "",
            p.address,
            p.access_hours,
            p.contact_name,
            p.contact_phone,
            p.households,
            p.lon,
            p.lat,
            _("是") if p.active else _("否"),
        ]
        for p in points
    ]
    return headers, rows
