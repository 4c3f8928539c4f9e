"""What the grid's pages show: labels, crumbs, the sketch map, the residents of a building or
household, and the context of each page, built from the grid's and the register's services."""

import json
from typing import Any

from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.grid import service as grid
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import in_scope, path_ids
from renxing.grid.service import DUTY_LABELS, LEVEL_LABELS
from renxing.i18n import N_, _, _l
from renxing.listing import Page
from renxing.people import service as people
from renxing.people.vulnerability import TAG_LABELS, Tag

# Building structures as the register stores them (in Chinese); the page words them for the reader.
STRUCTURES = (N_("砖混"), N_("框架"), N_("剪力墙"), N_("钢结构"), N_("砖木"))
GENDER_LABELS = {"M": _l("男"), "F": _l("女")}
# Kinds of community and building in common use; any other kind is shown as written.
KIND_LABELS = {
    "old_estate": _l("老旧小区"),
    "highrise": _l("高层商品房"),
    "mixed": _l("新老混合"),
    "resettlement": _l("安置房"),
    "riverside": _l("滨河单位大院"),
    "walkup_1980s": _l("80年代多层"),
    "walkup_1990s": _l("90年代多层"),
    "midrise_2010s": _l("2010年代小高层"),
    "highrise_2010s": _l("2010年代高层"),
    "resettlement_2000s": _l("2000年代安置房"),
    "workunit_1960s": _l("60年代单位宿舍"),
}


def household_label(hh: Household) -> str:
    return _("{unit_no}单元{room}室").format(unit_no=hh.unit_no, room=hh.room)


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
    household_id: int | None = None,
    page: int = 1,
    size: int | None = None,
) -> tuple[Page[Any] | None, list[dict[str, Any]]]:
    """A masked page of residents, or nothing for roles that may not read the register."""
    if not actor.can(Perm.residents_read):
        return None, []
    result = people.list_residents(session, actor, unit_path=unit_path, household_id=household_id, page=page, size=size)
    return result, [people.present(r, actor, frozenset()) for r in result.items]


def addresses(session: Session, actor: Principal, rows: list[dict[str, Any]]) -> dict[int, str]:
    """Compound, building and room of each household on a page of residents (building names repeat)."""
    out: dict[int, str] = {}
    places: dict[int, str] = {}
    for hid in {r["household_id"] for r in rows}:
        hh = grid.get_household(session, actor, hid)
        if hh.building_id not in places:
            building = grid.get_unit(session, actor, hh.building_id)
            names = [a.name for a in grid.ancestors(session, building) if a.level == Level.compound]
            places[hh.building_id] = " ".join([*names, building.name])
        out[hid] = f"{places[hh.building_id]} {household_label(hh)}".strip()
    return out


# ---- page contexts ----------------------------------------------------------------------


def home_context(session: Session, actor: Principal) -> dict[str, Any]:
    """The units one works in with their residents, the register's totals by tag, one's household."""
    units = scope_units(session, actor)
    reads = actor.can(Perm.residents_read)
    counts = grid.resident_counts(session, [u.path for u in units]) if reads else {}
    total = None
    tag_counts: list[tuple[Tag, int]] = []
    if reads:
        total = people.list_residents(session, actor, size=1).total
        tag_counts = [
            (t, people.list_residents(session, actor, tag=t.value, size=1).total) for t in people.visible_tags(actor)
        ]
    household = None
    if actor.household_id is not None:
        hh = grid.get_household(session, actor, actor.household_id)
        household = (hh, grid.get_unit(session, actor, hh.building_id), household_label(hh))
    chart = {
        "labels": [str(TAG_LABELS[t]) for t, _n in tag_counts],
        "values": [n for _t, n in tag_counts],
        "tags": [t.value for t, _n in tag_counts],
    }
    return {
        "units": units,
        "counts": counts,
        "total": total,
        "tag_counts": tag_counts,
        "chart": chart,
        "household": household,
        "TAG_LABELS": TAG_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
    }


def tree_context(session: Session, actor: Principal) -> dict[str, Any]:
    mine = scope_units(session, actor)
    return {
        "mine": [(u, grid.ancestors(session, u)) for u in mine],
        "roots": grid.roots(session, actor),
        "LEVEL_LABELS": LEVEL_LABELS,
        "counts": grid.resident_counts(session, [u.path for u in mine]),
    }


def unit_context(session: Session, actor: Principal, unit: GridUnit) -> dict[str, Any]:
    kids = grid.children(session, actor, unit.id)
    return {
        "unit": unit,
        "crumbs": unit_crumbs(session, unit),
        "children": kids,
        "in_scope": in_scope(actor, unit),
        "total": sum(n for _, n in kids),
        "map": map_data(unit, [k for k, _ in kids]),
        "LEVEL_LABELS": LEVEL_LABELS,
        "KIND_LABELS": KIND_LABELS,
    }


def building_context(
    session: Session, actor: Principal, unit: GridUnit, *, page: int, size: int | None
) -> dict[str, Any]:
    view = grid.building_view(session, actor, unit.id) if actor.can(Perm.households_read) else None
    result, rows = residents_page(session, actor, unit_path=unit.path, page=page, size=size)
    return {
        "unit": unit,
        "view": view,
        "crumbs": unit_crumbs(session, unit),
        "residents": result,
        "rows": rows,
        "rooms": {hh.id: household_label(hh) for hh, _n in (view.households if view else [])},
        "map": map_data(unit, [unit]),
        "TAG_LABELS": TAG_LABELS,
        "KIND_LABELS": KIND_LABELS,
        "GENDER_LABELS": GENDER_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
    }


def chain_context(session: Session, actor: Principal, unit_id: int) -> dict[str, Any]:
    links = grid.chain_for(session, actor, unit_id=unit_id)
    unit = grid.get_unit(session, actor, unit_id)
    return {
        "title_name": unit.name,
        "links": links,
        "crumbs": [*unit_crumbs(session, unit, link_last=True), (_("责任链"), None)],
        "LEVEL_LABELS": LEVEL_LABELS,
        "DUTY_LABELS": DUTY_LABELS,
    }


def household_context(session: Session, actor: Principal, household_id: int, removed: int | None) -> dict[str, Any]:
    hh = grid.get_household(session, actor, household_id)
    building = grid.get_unit(session, actor, hh.building_id)
    result, rows = residents_page(session, actor, household_id=hh.id, size=100)
    label = household_label(hh)
    return {
        "hh": hh,
        "label": label,
        "building": building,
        "crumbs": [*unit_crumbs(session, building, link_last=True), (label, None)],
        "links": grid.chain_for(session, actor, household_id=hh.id),
        "members": result,
        "rows": rows,
        "removed": removed,
        "TAG_LABELS": TAG_LABELS,
        "GENDER_LABELS": GENDER_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
        "DUTY_LABELS": DUTY_LABELS,
    }
