"""The space layers: scope, lists, GeoJSON views, and writes (one feature, or an all-or-nothing import).

Every layer row belongs to a community. Reading needs ``Perm.space_read`` and a scope that reaches
the community (its subtree or above); the layers that are not public safety information (all but
shelters and hazard zones) need ``Perm.space_analysis`` too, which residents lack: they read the
shelters and hazard zones of their own community. Writing needs ``Perm.space_write`` and a scope
that covers the whole community. Geometry arrives in any of the three datums and is stored in
WGS-84; validating and presenting one feature is ``features``.
"""

import json
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Collector, FieldError, Forbidden, Invalid, NotFound
from renxing.geo.coords import CRS, convert, convert_geometry
from renxing.grid.models import GridUnit
from renxing.grid.scope import communities_in_scope, community_in_scope, in_scope, sees
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.space.features import apply_values, as_feature, check_community, prepare
from renxing.space.layer_kinds import LAYERS, LayerSpec, crs_param, layer_spec
from renxing.space.models import HazardZone, MapFeature, RiskPoint, Road, Shelter

# ---- scope ------------------------------------------------------------------------------------


def _readable(actor: Principal, spec: LayerSpec, community: GridUnit) -> bool:
    if not spec.public and not actor.can(Perm.space_analysis):
        return False
    return sees(actor, community)


def _require_read(actor: Principal, spec: LayerSpec) -> None:
    actor.require(Perm.space_read)
    if not spec.public and not actor.can(Perm.space_analysis):
        raise Forbidden(_("居民只能查看避难场所和风险区").format(slug=spec.slug))


def communities(session: Session, actor: Principal) -> list[GridUnit]:
    """The communities whose layers the actor may read."""
    actor.require(Perm.space_read)
    return communities_in_scope(session, actor)


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
        raise NotFound(_("{layer} {row_id} 不存在").format(layer=spec.label, slug=spec.slug, row_id=row_id))
    return row


def _load_for_write(session: Session, actor: Principal, spec: LayerSpec, row_id: int) -> Any:
    """A row the actor may change: readable (else 404) and in a community they cover (else 403)."""
    actor.require(Perm.space_write)
    obj = _load(session, actor, spec, row_id)
    community = session.get(GridUnit, obj.unit_id)
    if community is None or not in_scope(actor, community):
        raise Forbidden(
            _("{layer} {row_id} 不在您的网格范围内").format(layer=spec.label, slug=spec.slug, row_id=row_id)
        )
    return obj


# ---- reading ----------------------------------------------------------------------------------


def _list_spec(spec: LayerSpec) -> ListSpec:
    """Sorts and filters of one layer's list: kind where the layer has one, status for shelters.
    ``updated`` lists the latest change first (``-updated``: the oldest first)."""
    m = spec.model
    sorts: dict[str, Any] = {"id": m.id, "name": m.name, "updated": m.updated_at.desc(), "-updated": m.updated_at}
    filters: dict[str, Filter] = {}
    if hasattr(m, "kind"):
        sorts["kind"] = m.kind
        filters["kind"] = Filter(m.kind)
    if m is Shelter:
        filters["status"] = Filter(Shelter.status)
    return ListSpec(sorts=sorts, default_sort="id", tiebreaker=m.id, search=(m.name,), filters=filters)


LIST_SPECS: dict[str, ListSpec] = {key: _list_spec(spec) for key, spec in LAYERS.items()}


def _query(session: Session, actor: Principal, spec: LayerSpec, community: int | None) -> Select:
    """The layer's rows the actor may read, of one community or of every one they reach."""
    _require_read(actor, spec)
    m = spec.model
    stmt = select(m)
    if community is not None:
        community_in_scope(session, actor, community, field="community")
        return stmt.where(m.unit_id == community)
    ids = _visible_ids(session, actor, spec)
    return stmt if ids is None else stmt.where(m.unit_id.in_(ids or [-1]))


def list_features(
    session: Session, actor: Principal, layer: str, query: ListQuery, *, community: int | None = None
) -> tuple[LayerSpec, Page[Any]]:
    """One page of a layer; ``query.filters`` may hold ``kind`` and (shelters) ``status``."""
    spec = layer_spec(layer)
    return spec, list_page(session, _query(session, actor, spec, community), LIST_SPECS[spec.key], query)


def get_feature(session: Session, actor: Principal, layer: str, row_id: int) -> tuple[LayerSpec, Any]:
    spec = layer_spec(layer)
    return spec, _load(session, actor, spec, row_id)


