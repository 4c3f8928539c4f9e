"""HTML pages of the space domain: the community risk map (layers, drawing, editing) and the
evacuation plan (scenario, routes, per-building table, what-if, coverage, siting, Excel export).

The map draws our own GeoJSON layers from ``/api/v1/space/layers/…``, so it works offline; a basemap
is optional (``RENXING_BASEMAP_URL``), and when its tiles are GCJ-02 the layers are asked for in GCJ-02.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from renxing.config import get_settings
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition
from renxing.i18n import _, _l, current_lang
from renxing.space import views
from renxing.space.models import (
    DepthClass,
    Facility,
    HazardKind,
    RiskPointKind,
    ShelterClass,
    ShelterKind,
    ShelterStatus,
)
from renxing.space.planning import scenarios
from renxing.web import csrf, pagekit
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm, basemap
from renxing.web.params import Id
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)

HAZARD_KIND_LABELS = {
    HazardKind.flood.value: _l("洪涝/内涝"),
    HazardKind.fire.value: _l("火灾风险"),
    HazardKind.wind_sand.value: _l("风沙"),
    HazardKind.geological.value: _l("地质灾害"),
    HazardKind.facility_buffer.value: _l("危险源缓冲区"),
}
LEVEL_LABELS = {1: _l("低"), 2: _l("中"), 3: _l("高"), 4: _l("极高")}
DEPTH_LABELS = {
    DepthClass.lt_0_3.value: _l("<0.3 米"),
    DepthClass.d_0_3_0_5.value: _l("0.3–0.5 米"),
    DepthClass.d_0_5_1.value: _l("0.5–1 米"),
    DepthClass.gt_1.value: _l(">1 米"),
}
RISK_KIND_LABELS = {
    RiskPointKind.petrol_station.value: _l("加油站"),
    RiskPointKind.gas_station.value: _l("燃气站"),
    RiskPointKind.substation.value: _l("变电站"),
    RiskPointKind.chemical_store.value: _l("危化品仓库"),
    RiskPointKind.old_wiring.value: _l("老旧电线楼栋"),
    RiskPointKind.other.value: _l("其他"),
}
SHELTER_KIND_LABELS = {
    ShelterKind.park.value: _l("公园"),
    ShelterKind.square.value: _l("广场"),
    ShelterKind.school_playground.value: _l("学校操场"),
    ShelterKind.stadium.value: _l("体育场馆"),
    ShelterKind.air_defence.value: _l("人防工程"),
    ShelterKind.indoor_hall.value: _l("室内场馆"),
}
SHELTER_CLASS_LABELS = {
    ShelterClass.I.value: _l("Ⅰ类（30天以上）"),
    ShelterClass.II.value: _l("Ⅱ类（10–30天）"),
    ShelterClass.III.value: _l("Ⅲ类（10天以内）"),
}
SHELTER_STATUS_LABELS = {
    ShelterStatus.open.value: _l("开放"),
    ShelterStatus.closed.value: _l("关闭"),
    ShelterStatus.candidate.value: _l("候选（可改造）"),
}
FACILITY_LABELS = {
    Facility.water.value: _l("供水"),
    Facility.toilets.value: _l("厕所"),
    Facility.power.value: _l("供电"),
    Facility.medical.value: _l("医疗点"),
    Facility.barrier_free.value: _l("无障碍"),
}
ROAD_KIND_LABELS = {
    "primary": _l("主干路"),
    "secondary": _l("次干路"),
    "tertiary": _l("支路"),
    "residential": _l("小区道路"),
    "service": _l("服务道路"),
    "pedestrian": _l("步行街"),
    "footway": _l("人行道"),
    "path": _l("小路"),
}
POI_KIND_LABELS = {
    "clinic": _l("诊所/卫生站"),
    "hospital": _l("医院"),
    "pharmacy": _l("药店"),
    "fire_station": _l("消防站"),
    "police": _l("派出所"),
    "school": _l("学校"),
    "kindergarten": _l("幼儿园"),
    "park": _l("公园"),
    "supermarket": _l("超市"),
    "supply_point": _l("物资点"),
    "petrol_station": _l("加油站"),
    "substation": _l("变电站"),
}
REASON_LABELS = {
    "closed_by_scenario": _l("本情景关闭"),
    "closed": _l("已关闭"),
    "candidate": _l("候选，未启用"),
    "in_hazard_zone": _l("位于受灾区内"),
    "no_location": _l("无位置"),
    "cut_by_scenario": _l("本情景中断"),
    "not_walkable": _l("不可步行"),
    "flooded": _l("积水≥0.5米"),
    "no_capacity": _l("避难场所容量不足"),
    "unreachable": _l("无法到达任何开放场所"),
    "no_location_building": _l("楼栋无位置"),
    "no_road_access": _l("周边道路中断，无法到达"),
}


def _opts(labels: dict[Any, Any]) -> list[list[Any]]:
    return [[k, str(label)] for k, label in labels.items()]


def _field(
    name: str, label: str, kind: str = "text", options: Any = None, required: bool = False, default: Any = None
) -> dict[str, Any]:
    out = {"name": name, "label": label, "type": kind, "options": options, "required": required}
    if default is not None:
        out["default"] = default  # what the form starts with for a new feature
    return out


def map_layers(community_id: Id, crs: str, public_only: bool) -> list[dict[str, Any]]:
    """What the map page draws and edits: per layer its source, geometry, form fields and label."""

    def url(slug: str) -> str:
        return f"/api/v1/space/layers/{slug}.geojson?community={community_id}&crs={crs}"

    name = _field("name", _("名称"))
    note = _field("note", _("备注"), "textarea")
    layers = [
        {
            "key": "hazard_zones",
            "label": _("风险区"),
            "geom": "polygon",
            "url": url("hazard-zones"),
            "api": "/api/v1/space/hazard-zones",
            "fields": [
                name,
                _field("kind", _("类型"), "select", _opts(HAZARD_KIND_LABELS), True),
                _field("level", _("等级"), "select", _opts(LEVEL_LABELS), True, 2),
                _field("depth_class", _("积水深度"), "select", _opts(DEPTH_LABELS)),
                note,
            ],
        },
        {
            "key": "risk_points",
            "label": _("危险源"),
            "geom": "point",
            "url": url("risk-points"),
            "api": "/api/v1/space/risk-points",
            "fields": [
                name,
                _field("kind", _("类型"), "select", _opts(RISK_KIND_LABELS), True),
                _field("buffer_m", _("缓冲距离（米）"), "number"),
                note,
            ],
        },
        {
            "key": "passages",
            "label": _("应急通道"),
            "geom": "line",
            "url": url("passages"),
            "api": "/api/v1/space/passages",
            "fields": [name, _field("width_m", _("宽度（米）"), "number"), note],
        },
        {
            "key": "reserved_land",
            "label": _("应急预留地"),
            "geom": "polygon",
            "url": url("reserved-land"),
            "api": "/api/v1/space/reserved-land",
            "fields": [name, note],
            "extra": [{"name": "area_m2", "label": _("面积（平方米）")}],
        },
        {
            "key": "shelters",
            "label": _("避难场所"),
            "geom": "polygon",
            "url": url("shelters"),
            "api": "/api/v1/space/shelters",
            "fields": [
                name,
                _field("kind", _("类型"), "select", _opts(SHELTER_KIND_LABELS), True),
                _field("status", _("状态"), "select", _opts(SHELTER_STATUS_LABELS), True, "open"),
                _field("effective_area_m2", _("有效面积（平方米）"), "number", None, True),
                _field("shelter_class", _("类别"), "select", _opts(SHELTER_CLASS_LABELS), True, "III"),
                _field("per_person_m2", _("人均面积（平方米，可选）"), "number"),
                _field("exits", _("出入口数"), "number", default=1),
                _field("facilities", _("设施"), "checkboxes", _opts(FACILITY_LABELS)),
                note,
            ],
            "extra": [{"name": "capacity", "label": _("容量（人）")}],
        },
        {
            "key": "roads",
            "label": _("道路"),
            "geom": "line",
            "url": url("roads"),
            "api": "/api/v1/space/roads",
            "fields": [
                name,
                _field("kind", _("类型"), "select", _opts(ROAD_KIND_LABELS), True),
                _field("width_m", _("宽度（米）"), "number"),
                _field(
                    "walkable",
                    _("可步行"),
                    "select",
                    [["true", _("是")], ["false", _("否")]],
                    True,
                    "true",
                ),
            ],
        },
        {
            "key": "buildings",
            "label": _("建筑"),
            "geom": "polygon",
            "url": url("features"),
            "filter": {"layer": "building"},
            "api": "/api/v1/space/features",
            "fixed": {"layer": "building", "kind": "building"},
            "fields": [name],
        },
        {
            "key": "pois",
            "label": _("设施点（诊所、消防站等）"),
            "geom": "point",
            "url": url("features"),
            "filter": {"layer": "poi"},
            "api": "/api/v1/space/features",
            "fixed": {"layer": "poi"},
            "fields": [name, _field("kind", _("类型"), "select", _opts(POI_KIND_LABELS), True)],
        },
    ]
    if public_only:
        layers = [ly for ly in layers if ly["key"] in ("hazard_zones", "shelters")]
    return layers


def _js_texts() -> dict[str, str]:
    return {
        "edit": _("编辑"),
        "remove": _("删除"),
        "confirmDelete": _("确定删除这个要素吗？此操作不可撤销。"),
        "loading": _("正在加载图层…"),
        "loadFailed": _("加载失败"),
        "adding": _("新增"),
        "editing": _("编辑"),
        "geometry": _("位置/范围"),
        "draw": _("在地图上绘制"),
        "redraw": _("重新绘制"),
        "finish": _("完成绘制"),
        "save": _("保存"),
        "cancel": _("取消"),
        "saved": _("已保存"),
        "deleted": _("已删除"),
        "clickPoint": _("在地图上点一下放置该点"),
        "clickLine": _("依次点击各个拐点，双击或点“完成绘制”结束"),
        "clickPolygon": _("依次点击各个顶点，双击或点“完成绘制”闭合"),
        "persons": _("人"),
        "unplaced": _("未安置"),
        "closed": _("关闭"),
        "cut": _("道路中断"),
    }


# ---- the risk map ------------------------------------------------------------------------------


@router.get("/space")
def space_home(request: Request, session: DB, actor: CurrentUser):
    ctx = views.map_context(session, actor, None)
    if ctx["community"] is None:
        return render(request, "space/map.html", {"ctx": ctx, "config": None})
    return RedirectResponse(f"/space/{ctx['community'].id}", status_code=303)


@router.get("/space/{community_id:int}")
def space_map(request: Request, community_id: Id, session: DB, actor: CurrentUser):
    tiles, crs = basemap()
    ctx = views.map_context(session, actor, community_id, crs)
    config = {
        "mode": "map",
        "lang": current_lang(),
        "community": {"id": community_id, "name": ctx["community"].name},
        "crs": crs,
        "basemap": tiles,
        "bounds": ctx["bounds"],
        "layers": map_layers(community_id, crs, ctx["public_only"]),
        "canWrite": ctx["can_write"],
        "csrf": request.state.csrf_token,
        "t": _js_texts(),
    }
    for ly in config["layers"]:
        if ly["key"] == "buildings":
            ly["inline"] = ctx["grid_buildings"]  # the register's buildings, drawn with the base map's
    return render(request, "space/map.html", {"ctx": ctx, "config": config})


# ---- the evacuation plan -----------------------------------------------------------------------


def _params(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        "community": q.get("community"),
        "scenario": q.get("scenario"),
        "zones": q.getlist("zones"),
        "cut": q.getlist("cut"),
        "open": q.getlist("open"),
        "closed": q.getlist("closed"),
        "all": q.get("all"),
        "whatif": q.getlist("whatif"),
        "k": q.get("k"),
        "run": q.get("run"),
        "edit": q.get("edit"),  # the scenario's choices come from the form, not the saved scenario
    }


@router.get("/space/evacuation")
def evacuation(request: Request, session: DB, actor: CurrentUser):
    ctx = views.evacuation_view(session, actor, _params(request))
    tiles, _crs = basemap()
    # The plan maps draw WGS-84 plan geometry; without a GCJ-02 basemap there is nothing to align to.
    config = {
        "mode": "plan",
        "lang": current_lang(),
        "basemap": tiles if get_settings().basemap_crs == "wgs84" else None,
    }
    config["t"] = _js_texts()
    export = pagekit.with_params(request).replace("/space/evacuation", "/space/evacuation/plan.xlsx", 1)
    return render(
        request,
        "space/evacuation.html",
        {"ctx": ctx, "config": config, "export_url": export, **labels()},
        status_code=422 if ctx["errors"] else 200,
    )


@router.get("/space/evacuation/plan.xlsx")
def evacuation_export(request: Request, session: DB, actor: CurrentUser):
    body, name = views.export_plan(session, actor, _params(request))
    return Response(
        body,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(f"{name}.xlsx", "evacuation-plan.xlsx")},
    )


@router.post("/space/evacuation/scenarios")
def save_scenario(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, form.get("csrf_token"))
    values = {
        "community_id": form.get("community"),
        "name": form.get("name"),
        "hazard_zone_ids": form.getlist("zones"),
        "cut_road_ids": form.getlist("cut"),
        "open_candidate_ids": form.getlist("open"),
        "closed_shelter_ids": form.getlist("closed"),
        "evacuate_all": form.get("all") in ("1", "on", "true"),
    }
    sc = scenarios.create_scenario(session, actor, values)
    return RedirectResponse(f"/space/evacuation?community={sc.unit_id}&scenario={sc.id}&run=1", status_code=303)


def labels() -> dict[str, Any]:
    return {
        "CLASS_LABELS": views.CLASS_LABELS,
        "REASON_LABELS": REASON_LABELS,
        "HAZARD_KIND_LABELS": HAZARD_KIND_LABELS,
        "LEVEL_LABELS_SPACE": LEVEL_LABELS,
        "SHELTER_KIND_LABELS": SHELTER_KIND_LABELS,
        "SHELTER_STATUS_LABELS": SHELTER_STATUS_LABELS,
    }
