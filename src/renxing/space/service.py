"""The space layers: validation, scope, CRUD, GeoJSON views and all-or-nothing imports.

Every layer row belongs to a community. Reading needs ``Perm.space_read`` and a scope that reaches
the community (its subtree or above); residents read only the public safety layers (shelters and
hazard zones) of their own community. Writing needs ``Perm.space_write`` and a scope that covers
the whole community. Geometry arrives in any of the three datums and is stored in WGS-84.
"""

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pydantic import ValidationError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.errors import Collector, FieldError, Forbidden, Invalid, NotFound
from renxing.geo import metric
from renxing.geo.coords import CRS, UnknownCRS, convert, convert_geometry, parse_crs
from renxing.grid.models import GridUnit, Level
from renxing.listing import Page, paginate
from renxing.space import schemas
from renxing.space.models import (
    HazardKind,
    HazardZone,
    MapFeature,
    Passage,
    ReservedLand,
    RiskPoint,
    Road,
    Shelter,
    ShelterClass,
)

POLYGONS = ("Polygon", "MultiPolygon")
LINES = ("LineString", "MultiLineString")


@dataclass(frozen=True)
class LayerSpec:
    key: str  # hazard_zones; the URL uses hyphens (hazard-zones)
    model: type
    schema: type[schemas._In]
    geom_types: tuple[str, ...]
    public: bool  # residents may read it (public safety information)
    label: tuple[str, str]

    @property
    def slug(self) -> str:
        return self.key.replace("_", "-")

    @property
    def entity(self) -> str:
        return f"space.{self.key}"


LAYERS: dict[str, LayerSpec] = {
    s.key: s
    for s in [
        LayerSpec("hazard_zones", HazardZone, schemas.HazardZoneIn, POLYGONS, True, ("风险区", "Hazard zones")),
        LayerSpec("risk_points", RiskPoint, schemas.RiskPointIn, ("Point",), False, ("危险源", "Risk points")),
        LayerSpec("passages", Passage, schemas.PassageIn, LINES, False, ("应急通道", "Emergency passages")),
        LayerSpec(
            "reserved_land", ReservedLand, schemas.ReservedLandIn, POLYGONS, False, ("应急预留地", "Reserved land")
        ),
        LayerSpec("shelters", Shelter, schemas.ShelterIn, (*POLYGONS, "Point"), True, ("避难场所", "Shelters")),
        LayerSpec("roads", Road, schemas.RoadIn, LINES, False, ("道路", "Roads")),
        LayerSpec(
            "features",
            MapFeature,
            schemas.MapFeatureIn,
            ("Point", "MultiPoint", *LINES, *POLYGONS),
            False,
            ("底图要素", "Base features"),
        ),
    ]
}


def layer_spec(name: str) -> LayerSpec:
    key = (name or "").strip().lower().replace("-", "_")
    if key.endswith(".geojson"):
        key = key[: -len(".geojson")]
    spec = LAYERS.get(key)
    if spec is None:
        raise Invalid(
            "未知图层 / unknown layer",
            [FieldError("layer", f"one of {', '.join(s.slug for s in LAYERS.values())}", value=name)],
        )
    return spec


def crs_param(name: str | None, field: str = "crs") -> CRS:
    try:
        return parse_crs(name or "wgs84")
    except UnknownCRS as exc:
        raise Invalid(str(exc), [FieldError(field, str(exc), value=str(name))]) from exc


# ---- scope ------------------------------------------------------------------------------------


def _readable(actor: Principal, spec: LayerSpec, community: GridUnit) -> bool:
    if actor.role is Role.resident and not actor.is_system and not spec.public:
        return False
    return actor.sees_unit(community.path)


def _require_read(actor: Principal, spec: LayerSpec) -> None:
    actor.require(Perm.space_read)
    if actor.role is Role.resident and not actor.is_system and not spec.public:
        raise Forbidden(f"居民只能查看避难场所和风险区 / residents may not read {spec.slug}")