def layer_collection(
    session: Session, actor: Principal, layer: str, *, community: int | None = None, crs: str | None = None
) -> dict[str, Any]:
    """The layer as a GeoJSON FeatureCollection in the requested datum (for the map page)."""
    spec = layer_spec(layer)
    target = crs_param(crs)
    rows = session.scalars(_query(session, actor, spec, community).order_by(spec.model.id))
    return {
        "type": "FeatureCollection",
        "name": spec.key,
        "crs_name": target.value,
        "features": [as_feature(spec, r, target) for r in rows],
    }


def rows_of(session: Session, actor: Principal, layer: str, community: int) -> list[Any]:
    """Every row of a layer in one community (readable by the actor), for analyses."""
    spec = layer_spec(layer)
    return list(session.scalars(_query(session, actor, spec, community).order_by(spec.model.id)))


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
    apply_values(values, obj)
    session.add(obj)
    session.flush()
    audit.record(session, actor, "create", spec.entity, obj.id, summary=obj.name, after=audit.snapshot(obj))
    return spec, obj


def _current_values(spec: LayerSpec, obj: Any, source: CRS, patch: dict[str, Any]) -> dict[str, Any]:
    """The stored record as input values in the patch's datum, ready to have the patch merged in."""
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
    return current


def update_feature(
    session: Session, actor: Principal, layer: str, row_id: int, patch: dict[str, Any], *, crs: str | None = None
) -> tuple[LayerSpec, Any]:
    """Change some fields; the merged record is validated as a whole, as on create."""
    spec = layer_spec(layer)
    actor.require(Perm.space_write)
    source = crs_param(crs)
    obj = _load_for_write(session, actor, spec, row_id)
    if not isinstance(patch, dict):
        raise Invalid(_("应为对象"), [FieldError("body", "must be an object")])
    merged = {**_current_values(spec, obj, source, patch), **patch}
    before = audit.snapshot(obj)
    errors = Collector()
    values = prepare(session, actor, spec, merged, errors, crs=source)
    errors.raise_if_any()
    assert values is not None
    apply_values(values, obj)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(obj))
    old.pop("updated_at", None)
    new.pop("updated_at", None)
    if new:
        audit.record(session, actor, "update", spec.entity, obj.id, summary=obj.name, before=old, after=new)
    return spec, obj


def delete_feature(session: Session, actor: Principal, layer: str, row_id: int) -> None:
    spec = layer_spec(layer)
    obj = _load_for_write(session, actor, spec, row_id)
    if spec.model is RiskPoint:
        for zone in session.scalars(select(HazardZone).where(HazardZone.source_point_id == obj.id)):
            zone.source_point_id = None
    before = audit.snapshot(obj)
    session.delete(obj)
    session.flush()
    audit.record(session, actor, "delete", spec.entity, row_id, summary=before.get("name"), before=before)


# Members a FeatureCollection we exported carries that are not input fields.
_IGNORED_PROPS = frozenset({"id", "layer", "capacity", "area_m2", "created_at", "updated_at"})


def _prepare_all(
    session: Session,
    actor: Principal,
    spec: LayerSpec,
    community: int,
    features: list[dict[str, Any]],
    source: CRS,
    errors: Collector,
) -> list[dict[str, Any]]:
    """Every feature validated; errors name the feature's index (``row``) and name."""
    ignored = _IGNORED_PROPS - {"layer"} if spec.model is MapFeature else _IGNORED_PROPS
    units: dict[int, GridUnit | None] = {}
    prepared: list[dict[str, Any]] = []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict):
            errors.add("feature", _("应为 GeoJSON Feature"), i)
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            errors.add("properties", _("应为对象"), i)
            continue
        data = {k: v for k, v in props.items() if k not in ignored}
        data.setdefault("unit_id", community)
        data["geometry"] = feature.get("geometry")
        name = props.get("name") if isinstance(props.get("name"), str) else None
        values = prepare(session, actor, spec, data, errors, crs=source, row=i, label=name or f"#{i}", cache=units)
        if values is not None:
            prepared.append(values)
    return prepared


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
    check_community(session, actor, community, errors, None)
    if errors.errors:
        errors.errors[0].field = "community"
        errors.raise_if_any()
    prepared = _prepare_all(session, actor, spec, community, features, source, errors)
    errors.raise_if_any(_("导入无效，未写入任何数据（{len} 处错误）").format(len=len(errors.errors)))
    if replace:
        for old in session.scalars(select(spec.model).where(spec.model.unit_id == community)):
            session.delete(old)
        session.flush()
    rows = []
    for values in prepared:
        obj = spec.model()
        apply_values(values, obj)
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
