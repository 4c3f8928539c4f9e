"""What the space pages show: the map page's context, the evacuation page's scenario, plan,
what-if and siting for its query, and the plan as spreadsheet rows. Built here from the services'
answers; ``pages.py`` renders them."""

import json
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Collector, FieldError, Forbidden, Invalid, NotFound
from renxing.exporting import to_xlsx
from renxing.geo.coords import CRS, convert_geometry
from renxing.geo.shapes import stored_shape
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import in_scope, subtree_clause
from renxing.i18n import _, _l
from renxing.space import layers
from renxing.space.layer_kinds import crs_param
from renxing.space.models import EvacScenario, ShelterStatus
from renxing.space.planning.access import community_of, planning_communities
from renxing.space.planning.coverage import with_coverage
from renxing.space.planning.inputs import CLASSES
from renxing.space.planning.plan import plan_for_community
from renxing.space.planning.scenarios import list_scenarios, load_scenario
from renxing.space.planning.siting import siting
from renxing.space.planning.spec import Spec, parse_id, parse_ids, spec_from, spec_of, validate
from renxing.space.planning.whatif import what_if

CLASS_LABELS = {
    "normal": _l("成人"),
    "slow": _l("老年/行动慢"),
    "aided": _l("借助助行器"),
    "wheelchair": _l("轮椅"),
    "bedridden": _l("卧床（需担架）"),
}

# ---- the map page ------------------------------------------------------------------------------


def _map_community(session: Session, comms: list[GridUnit], community_id: int | None) -> GridUnit | None:
    """The community asked for among those the actor reads (the first one by default)."""
    if community_id is None:
        return comms[0] if comms else None
    community = next((c for c in comms if c.id == community_id), None)
    if community is None:
        unit = session.get(GridUnit, community_id)
        if unit is None or unit.level != Level.community.value:
            raise NotFound(_("社区不存在").format(community_id=community_id))
        raise Forbidden(_("社区 {community_id} 不在您的网格范围内").format(community_id=community_id))
    return community


def map_context(session: Session, actor: Principal, community_id: int | None, crs: str = "wgs84") -> dict[str, Any]:
    """The risk map page: the community, the others to switch to, the register's buildings, rights."""
    comms = layers.communities(session, actor)
    community = _map_community(session, comms, community_id)
    out: dict[str, Any] = {
        "community": community,
        "communities": comms,
        "can_write": False,
        "can_plan": actor.can(Perm.evacuation_plan),
        "public_only": not actor.can(Perm.space_analysis),
        "grid_buildings": {"type": "FeatureCollection", "features": []},
        "bounds": None,
    }
    if community is None:
        return out
    out["can_write"] = actor.can(Perm.space_write) and in_scope(actor, community)
    out["grid_buildings"]["features"], out["bounds"] = _grid_buildings(session, community, crs_param(crs))
    return out


def _grid_buildings(
    session: Session, community: GridUnit, target: CRS
) -> tuple[list[dict[str, Any]], list[float] | None]:
    """The register's buildings as GeoJSON features in ``target``, and the bounds of them and the community."""
    units = session.scalars(
        select(GridUnit)
        .where(GridUnit.level == Level.building.value, subtree_clause(GridUnit.path, community.path))
        .order_by(GridUnit.code)
    )
    feats = []
    geoms = []
    for u in units:
        g = stored_shape(u.geometry)
        if g is None and u.lon is not None and u.lat is not None:
            g = shapely.Point(u.lon, u.lat)
        if g is None:
            continue
        geoms.append(g)
        gj = shapely.geometry.mapping(g)
        gj = json.loads(json.dumps(gj))  # tuples → lists
        if target is not CRS.wgs84:
            gj = convert_geometry(gj, CRS.wgs84, target)
        feats.append({"type": "Feature", "geometry": gj, "properties": {"id": u.id, "name": u.name, "grid_unit": True}})
    outline = stored_shape(community.geometry)
    if outline is not None:
        geoms.append(outline)
    if not geoms:
        return feats, None
    x0, y0, x1, y1 = shapely.union_all(geoms).bounds
    if target is not CRS.wgs84:
        x0, y0 = convert_geometry({"type": "Point", "coordinates": [x0, y0]}, CRS.wgs84, target)["coordinates"]
        x1, y1 = convert_geometry({"type": "Point", "coordinates": [x1, y1]}, CRS.wgs84, target)["coordinates"]
    return feats, [x0, y0, x1, y1]


