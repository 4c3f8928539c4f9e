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
from renxing.geo.coords import CRS, UnknownCRS, parse_crs
from renxing.space import planning
from renxing.space.models import (
    DepthClass,
    Facility,
    HazardKind,
    RiskPointKind,
    ShelterClass,
    ShelterKind,
    ShelterStatus,
)
from renxing.web import csrf, pagekit
from renxing.web.deps import DB, CurrentUser
from renxing.web.i18n import lang_of, register
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)

HAZARD_KIND_LABELS = {
    HazardKind.flood.value: ("洪涝/内涝", "flood / waterlogging"),
    HazardKind.fire.value: ("火灾风险", "fire risk"),
    HazardKind.wind_sand.value: ("风沙", "wind and sand"),
    HazardKind.geological.value: ("地质灾害", "geological"),
    HazardKind.facility_buffer.value: ("危险源缓冲区", "hazardous facility buffer"),
}
LEVEL_LABELS = {1: ("低", "low"), 2: ("中", "medium"), 3: ("高", "high"), 4: ("极高", "very high")}
DEPTH_LABELS = {
    DepthClass.lt_0_3.value: ("<0.3 米", "<0.3 m"),
    DepthClass.d_0_3_0_5.value: ("0.3–0.5 米", "0.3–0.5 m"),
    DepthClass.d_0_5_1.value: ("0.5–1 米", "0.5–1 m"),
    DepthClass.gt_1.value: (">1 米", ">1 m"),
}
RISK_KIND_LABELS = {
    RiskPointKind.petrol_station.value: ("加油站", "petrol station"),
    RiskPointKind.gas_station.value: ("燃气站", "gas / LPG station"),
    RiskPointKind.substation.value: ("变电站", "substation"),
    RiskPointKind.chemical_store.value: ("危化品仓库", "chemical store"),
    RiskPointKind.old_wiring.value: ("老旧电线楼栋", "old wiring block"),
    RiskPointKind.other.value: ("其他", "other"),
}
SHELTER_KIND_LABELS = {
    ShelterKind.park.value: ("公园", "park"),
    ShelterKind.square.value: ("广场", "square"),
    ShelterKind.school_playground.value: ("学校操场", "school playground"),
    ShelterKind.stadium.value: ("体育场馆", "stadium"),
    ShelterKind.air_defence.value: ("人防工程", "civil air-defence work"),
    ShelterKind.indoor_hall.value: ("室内场馆", "indoor hall"),
}
SHELTER_CLASS_LABELS = {
    ShelterClass.I.value: ("Ⅰ类（30天以上）", "class I (over 30 days)"),
    ShelterClass.II.value: ("Ⅱ类（10–30天）", "class II (10–30 days)"),
    ShelterClass.III.value: ("Ⅲ类（10天以内）", "class III (under 10 days)"),
}
SHELTER_STATUS_LABELS = {
    ShelterStatus.open.value: ("开放", "open"),
    ShelterStatus.closed.value: ("关闭", "closed"),
    ShelterStatus.candidate.value: ("候选（可改造）", "candidate (can be converted)"),
}
FACILITY_LABELS = {
    Facility.water.value: ("供水", "water"),
    Facility.toilets.value: ("厕所", "toilets"),
    Facility.power.value: ("供电", "power"),
    Facility.medical.value: ("医疗点", "medical point"),
    Facility.barrier_free.value: ("无障碍", "barrier-free"),
}
ROAD_KIND_LABELS = {
    "primary": ("主干路", "primary"),
    "secondary": ("次干路", "secondary"),
    "tertiary": ("支路", "tertiary"),
    "residential": ("小区道路", "residential"),
    "service": ("服务道路", "service"),
    "pedestrian": ("步行街", "pedestrian"),
    "footway": ("人行道", "footway"),
    "path": ("小路", "path"),
}
POI_KIND_LABELS = {
    "clinic": ("诊所/卫生站", "clinic"),
    "hospital": ("医院", "hospital"),
    "pharmacy": ("药店", "pharmacy"),
    "fire_station": ("消防站", "fire station"),
    "police": ("派出所", "police"),
    "school": ("学校", "school"),
    "kindergarten": ("幼儿园", "kindergarten"),
    "park": ("公园", "park"),
    "supermarket": ("超市", "supermarket"),
    "supply_point": ("物资点", "supply point"),
    "petrol_station": ("加油站", "petrol station"),
    "substation": ("变电站", "substation"),
}
REASON_LABELS = {
    "closed_by_scenario": ("本情景关闭", "closed in this scenario"),
    "closed": ("已关闭", "closed"),
    "candidate": ("候选，未启用", "candidate, not switched on"),
    "in_hazard_zone": ("位于受灾区内", "inside a hit hazard zone"),
    "no_location": ("无位置", "no location"),
    "cut_by_scenario": ("本情景中断", "cut in this scenario"),
    "not_walkable": ("不可步行", "not walkable"),
    "flooded": ("积水≥0.5米", "flooded ≥ 0.5 m"),
    "no_capacity": ("避难场所容量不足", "not enough shelter capacity"),
    "unreachable": ("无法到达任何开放场所", "no open shelter reachable"),
    "no_location_building": ("楼栋无位置", "building has no location"),
    "no_road_access": ("周边道路中断，无法到达", "cut off from the usable roads"),
}


