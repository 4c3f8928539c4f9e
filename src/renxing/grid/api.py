"""JSON routes of the grid: tree, units, buildings, households, the responsibility chain."""

from typing import Any

from fastapi import APIRouter

from renxing.auth.audit import snapshot
from renxing.grid import service
from renxing.grid.schemas import BuildingOut, ChainLinkOut, UnitDetailOut, UnitOut
from renxing.grid.service import DUTY_LABELS, LEVEL_LABELS, ChainView
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id

router = APIRouter(prefix="/api/v1/grid", tags=["grid"])


def unit_dict(unit, residents: int | None = None) -> dict[str, Any]:
    out = {
        "id": unit.id,
        "parent_id": unit.parent_id,
        "level": unit.level,
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "lon": unit.lon,
        "lat": unit.lat,
    }
    if residents is not None:
        out["residents"] = residents
    return out


def chain_dict(links: list[ChainView]) -> list[dict[str, Any]]:
    return [
        {
            "level": link.level.value,
            "level_label": str(LEVEL_LABELS[link.level]),
            "duty": link.duty.value,
            "duty_label": str(DUTY_LABELS[link.duty]),
            "unit_id": link.unit_id,
            "unit_name": link.unit_name,
            "people": [
                {"name": p.person_name, "phone": p.phone, "since": p.start_date.isoformat(), "user_id": p.user_id}
                for p in link.people
            ],
        }
        for link in links
    ]


@router.get("/roots", response_model=list[UnitOut], summary="The top grid units visible to the user")
def roots(session: DB, actor: CurrentUser) -> list[dict]:
    return [unit_dict(u) for u in service.roots(session, actor)]


@router.get(
    "/units/{unit_id}", response_model=UnitDetailOut, summary="A grid unit with its ancestors and visible children"
)
def unit(unit_id: Id, session: DB, actor: CurrentUser) -> dict:
    u = service.get_unit(session, actor, unit_id)
    return {
        **unit_dict(u),
        "geometry": u.geometry,
        "ancestors": [unit_dict(a) for a in service.ancestors(session, u)],
        "children": [unit_dict(c, n) for c, n in service.children(session, actor, unit_id)]
        if u.level != "building"
        else [],
    }


@router.get("/buildings/{unit_id}", response_model=BuildingOut, summary="A building with its households")
def building(unit_id: Id, session: DB, actor: CurrentUser) -> dict:
    view = service.building_view(session, actor, unit_id)
    return {
        **unit_dict(view.unit),
        "building": snapshot(view.building) if view.building else None,
        "households": [
            {"id": h.id, "unit_no": h.unit_no, "room": h.room, "address": h.address, "residents": n}
            for h, n in view.households
        ],
    }


@router.get(
    "/units/{unit_id}/chain",
    response_model=list[ChainLinkOut],
    summary="Who answers for this unit, level by level (五级负责制)",
)
def unit_chain(unit_id: Id, session: DB, actor: CurrentUser) -> list[dict]:
    return chain_dict(service.chain_for(session, actor, unit_id=unit_id))


@router.get(
    "/households/{household_id}/chain",
    response_model=list[ChainLinkOut],
    summary="The five-level chain above a household",
)
def household_chain(household_id: Id, session: DB, actor: CurrentUser) -> list[dict]:
    return chain_dict(service.chain_for(session, actor, household_id=household_id))