def communities(session: Session, actor: Principal) -> list[GridUnit]:
    """The communities whose layers the actor may read."""
    actor.require(Perm.space_read)
    rows = session.scalars(select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.code))
    return [c for c in rows if actor.sees_unit(c.path)]


def _community_for_read(session: Session, actor: Principal, spec: LayerSpec, community_id: int) -> GridUnit:
    unit = session.get(GridUnit, community_id)
    if unit is None or unit.level != Level.community.value:
        raise Invalid(
            "社区不存在 / no such community", [FieldError("community", "not a community", value=community_id)]
        )
    if not _readable(actor, spec, unit):
        raise Forbidden(f"不在您的网格范围内 / community {community_id} is outside your scope")
    return unit


def _visible_ids(session: Session, actor: Principal, spec: LayerSpec) -> list[int] | None:
    """Community ids readable by the actor; None means all of them."""
    if actor.is_global:
        return None
    return [c.id for c in communities(session, actor) if _readable(actor, spec, c)]


def _load(session: Session, actor: Principal, spec: LayerSpec, row_id: int) -> Any:
    _require_read(actor, spec)
    row = session.get(spec.model, row_id)
    community = session.get(GridUnit, row.unit_id) if row is not None else None
    if row is None or community is None or not _readable(actor, spec, community):
        raise NotFound(f"{spec.label[0]}不存在 / {spec.slug} {row_id} not found")
    return row


def _check_writable(
    session: Session,
    actor: Principal,
    unit_id: Any,
    errors: Collector,
    row: int | None,
    cache: dict[int, GridUnit | None] | None = None,
) -> None:
    if not isinstance(unit_id, int):
        unit = None
    elif cache is not None and unit_id in cache:
        unit = cache[unit_id]  # the identity map holds rows weakly: keep them for a whole import
    else:
        unit = session.get(GridUnit, unit_id)
        if cache is not None:
            cache[unit_id] = unit
    if unit is None or unit.level != Level.community.value:
        errors.add("unit_id", "社区不存在 / not a community", row, unit_id)
    elif not actor.covers_path(unit.path):
        raise Forbidden(f"不在您的网格范围内 / community {unit_id} is outside your scope")


# ---- validation -------------------------------------------------------------------------------