def _opts(labels: dict[Any, tuple[str, str]], lang: str) -> list[list[Any]]:
    return [[k, pair[1] if lang == "en" else pair[0]] for k, pair in labels.items()]


def _field(
    name: str, label: str, kind: str = "text", options: Any = None, required: bool = False, default: Any = None
) -> dict[str, Any]:
    out = {"name": name, "label": label, "type": kind, "options": options, "required": required}
    if default is not None:
        out["default"] = default  # what the form starts with for a new feature
    return out


def map_layers(community_id: Id, crs: str, lang: str, public_only: bool) -> list[dict[str, Any]]:
    """What the map page draws and edits: per layer its source, geometry, form fields and label."""
    t = lambda zh, en: en if lang == "en" else zh  # noqa: E731 - a local shorthand

    def url(slug: str) -> str:
        return f"/api/v1/space/layers/{slug}.geojson?community={community_id}&crs={crs}"

    name = _field("name", t("名称", "Name"))
    note = _field("note", t("备注", "Note"), "textarea")
    layers = [
        {
            "key": "hazard_zones",
            "label": t("风险区", "Hazard zones"),
            "geom": "polygon",
            "url": url("hazard-zones"),
            "api": "/api/v1/space/hazard-zones",
            "fields": [
                name,
                _field("kind", t("类型", "Kind"), "select", _opts(HAZARD_KIND_LABELS, lang), True),
                _field("level", t("等级", "Level"), "select", _opts(LEVEL_LABELS, lang), True, 2),
                _field("depth_class", t("积水深度", "Flood depth"), "select", _opts(DEPTH_LABELS, lang)),
                note,
            ],
        },
        {
            "key": "risk_points",
            "label": t("危险源", "Risk points"),
            "geom": "point",
            "url": url("risk-points"),
            "api": "/api/v1/space/risk-points",
            "fields": [
                name,
                _field("kind", t("类型", "Kind"), "select", _opts(RISK_KIND_LABELS, lang), True),
                _field("buffer_m", t("缓冲距离（米）", "Buffer (m)"), "number"),
                note,
            ],
        },
        {
            "key": "passages",
            "label": t("应急通道", "Emergency passages"),
            "geom": "line",
            "url": url("passages"),
            "api": "/api/v1/space/passages",
            "fields": [name, _field("width_m", t("宽度（米）", "Width (m)"), "number"), note],
        },
        {
            "key": "reserved_land",
            "label": t("应急预留地", "Reserved land"),
            "geom": "polygon",
            "url": url("reserved-land"),
            "api": "/api/v1/space/reserved-land",
            "fields": [name, note],
            "extra": [{"name": "area_m2", "label": t("面积（平方米）", "Area (m²)")}],
        },
        {
            "key": "shelters",
            "label": t("避难场所", "Shelters"),
            "geom": "polygon",
            "url": url("shelters"),
            "api": "/api/v1/space/shelters",
            "fields": [
                name,
                _field("kind", t("类型", "Kind"), "select", _opts(SHELTER_KIND_LABELS, lang), True),
                _field("status", t("状态", "Status"), "select", _opts(SHELTER_STATUS_LABELS, lang), True, "open"),
                _field("effective_area_m2", t("有效面积（平方米）", "Effective area (m²)"), "number", None, True),
                _field("shelter_class", t("类别", "Class"), "select", _opts(SHELTER_CLASS_LABELS, lang), True, "III"),
                _field("per_person_m2", t("人均面积（平方米，可选）", "Area per person (m², optional)"), "number"),
                _field("exits", t("出入口数", "Exits"), "number", default=1),
                _field("facilities", t("设施", "Facilities"), "checkboxes", _opts(FACILITY_LABELS, lang)),
                note,
            ],
            "extra": [{"name": "capacity", "label": t("容量（人）", "Capacity (persons)")}],
        },
        {
            "key": "roads",
            "label": t("道路", "Roads"),
            "geom": "line",
            "url": url("roads"),
            "api": "/api/v1/space/roads",
            "fields": [
                name,
                _field("kind", t("类型", "Kind"), "select", _opts(ROAD_KIND_LABELS, lang), True),
                _field("width_m", t("宽度（米）", "Width (m)"), "number"),
                _field(
                    "walkable",
                    t("可步行", "Walkable"),
                    "select",
                    [["true", t("是", "yes")], ["false", t("否", "no")]],
                    True,
                    "true",
                ),
            ],
        },
        {
            "key": "buildings",
            "label": t("建筑", "Buildings"),
            "geom": "polygon",
            "url": url("features"),
            "filter": {"layer": "building"},
            "api": "/api/v1/space/features",
            "fixed": {"layer": "building", "kind": "building"},
            "fields": [name],
        },
        {
            "key": "pois",
            "label": t("设施点（诊所、消防站等）", "Places (clinics, fire stations, …)"),
            "geom": "point",
            "url": url("features"),
            "filter": {"layer": "poi"},
            "api": "/api/v1/space/features",
            "fixed": {"layer": "poi"},
            "fields": [name, _field("kind", t("类型", "Kind"), "select", _opts(POI_KIND_LABELS, lang), True)],
        },
    ]
    if public_only:
        layers = [ly for ly in layers if ly["key"] in ("hazard_zones", "shelters")]
    return layers


