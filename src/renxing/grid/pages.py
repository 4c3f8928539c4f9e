"""HTML pages of the grid: home, the tree from street to household, buildings, the chain."""

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.grid import service as grid
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import path_ids
from renxing.grid.service import DUTY_LABELS, LEVEL_LABELS
from renxing.listing import Page
from renxing.people import service as people
from renxing.people.vulnerability import TAG_LABELS, Tag
from renxing.web import pagekit  # noqa: F401 - registers the layout's filters
from renxing.web.deps import DB, CurrentUser
from renxing.web.i18n import lang_of, register
from renxing.web.params import Id, PageNo, PageSize
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)

GENDER_LABELS = {"M": ("男", "male"), "F": ("女", "female")}
# Kinds of community and building in common use; any other kind is shown as written.
KIND_LABELS = {
    "old_estate": ("老旧小区", "old estate"),
    "highrise": ("高层商品房", "high-rise housing"),
    "mixed": ("新老混合", "mixed old and new"),
    "resettlement": ("安置房", "resettlement housing"),
    "riverside": ("滨河单位大院", "riverside work-unit compounds"),
    "walkup_1980s": ("80年代多层", "1980s walk-up"),
    "walkup_1990s": ("90年代多层", "1990s walk-up"),
    "midrise_2010s": ("2010年代小高层", "2010s mid-rise"),
    "highrise_2010s": ("2010年代高层", "2010s high-rise"),
    "resettlement_2000s": ("2000年代安置房", "2000s resettlement"),
    "workunit_1960s": ("60年代单位宿舍", "1960s work-unit housing"),
}


def household_label(hh: Household, lang: str) -> str:
    return f"{hh.unit_no}-{hh.room}" if lang == "en" else f"{hh.unit_no}单元{hh.room}室"


def unit_crumbs(session: Session, unit: GridUnit, *, link_last: bool = False) -> list[tuple[str, str | None]]:
    items: list[tuple[str, str | None]] = [(a.name, f"/grid/{a.id}") for a in grid.ancestors(session, unit)]
    items.append((unit.name, f"/grid/{unit.id}" if link_last else None))
    return items


def scope_units(session: Session, actor: Principal) -> list[GridUnit]:
    """The units a user works in: their scope, or the tree's roots when the scope is everything."""
    if actor.is_global or not actor.scope_paths:
        return grid.roots(session, actor)
    return [grid.get_unit(session, actor, path_ids(p)[-1]) for p in actor.scope_paths]


def _geometry(unit: GridUnit) -> Any:
    if not unit.geometry:
        return None
    try:
        return json.loads(unit.geometry)
    except ValueError:
        return None


MAP_CHILDREN = 300  # beyond this many shapes a sketch map stops helping


def map_data(unit: GridUnit, children: list[GridUnit]) -> dict[str, Any] | None:
    """What the small map draws: the unit's outline, its children's outlines or points (WGS-84)."""
    parts = []
    for c in children[:MAP_CHILDREN]:
        shape = _geometry(c) if c.id != unit.id else None
        if shape is None and (c.lon is None or c.lat is None):
            continue
        parts.append({"name": c.name, "url": f"/grid/{c.id}", "geometry": shape, "lon": c.lon, "lat": c.lat})
    outline = _geometry(unit)
    if outline is None and not parts:
        return None
    return {"geometry": outline, "children": parts}


def residents_page(
    session: Session,
    actor: Principal,
    *,
    unit_path: str | None = None,
    household_id: Id | None = None,
    page: PageNo = 1,
    size: PageSize | None = None,
) -> tuple[Page[Any] | None, list[dict[str, Any]]]:
    """A masked page of residents, or nothing for roles that may not read the register."""
    if not actor.can(Perm.residents_read):
        return None, []
    result = people.list_residents(session, actor, unit_path=unit_path, household_id=household_id, page=page, size=size)
    return result, [people.present(r, actor, frozenset()) for r in result.items]