# ---- the evacuation page -----------------------------------------------------------------------


def _param_ids(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [p for p in str(v).replace("，", ",").split(",") if p.strip()]
    return out


def _picked_scenario(
    session: Session, actor: Principal, params: dict[str, Any], errors: Collector
) -> EvacScenario | None:
    if not params.get("scenario"):
        return None
    sid = parse_id(params["scenario"])
    if sid is None:
        errors.add("scenario", _("应为整数"), value=params["scenario"])
        return None
    return load_scenario(session, actor, sid)


def _picked_community(
    params: dict[str, Any], scenario: EvacScenario | None, comms: list[GridUnit], errors: Collector
) -> int | None:
    """The scenario's community, else the one asked for, else the first the actor plans for."""
    community_id = scenario.unit_id if scenario is not None else None
    if community_id is None and params.get("community"):
        community_id = parse_id(params["community"])
        if community_id is None:
            errors.add("community", _("应为整数"), value=params["community"])
    if community_id is None and comms:
        community_id = comms[0].id
    return community_id


def _choices(session: Session, actor: Principal, community: GridUnit, ctx: dict[str, Any]) -> None:
    """What the scenario form offers: saved scenarios, zones, roads by name, shelters and candidates."""
    ctx["scenarios"] = list_scenarios(session, actor, community.id)
    ctx["zones"] = layers.rows_of(session, actor, "hazard_zones", community.id)
    # Roads are stored as segments between junctions: offer them by name, each name cutting all of its.
    groups: dict[str, list[int]] = {}
    for r in layers.rows_of(session, actor, "roads", community.id):
        groups.setdefault(r.name or f"#{r.id}", []).append(r.id)
    ctx["roads"] = [{"name": name, "ids": ids, "value": ",".join(map(str, ids))} for name, ids in groups.items()]
    shelters = layers.rows_of(session, actor, "shelters", community.id)
    ctx["shelters"] = [s for s in shelters if s.status != ShelterStatus.candidate.value]
    ctx["candidates"] = [s for s in shelters if s.status == ShelterStatus.candidate.value]


def _page_spec(
    params: dict[str, Any], community: GridUnit, scenario: EvacScenario | None, errors: Collector
) -> Spec | None:
    """The saved scenario as it is, or the choices of the form (named after the scenario being edited)."""
    if scenario is not None and not params.get("edit"):
        return spec_of(scenario)
    spec = spec_from(
        {
            "community_id": community.id,
            "hazard_zone_ids": _param_ids(params.get("zones")),
            "cut_road_ids": _param_ids(params.get("cut")),
            "open_candidate_ids": _param_ids(params.get("open")),
            "closed_shelter_ids": _param_ids(params.get("closed")),
            "evacuate_all": params.get("all") in ("1", "on", "true"),
        },
        errors,
    )
    if spec is not None and scenario is not None:
        spec = Spec(**{**spec.as_dict(), "scenario_id": scenario.id, "name": scenario.name})
    return spec


def _run(
    session: Session,
    actor: Principal,
    community: GridUnit,
    scenario: EvacScenario | None,
    spec: Spec,
    params: dict[str, Any],
    ctx: dict[str, Any],
    errors: Collector,
) -> None:
    """The plan (or the what-if) the page asks for; a planner's refusal is shown beside the form."""
    whatif = _param_ids(params.get("whatif"))
    if not (params.get("run") or scenario is not None or whatif):
        return
    if whatif:
        extra = parse_ids(whatif, "whatif", errors)
        try:
            ctx["whatif"] = what_if(session, actor, spec, list(extra)) if not errors.errors else None
        except Invalid as exc:
            errors.errors += exc.errors
        if ctx["whatif"] is not None:
            ctx["plan"] = ctx["whatif"]["base"]
        return
    # Only the scenario as saved refreshes its stored plan, not a variation tried on the page.
    saved = scenario if scenario is not None and spec == spec_of(scenario) else None
    try:
        result = plan_for_community(session, community, spec, saved)
        ctx["plan"] = with_coverage(session, community, spec, result)
    except Invalid as exc:  # e.g. no road network yet: said on the page, beside the scenario
        errors.errors += exc.errors


def _site(
    session: Session,
    actor: Principal,
    community: GridUnit,
    spec: Spec,
    raw_k: Any,
    ctx: dict[str, Any],
    errors: Collector,
) -> None:
    """The best ``k`` candidates for the page's scenario; bad input is shown beside the form."""
    try:
        k = int(raw_k)
    except ValueError:
        errors.add("k", _("应为整数"), value=raw_k)
        return
    ctx["k"] = k
    try:
        ctx["siting"] = siting(session, actor, community.id, k, spec)
    except Invalid as exc:
        errors.errors += exc.errors


def evacuation_view(session: Session, actor: Principal, params: dict[str, Any]) -> dict[str, Any]:
    """Everything the evacuation page shows for its query: choices, the plan, the what-if, siting."""
    comms = planning_communities(session, actor)
    errors = Collector()
    ctx: dict[str, Any] = {
        "communities": comms,
        "community": None,
        "scenarios": [],
        "scenario": None,
        "zones": [],
        "roads": [],
        "shelters": [],
        "candidates": [],
        "spec": None,
        "plan": None,
        "whatif": None,
        "siting": None,
        "k": None,
        "can_write": False,
        "errors": errors.errors,
    }
    scenario = _picked_scenario(session, actor, params, errors)
    community_id = _picked_community(params, scenario, comms, errors)
    if community_id is None:
        return ctx
    community = community_of(session, actor, community_id)
    ctx["community"] = community
    ctx["can_write"] = actor.can(Perm.space_write) and in_scope(actor, community)
    _choices(session, actor, community, ctx)
    ctx["scenario"] = scenario
    spec = _page_spec(params, community, scenario, errors)
    if spec is None or errors.errors:
        return ctx
    validate(session, spec, errors)
    ctx["spec"] = spec
    if errors.errors:
        return ctx
    _run(session, actor, community, scenario, spec, params, ctx, errors)
    if params.get("k"):
        _site(session, actor, community, spec, params["k"], ctx, errors)
    return ctx


# ---- the plan as a spreadsheet -----------------------------------------------------------------


def plan_headers() -> list[str]:
    return [
        _("楼栋"),
        _("撤离人数"),
        *[str(CLASS_LABELS[c]) for c in CLASSES],
        _("避难场所"),
        _("人数"),
        _("距离（米）"),
        _("用时（分钟）"),
        _("未安置"),
        _("原因"),
    ]


def plan_table(session: Session, actor: Principal, params: dict[str, Any]) -> tuple[list[str], list[list[Any]], str]:
    """The plan of the page's scenario as spreadsheet rows: one per building and shelter it goes to."""
    ctx = evacuation_view(session, actor, {**params, "run": "1", "whatif": None, "k": None})
    if ctx["errors"]:
        raise Invalid(_("情景有误"), ctx["errors"])
    if ctx["plan"] is None:
        raise Invalid(_("没有可导出的方案"), [FieldError("community", "no community")])
    reasons = {
        "no_capacity": _("避难场所容量不足"),
        "unreachable": _("无法到达任何开放场所"),
    }
    rows: list[list[Any]] = []
    for b in ctx["plan"]["buildings"]:
        head = [b["name"], b["persons"]["total"], *[b["persons"][c] for c in CLASSES]]
        reason = reasons.get(b["unplaced_reason"] or "", b["unplaced_reason"] or "") if b["unplaced"] else ""
        if not b["routes"]:
            rows.append([*head, "", 0, None, None, b["unplaced"], reason])
        for k, r in enumerate(b["routes"]):
            rows.append(
                [
                    *(head if k == 0 else [b["name"], None, *[None] * len(CLASSES)]),
                    r["shelter_name"],
                    r["persons"],
                    r["distance_m"],
                    round(r["time_s"] / 60, 1),
                    b["unplaced"] if k == 0 else None,
                    reason if k == 0 else "",
                ]
            )
    name = _("{community}-疏散方案").format(community=ctx["community"].name)
    return plan_headers(), rows, name


def export_plan(session: Session, actor: Principal, params: dict[str, Any]) -> tuple[bytes, str]:
    """The plan table as an .xlsx workbook and a file name (without extension)."""
    headers, rows, name = plan_table(session, actor, params)
    return to_xlsx(headers, rows, sheet=_("疏散方案")), name