def basemap(lang: str) -> tuple[dict[str, Any] | None, str]:
    """The configured basemap and the datum our layers must be drawn in to line up with it."""
    settings = get_settings()
    if not settings.basemap_url:
        return None, CRS.wgs84.value
    try:
        crs = parse_crs(settings.basemap_crs)
    except UnknownCRS:
        crs = CRS.wgs84
    # Our layers are converted to the tiles' datum; BD-09 tiles also need a projection Leaflet lacks.
    if crs is CRS.bd09:
        crs = CRS.gcj02
    return {"url": settings.basemap_url, "attribution": settings.basemap_attribution}, crs.value


def _js_texts(lang: str) -> dict[str, str]:
    t = lambda zh, en: en if lang == "en" else zh  # noqa: E731
    return {
        "edit": t("编辑", "Edit"),
        "remove": t("删除", "Delete"),
        "confirmDelete": t("确定删除这个要素吗？此操作不可撤销。", "Delete this feature? This cannot be undone."),
        "loading": t("正在加载图层…", "Loading layers…"),
        "loadFailed": t("加载失败", "Could not load"),
        "adding": t("新增", "New"),
        "editing": t("编辑", "Edit"),
        "geometry": t("位置/范围", "Geometry"),
        "draw": t("在地图上绘制", "Draw on the map"),
        "redraw": t("重新绘制", "Redraw"),
        "finish": t("完成绘制", "Finish drawing"),
        "save": t("保存", "Save"),
        "cancel": t("取消", "Cancel"),
        "saved": t("已保存", "Saved"),
        "deleted": t("已删除", "Deleted"),
        "clickPoint": t("在地图上点一下放置该点", "Click the map to place the point"),
        "clickLine": t("依次点击各个拐点，双击或点“完成绘制”结束", "Click each vertex; double-click or Finish to end"),
        "clickPolygon": t(
            "依次点击各个顶点，双击或点“完成绘制”闭合", "Click each corner; double-click or Finish to close"
        ),
        "persons": t("人", "persons"),
        "unplaced": t("未安置", "without a place"),
        "closed": t("关闭", "closed"),
        "cut": t("道路中断", "road cut"),
    }


# ---- the risk map ------------------------------------------------------------------------------


@router.get("/space")
def space_home(request: Request, session: DB, actor: CurrentUser):
    ctx = planning.map_context(session, actor, None)
    if ctx["community"] is None:
        return render(request, "space/map.html", {"ctx": ctx, "config": None})
    return RedirectResponse(f"/space/{ctx['community'].id}", status_code=303)