def addresses(session: Session, actor: Principal, rows: list[dict[str, Any]], lang: str) -> dict[int, str]:
    """Compound, building and room of each household on a page of residents (building names repeat)."""
    out: dict[int, str] = {}
    places: dict[int, str] = {}
    for hid in {r["household_id"] for r in rows}:
        hh = grid.get_household(session, actor, hid)
        if hh.building_id not in places:
            building = grid.get_unit(session, actor, hh.building_id)
            names = [a.name for a in grid.ancestors(session, building) if a.level == Level.compound]
            places[hh.building_id] = " ".join([*names, building.name])
        out[hid] = f"{places[hh.building_id]} {household_label(hh, lang)}".strip()
    return out


# ---- pages ------------------------------------------------------------------------------


@router.get("/")
def home(request: Request, session: DB, actor: CurrentUser):
    units = scope_units(session, actor)
    counts = grid.resident_counts(session, [u.path for u in units]) if actor.can(Perm.residents_read) else {}
    total = None
    tag_counts: list[tuple[Tag, int]] = []
    if actor.can(Perm.residents_read):
        total = people.list_residents(session, actor, size=1).total
        tag_counts = [
            (t, people.list_residents(session, actor, tag=t.value, size=1).total) for t in people.visible_tags(actor)
        ]
    lang = lang_of(request)
    household = None
    if actor.household_id is not None:
        hh = grid.get_household(session, actor, actor.household_id)
        household = (hh, grid.get_unit(session, actor, hh.building_id), household_label(hh, lang))
    chart = {
        "labels": [TAG_LABELS[t][1 if lang == "en" else 0] for t, _ in tag_counts],
        "values": [n for _, n in tag_counts],
        "tags": [t.value for t, _ in tag_counts],
    }
    return render(
        request,
        "grid_home.html",
        {
            "units": units,
            "counts": counts,
            "total": total,
            "tag_counts": tag_counts,
            "chart": chart,
            "household": household,
            "TAG_LABELS": TAG_LABELS,
            "LEVEL_LABELS": LEVEL_LABELS,
        },
    )


@router.get("/grid")
def tree(request: Request, session: DB, actor: CurrentUser):
    mine = scope_units(session, actor)
    roots = grid.roots(session, actor)
    rows = [(u, grid.ancestors(session, u)) for u in mine]
    return render(
        request,
        "grid_tree.html",
        {
            "mine": rows,
            "roots": roots,
            "LEVEL_LABELS": LEVEL_LABELS,
            "counts": grid.resident_counts(session, [u.path for u in mine]),
        },
    )


@router.get("/grid/{unit_id}")
def unit_page(
    request: Request, unit_id: Id, session: DB, actor: CurrentUser, page: PageNo = 1, size: PageSize | None = None
):
    unit = grid.get_unit(session, actor, unit_id)
    if unit.level == Level.building:
        return building_page(request, unit_id, session, actor, page, size)
    kids = grid.children(session, actor, unit.id)
    in_scope = actor.covers_path(unit.path)
    return render(
        request,
        "grid_unit.html",
        {
            "unit": unit,
            "crumbs": unit_crumbs(session, unit),
            "children": kids,
            "in_scope": in_scope,
            "total": sum(n for _, n in kids),
            "map": map_data(unit, [k for k, _ in kids]),
            "LEVEL_LABELS": LEVEL_LABELS,
            "KIND_LABELS": KIND_LABELS,
        },
    )


@router.get("/buildings/{unit_id}")
def building_page(
    request: Request, unit_id: Id, session: DB, actor: CurrentUser, page: PageNo = 1, size: PageSize | None = None
):
    unit = grid.get_unit(session, actor, unit_id)
    if unit.level != Level.building:
        return RedirectResponse(f"/grid/{unit.id}", status_code=303)
    view = grid.building_view(session, actor, unit.id) if actor.can(Perm.households_read) else None
    result, rows = residents_page(session, actor, unit_path=unit.path, page=page, size=size)
    lang = lang_of(request)
    rooms = {hh.id: household_label(hh, lang) for hh, _ in (view.households if view else [])}
    return render(
        request,
        "grid_building.html",
        {
            "unit": unit,
            "view": view,
            "crumbs": unit_crumbs(session, unit),
            "residents": result,
            "rows": rows,
            "rooms": rooms,
            "map": map_data(unit, [unit]),
            "TAG_LABELS": TAG_LABELS,
            "KIND_LABELS": KIND_LABELS,
            "GENDER_LABELS": GENDER_LABELS,
            "LEVEL_LABELS": LEVEL_LABELS,
        },
    )