def check_geometry(
    raw: Any, allowed: tuple[str, ...], crs: CRS, errors: Collector, row: int | None = None, label: str | None = None
) -> tuple[dict, BaseGeometry] | None:
    """A GeoJSON geometry in ``crs`` → (WGS-84 GeoJSON dict, Shapely geometry), or None with errors added."""
    where = f"「{label}」" if label else ""
    if not isinstance(raw, dict) or "type" not in raw:
        errors.add("geometry", f"{where}缺少几何 / missing or not a GeoJSON geometry", row, label)
        return None
    if raw["type"] not in allowed:
        errors.add("geometry", f"{where}几何类型应为 / geometry must be {' or '.join(allowed)}", row, raw["type"])
        return None
    try:
        geom = shape(raw)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        errors.add("geometry", f"{where}无效的 GeoJSON 几何 / malformed GeoJSON geometry: {exc}", row, label)
        return None
    if geom.is_empty:
        errors.add("geometry", f"{where}几何为空 / empty geometry", row, label)
        return None
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all() or (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        errors.add("geometry", f"{where}坐标超出范围 / coordinates out of range (lon ±180, lat ±90)", row, label)
        return None
    if crs is not CRS.wgs84:
        raw = convert_geometry(raw, crs, CRS.wgs84)
        geom = shape(raw)
    if not geom.is_valid:
        reason = explain_validity(geom)
        errors.add("geometry", f"{where}几何无效（如自相交）/ invalid geometry: {reason}", row, label)
        return None
    if geom.geom_type in POLYGONS and metric.area_m2(geom) <= 0:
        errors.add("geometry", f"{where}面积为零 / polygon has no area", row, label)
        return None
    return raw, geom


def per_person_m2(shelter_class: str, override: float | None) -> float:
    if override:
        return override
    settings = get_settings()
    return {
        ShelterClass.I.value: settings.shelter_m2_per_person_I,
        ShelterClass.II.value: settings.shelter_m2_per_person_II,
    }.get(shelter_class, settings.shelter_m2_per_person_III)


def shelter_capacity(effective_area_m2: float, shelter_class: str, override: float | None) -> int:
    return math.floor(effective_area_m2 / per_person_m2(shelter_class, override) + 1e-9)


def _pydantic_errors(exc: ValidationError, errors: Collector, row: int | None, label: str | None) -> None:
    where = f"「{label}」" if label else ""
    for e in exc.errors():
        field = ".".join(str(p) for p in e.get("loc", ())) or "properties"
        value = e.get("input")
        shown = value if isinstance(value, str | int | float) else None
        errors.add(field, f"{where}{e.get('msg', 'invalid')}", row, shown)


def prepare(
    session: Session,
    actor: Principal,
    spec: LayerSpec,
    data: dict[str, Any],
    errors: Collector,
    *,
    crs: CRS = CRS.wgs84,
    row: int | None = None,
    label: str | None = None,
    cache: dict[int, GridUnit | None] | None = None,
) -> dict[str, Any] | None:
    """Validate one feature's values for ``spec``; the column values to store, or None (errors added)."""
    if not isinstance(data, dict):
        errors.add("properties", "应为对象 / must be an object", row, label)
        return None
    label = label or (data.get("name") if isinstance(data.get("name"), str) else None)
    start = len(errors.errors)
    try:
        model = spec.schema.model_validate(data)
    except ValidationError as exc:
        _pydantic_errors(exc, errors, row, label)
        return None
    values = model.model_dump()
    _check_writable(session, actor, values["unit_id"], errors, row, cache)
    raw = values.pop("geometry")
    geom: BaseGeometry | None = None
    if raw is not None or spec.model is not RiskPoint:
        checked = check_geometry(raw, spec.geom_types, crs, errors, row, label)
        if checked is None:
            return None
        raw, geom = checked
    _derive(session, spec, values, raw, geom, crs, errors, row, label)
    if len(errors.errors) > start:
        return None
    values["geometry"] = json.dumps(raw, separators=(",", ":")) if raw is not None else None
    return values


def _derive(
    session: Session,
    spec: LayerSpec,
    values: dict[str, Any],
    raw: dict | None,
    geom: BaseGeometry | None,
    crs: CRS,
    errors: Collector,
    row: int | None,
    label: str | None,
) -> None:
    """Layer-specific checks and computed columns; fills ``values`` (and ``raw`` for points) in place."""
    where = f"「{label}」" if label else ""
    if spec.model in (RiskPoint, Shelter) and values.get("lon") is not None and values.get("lat") is not None:
        values["lon"], values["lat"] = convert(values["lon"], values["lat"], crs, CRS.wgs84)
    if spec.model is RiskPoint:
        if geom is None:
            if values.get("lon") is None or values.get("lat") is None:
                errors.add("geometry", f"{where}需要坐标 / give a Point geometry or lon and lat", row, label)
                return
            values["geometry_point"] = {"type": "Point", "coordinates": [values["lon"], values["lat"]]}
        else:
            values["lon"], values["lat"] = geom.x, geom.y
    elif spec.model is Shelter:
        if values.get("lon") is None or values.get("lat") is None:
            p = geom.representative_point() if geom is not None else None
            if p is not None:
                values["lon"], values["lat"] = round(p.x, 7), round(p.y, 7)
        values["capacity"] = shelter_capacity(
            values["effective_area_m2"], values["shelter_class"], values.get("per_person_m2")
        )
        values["facilities"] = sorted(set(values.get("facilities") or []))
    elif spec.model is ReservedLand and geom is not None:
        values["area_m2"] = round(metric.area_m2(geom), 1)
    elif spec.model is HazardZone:
        if values.get("depth_class") and values["kind"] != HazardKind.flood.value:
            errors.add("depth_class", f"{where}只有洪涝区有积水深度 / only flood zones have a depth class", row)
        src = values.get("source_point_id")
        if src is not None:
            point = session.get(RiskPoint, src)
            if point is None or point.unit_id != values["unit_id"]:
                errors.add("source_point_id", f"{where}危险源不存在 / no such risk point here", row, src)


def _apply(values: dict[str, Any], obj: Any) -> None:
    point = values.pop("geometry_point", None)
    if point is not None:
        values["geometry"] = json.dumps(point, separators=(",", ":"))
    for key, value in values.items():
        setattr(obj, key, value)


# ---- presenting -------------------------------------------------------------------------------


def _columns(spec: LayerSpec) -> list[str]:
    return [c.key for c in spec.model.__table__.columns if c.key != "geometry"]


def present(spec: LayerSpec, obj: Any, crs: CRS = CRS.wgs84) -> dict[str, Any]:
    """One row as JSON, with its geometry (and lon/lat) in ``crs``."""
    out: dict[str, Any] = {"layer": spec.slug}
    for key in _columns(spec):
        value = getattr(obj, key)
        out[key] = value.isoformat() if hasattr(value, "isoformat") else value
    geom = json.loads(obj.geometry) if obj.geometry else None
    if crs is not CRS.wgs84:
        if geom is not None:
            geom = convert_geometry(geom, CRS.wgs84, crs)
        if out.get("lon") is not None and out.get("lat") is not None:
            out["lon"], out["lat"] = convert(out["lon"], out["lat"], CRS.wgs84, crs)
    out["geometry"] = geom
    return out


def as_feature(spec: LayerSpec, obj: Any, crs: CRS = CRS.wgs84) -> dict[str, Any]:
    props = present(spec, obj, crs)
    geom = props.pop("geometry")
    return {"type": "Feature", "id": obj.id, "geometry": geom, "properties": props}


# ---- reading ----------------------------------------------------------------------------------

SORTS = {"name": "name", "id": "id", "-id": "-id", "updated": "-updated_at", "kind": "kind"}


def _query(
    session: Session, actor: Principal, spec: LayerSpec, community: int | None, kind: str | None, q: str | None
) -> Select:
    _require_read(actor, spec)
    m = spec.model
    stmt = select(m)
    if community is not None:
        _community_for_read(session, actor, spec, community)
        stmt = stmt.where(m.unit_id == community)
    else:
        ids = _visible_ids(session, actor, spec)
        if ids is not None:
            stmt = stmt.where(m.unit_id.in_(ids or [-1]))
    if kind:
        if not hasattr(m, "kind"):
            raise Invalid("该图层没有类型 / this layer has no kind", [FieldError("kind", "not filterable", value=kind)])
        stmt = stmt.where(m.kind == kind)
    if q:
        stmt = stmt.where(m.name.contains(q.strip(), autoescape=True))
    return stmt


def list_features(
    session: Session,
    actor: Principal,
    layer: str,
    *,
    community: int | None = None,
    kind: str | None = None,
    status: str | None = None,
    q: str | None = None,
    sort: str = "id",
    page: int = 1,
    size: int | None = None,
) -> tuple[LayerSpec, Page[Any]]:
    spec = layer_spec(layer)
    if sort not in SORTS or (sort == "kind" and not hasattr(spec.model, "kind")):
        raise Invalid("排序字段无效 / bad sort", [FieldError("sort", f"one of {', '.join(SORTS)}", value=sort)])
    stmt = _query(session, actor, spec, community, kind, q)
    if status:
        if spec.model is not Shelter:
            raise Invalid("只有避难场所有状态 / only shelters have a status", [FieldError("status", "not filterable")])
        stmt = stmt.where(Shelter.status == status)
    col = SORTS[sort]
    order = getattr(spec.model, col.lstrip("-"))
    stmt = stmt.order_by(order.desc() if col.startswith("-") else order, spec.model.id)
    return spec, paginate(session, stmt, page, size)


def get_feature(session: Session, actor: Principal, layer: str, row_id: int) -> tuple[LayerSpec, Any]:
    spec = layer_spec(layer)
    return spec, _load(session, actor, spec, row_id)


def layer_collection(
    session: Session, actor: Principal, layer: str, *, community: int | None = None, crs: str | None = None
) -> dict[str, Any]:
    """The layer as a GeoJSON FeatureCollection in the requested datum (for the map page)."""
    spec = layer_spec(layer)
    target = crs_param(crs)
    rows = session.scalars(_query(session, actor, spec, community, None, None).order_by(spec.model.id))
    out: dict[str, Any] = {
        "type": "FeatureCollection",
        "name": spec.key,
        "crs_name": target.value,
        "features": [as_feature(spec, r, target) for r in rows],
    }
    return out


def rows_of(session: Session, actor: Principal, layer: str, community: int) -> list[Any]:
    """Every row of a layer in one community (readable by the actor), for analyses."""
    spec = layer_spec(layer)
    return list(session.scalars(_query(session, actor, spec, community, None, None).order_by(spec.model.id)))


# ---- writing ----------------------------------------------------------------------------------


def create_feature(
    session: Session, actor: Principal, layer: str, data: dict[str, Any], *, crs: str | None = None
) -> tuple[LayerSpec, Any]:
    spec = layer_spec(layer)
    actor.require(Perm.space_write)
    source = crs_param(crs)
    errors = Collector()
    values = prepare(session, actor, spec, data, errors, crs=source)
    errors.raise_if_any()
    assert values is not None
    obj = spec.model()
    _apply(values, obj)
    session.add(obj)
    session.flush()
    audit.record(session, actor, "create", spec.entity, obj.id, summary=obj.name, after=audit.snapshot(obj))
    return spec, obj


def update_feature(
    session: Session, actor: Principal, layer: str, row_id: int, patch: dict[str, Any], *, crs: str | None = None
) -> tuple[LayerSpec, Any]:
    """Change some fields; the merged record is validated as a whole, as on create."""
    spec = layer_spec(layer)
    actor.require(Perm.space_write)
    source = crs_param(crs)
    obj = _load(session, actor, spec, row_id)
    community = session.get(GridUnit, obj.unit_id)
    if community is None or not actor.covers_path(community.path):
        raise Forbidden(f"不在您的网格范围内 / {spec.slug} {row_id} is outside your scope")
    if not isinstance(patch, dict):
        raise Invalid("应为对象 / body must be an object", [FieldError("body", "must be an object")])
    current = {k: getattr(obj, k) for k in spec.schema.model_fields if k != "geometry"}
    current["geometry"] = json.loads(obj.geometry) if obj.geometry else None
    if source is not CRS.wgs84:
        # The unchanged parts are stored in WGS-84: give them in the patch's datum so one conversion fits all.
        if current["geometry"] is not None:
            current["geometry"] = convert_geometry(current["geometry"], CRS.wgs84, source)
        if current.get("lon") is not None and current.get("lat") is not None:
            current["lon"], current["lat"] = convert(current["lon"], current["lat"], CRS.wgs84, source)
    if spec.model is Shelter and "geometry" in patch and not {"lon", "lat"} & patch.keys():
        current["lon"] = current["lat"] = None  # a new outline brings a new representative point
    if spec.model is RiskPoint and {"lon", "lat"} & patch.keys() and "geometry" not in patch:
        current["geometry"] = None
    merged = {**current, **patch}
    before = audit.snapshot(obj)
    errors = Collector()
    values = prepare(session, actor, spec, merged, errors, crs=source)
    errors.raise_if_any()
    assert values is not None
    _apply(values, obj)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(obj))
    old.pop("updated_at", None)
    new.pop("updated_at", None)
    if new:
        audit.record(session, actor, "update", spec.entity, obj.id, summary=obj.name, before=old, after=new)
    return spec, obj