@router.get("/space/{community_id:int}")
def space_map(request: Request, community_id: Id, session: DB, actor: CurrentUser):
    lang = lang_of(request)
    tiles, crs = basemap(lang)
    ctx = planning.map_context(session, actor, community_id, crs)
    config = {
        "mode": "map",
        "lang": lang,
        "community": {"id": community_id, "name": ctx["community"].name},
        "crs": crs,
        "basemap": tiles,
        "bounds": ctx["bounds"],
        "layers": map_layers(community_id, crs, lang, ctx["public_only"]),
        "canWrite": ctx["can_write"],
        "csrf": request.state.csrf_token,
        "t": _js_texts(lang),
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
    ctx = planning.evacuation_view(session, actor, _params(request))
    lang = lang_of(request)
    tiles, _ = basemap(lang)
    # The plan maps draw WGS-84 plan geometry; without a GCJ-02 basemap there is nothing to align to.
    config = {"mode": "plan", "lang": lang, "basemap": tiles if get_settings().basemap_crs == "wgs84" else None}
    config["t"] = _js_texts(lang)
    export = pagekit.with_params(request).replace("/space/evacuation", "/space/evacuation/plan.xlsx", 1)
    return render(
        request,
        "space/evacuation.html",
        {"ctx": ctx, "config": config, "export_url": export, **labels()},
        status_code=422 if ctx["errors"] else 200,
    )


@router.get("/space/evacuation/plan.xlsx")
def evacuation_export(request: Request, session: DB, actor: CurrentUser):
    lang = lang_of(request)
    body, name = planning.export_plan(session, actor, _params(request), lang)
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
    sc = planning.create_scenario(session, actor, values)
    return RedirectResponse(f"/space/evacuation?community={sc.unit_id}&scenario={sc.id}&run=1", status_code=303)


def labels() -> dict[str, Any]:
    return {
        "CLASS_LABELS": planning.CLASS_LABELS,
        "REASON_LABELS": REASON_LABELS,
        "HAZARD_KIND_LABELS": HAZARD_KIND_LABELS,
        "LEVEL_LABELS_SPACE": LEVEL_LABELS,
        "SHELTER_KIND_LABELS": SHELTER_KIND_LABELS,
        "SHELTER_STATUS_LABELS": SHELTER_STATUS_LABELS,
    }


register(
    {
        "风险地图": "Risk map",
        "疏散规划": "Evacuation plan",
        "图层": "Layers",
        "图例": "Legend",
        "新增要素": "Add a feature",
        "社区": "Community",
        "切换": "Switch",
        "打印风险图": "Printable risk map",
        "没有可查看的社区": "No community to show",
        "低": "low",
        "中": "medium",
        "高": "high",
        "极高": "very high",
        "风险等级": "Hazard level",
        "开放": "open",
        "候选": "candidate",
        "关闭": "closed",
        "无底图，仅显示本平台数据": "No basemap: our own data only",
        "情景": "Scenario",
        "选择已保存的情景": "Pick a saved scenario",
        "新情景": "New scenario",
        "受灾风险区": "Hazard zones hit",
        "中断道路": "Roads cut",
        "关闭的场所": "Shelters closed",
        "启用的候选场所": "Candidates switched on",
        "全部楼栋撤离": "Evacuate every building",
        "不选风险区时全部楼栋撤离": "With no zone chosen every building evacuates",
        "计算疏散方案": "Compute the plan",
        "保存为情景": "Save as scenario",
        "情景名称": "Scenario name",
        "撤离楼栋": "Buildings evacuating",
        "撤离人数": "Persons evacuating",
        "已安置": "Placed",
        "未安置": "Without a place",
        "清空时间": "Clearance time",
        "需担架转运": "Bedridden, need carriers",
        "覆盖率": "Coverage",
        "500米内": "within 500 m",
        "1000米内": "within 1,000 m",
        "按路网步行距离": "walking distance on the road network",
        "疏散路线": "Evacuation routes",
        "各楼栋疏散安排": "Plan per building",
        "楼栋": "Building",
        "避难场所": "Shelter",
        "人数": "Persons",
        "距离": "Distance",
        "用时": "Time",
        "原因": "Reason",
        "未安置人员": "Left without a place",
        "所有人都有安置": "Everyone has a place",
        "卧床人员（需担架）": "Bedridden residents (need carriers)",
        "无卧床人员": "No bedridden residents",
        "导出 Excel": "Export to Excel",
        "避难场所使用": "Shelters used",
        "容量": "Capacity",
        "已分配": "Assigned",
        "状态": "Status",
        "假设分析": "What if",
        "启用候选场所后": "With the candidates switched on",
        "比较": "Compare",
        "现状": "As is",
        "方案": "What if",
        "变化": "Change",
        "受益楼栋": "Who gains",
        "没有楼栋受益": "No building gains",
        "新安置人数": "Newly placed",
        "节省时间": "Time saved",
        "选址建议": "Siting",
        "从候选场所中选出最佳": "Pick the best candidates to open",
        "个": "",
        "计算": "Compute",
        "选中的候选场所": "Candidates chosen",
        "总步行时间": "Total walking time",
        "平均步行时间": "Mean walking time",
        "没有候选场所": "No conversion candidates",
        "请选择社区并计算": "Choose the community and compute",
        "疏散方案基于居民登记、路网和避难场所，只含人数，不含个人信息": (
            "The plan uses the resident register, the road network and the shelters; counts only, no personal data"
        ),
        "分钟": "min",
        "米": "m",
        "秒": "s",
        "总人数": "Total",
        "已缓存": "cached",
        "新计算": "computed now",
    }
)