@router.get("/grid/{unit_id}/chain")
def unit_chain(request: Request, unit_id: Id, session: DB, actor: CurrentUser):
    links = grid.chain_for(session, actor, unit_id=unit_id)
    unit = grid.get_unit(session, actor, unit_id)
    return render(
        request,
        "grid_chain.html",
        {
            "title_name": unit.name,
            "links": links,
            "crumbs": [*unit_crumbs(session, unit, link_last=True), ("责任链", None)],
            "LEVEL_LABELS": LEVEL_LABELS,
            "DUTY_LABELS": DUTY_LABELS,
        },
    )


@router.get("/households/{household_id}")
def household_page(request: Request, household_id: Id, session: DB, actor: CurrentUser, removed: Id | None = None):
    hh = grid.get_household(session, actor, household_id)
    building = grid.get_unit(session, actor, hh.building_id)
    links = grid.chain_for(session, actor, household_id=hh.id)
    result, rows = residents_page(session, actor, household_id=hh.id, size=100)
    lang = lang_of(request)
    label = household_label(hh, lang)
    return render(
        request,
        "grid_household.html",
        {
            "hh": hh,
            "label": label,
            "building": building,
            "crumbs": [*unit_crumbs(session, building, link_last=True), (label, None)],
            "links": links,
            "members": result,
            "rows": rows,
            "removed": removed,
            "TAG_LABELS": TAG_LABELS,
            "GENDER_LABELS": GENDER_LABELS,
            "LEVEL_LABELS": LEVEL_LABELS,
            "DUTY_LABELS": DUTY_LABELS,
        },
    )


register(
    {
        "我的身份": "Who I am",
        "角色": "Role",
        "我的网格": "My grid",
        "我的户": "My household",
        "范围内居民": "Residents in scope",
        "重点人群": "Vulnerable groups",
        "人数": "People",
        "快速查询": "Quick search",
        "按姓名查询": "Search by name",
        "网格结构": "Grid structure",
        "下级单元": "Units below",
        "居民数": "Residents",
        "层级": "Level",
        "名称": "Name",
        "编码": "Code",
        "类型": "Kind",
        "操作": "Actions",
        "查看居民": "Residents",
        "责任链": "Responsibility chain",
        "五级负责制": "Five-level responsibility",
        "地图": "Map",
        "楼栋信息": "Building",
        "地址": "Address",
        "单元数": "Entrances",
        "层数": "Floors",
        "建成年份": "Year built",
        "结构": "Structure",
        "电梯": "Lift",
        "有": "yes",
        "无": "no",
        "住户": "Households",
        "户": "Household",
        "单元": "Entrance",
        "房号": "Room",
        "户内人数": "Members",
        "家庭成员": "Members",
        "姓名": "Name",
        "性别": "Gender",
        "年龄": "Age",
        "关系": "Relation",
        "电话": "Phone",
        "标签": "Tags",
        "负责人": "Responsible",
        "职责": "Duty",
        "所在单元": "Unit",
        "联系电话": "Phone",
        "起始日期": "Since",
        "暂无负责人": "nobody assigned",
        "从户到街道，逐级负责": "From the household up to the street, level by level",
        "无下级单元": "No units below",
        "该楼栋暂无住户": "No households in this building",
        "该户暂无居民": "No residents in this household",
        "您的角色不能查看住户": "Your role does not see households",
        "您的角色不能查看居民": "Your role does not see residents",
        "居民已移除。": "Resident removed.",
        "撤销": "Undo",
        "地图为示意，无底图": "Sketch map without a base layer",
        "全部": "All",
        "总人数": "All residents",
        "我负责的范围": "Units in my care",
        "进入": "Open",
        "楼栋": "Building",
        "户数": "Households",
        "上级": "Above",
        "砖混": "brick and concrete",
        "框架": "frame",
        "剪力墙": "shear wall",
        "钢结构": "steel frame",
        "砖木": "brick and timber",
    }
)