def delete_feature(session: Session, actor: Principal, layer: str, row_id: int) -> None:
    spec = layer_spec(layer)
    actor.require(Perm.space_write)
    obj = _load(session, actor, spec, row_id)
    community = session.get(GridUnit, obj.unit_id)
    if community is None or not actor.covers_path(community.path):
        raise Forbidden(f"不在您的网格范围内 / {spec.slug} {row_id} is outside your scope")
    if spec.model is RiskPoint:
        for zone in session.scalars(select(HazardZone).where(HazardZone.source_point_id == obj.id)):
            zone.source_point_id = None
    before = audit.snapshot(obj)
    session.delete(obj)
    session.flush()
    audit.record(session, actor, "delete", spec.entity, row_id, summary=before.get("name"), before=before)


def import_features(
    session: Session,
    actor: Principal,
    layer: str,
    community: int,
    features: list[dict[str, Any]],
    *,
    crs: str | CRS | None = None,
    replace: bool = False,
) -> list[Any]:
    """Store many features of one layer at once: every one valid, or none stored.

    Each feature is ``{"properties": {...}, "geometry": {...}}``; ``unit_id`` defaults to ``community``.
    Errors carry ``row`` = the feature's index in the list and the feature's name as value.
    """
    spec = layer_spec(layer)
    actor.require(Perm.space_write)
    source = crs if isinstance(crs, CRS) else crs_param(crs)
    errors = Collector()
    _check_writable(session, actor, community, errors, None)
    if errors.errors:
        errors.errors[0].field = "community"
        errors.raise_if_any()
    ignored = _IGNORED_PROPS - {"layer"} if spec.model is MapFeature else _IGNORED_PROPS
    units: dict[int, GridUnit | None] = {}
    prepared: list[dict[str, Any]] = []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict):
            errors.add("feature", "应为 GeoJSON Feature / not a GeoJSON Feature", i)
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            errors.add("properties", "应为对象 / must be an object", i)
            continue
        data = {k: v for k, v in props.items() if k not in ignored}
        data.setdefault("unit_id", community)
        data["geometry"] = feature.get("geometry")
        name = props.get("name") if isinstance(props.get("name"), str) else None
        values = prepare(session, actor, spec, data, errors, crs=source, row=i, label=name or f"#{i}", cache=units)
        if values is not None:
            prepared.append(values)
    errors.raise_if_any(f"导入无效，未写入任何数据 / invalid import, nothing written ({len(errors.errors)} errors)")
    if replace:
        for old in session.scalars(select(spec.model).where(spec.model.unit_id == community)):
            session.delete(old)
        session.flush()
    rows = []
    for values in prepared:
        obj = spec.model()
        _apply(values, obj)
        rows.append(obj)
    session.add_all(rows)
    session.flush()
    audit.record(
        session,
        actor,
        "import",
        spec.entity,
        None,
        summary=f"{len(rows)} {spec.slug} → community {community}" + (" (replaced)" if replace else ""),
        after={"count": len(rows), "community": community, "crs": source.value},
    )
    return rows


# Members a FeatureCollection we exported carries that are not input fields.
_IGNORED_PROPS = frozenset({"id", "layer", "capacity", "area_m2", "created_at", "updated_at"})


def delete_osm_rows(session: Session, community: int) -> int:
    """Remove the rows an OSM import made for a community (roads and base features with an osm_id)."""
    n = 0
    for model in (Road, MapFeature):
        stmt = select(model).where(model.unit_id == community, model.osm_id.is_not(None))
        for row in session.scalars(stmt):
            session.delete(row)
            n += 1
    session.flush()
    return n
