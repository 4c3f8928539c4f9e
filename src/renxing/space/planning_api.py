"""JSON routes of evacuation planning: saved scenarios, plans, what-if, coverage and siting.

Plans carry counts per building and mobility class only, never a resident.
"""

from typing import Any

from fastapi import APIRouter, Body

from renxing.space import planning
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id

router = APIRouter(prefix="/api/v1/space", tags=["space planning"])

_SPEC_DOC = (
    "community_id; hazard_zone_ids (zones hit), cut_road_ids, open_candidate_ids (conversion candidates "
    "switched on), closed_shelter_ids; evacuate_all (default: only buildings in the hit zones, everyone "
    "when no zone is hit)"
)


@router.get("/scenarios", summary="Saved evacuation scenarios of the communities in scope")
def list_scenarios(session: DB, actor: CurrentUser, community: Id | None = None) -> list[dict]:
    return [planning.present_scenario(s) for s in planning.list_scenarios(session, actor, community)]


@router.post("/scenarios", status_code=201, summary="Save a scenario")
def create_scenario(
    session: DB, actor: CurrentUser, data: dict[str, Any] = Body(..., description="name, note and " + _SPEC_DOC)
) -> dict:
    return planning.present_scenario(planning.create_scenario(session, actor, data))


@router.get("/scenarios/{scenario_id}", summary="One scenario")
def get_scenario(scenario_id: Id, session: DB, actor: CurrentUser) -> dict:
    return planning.present_scenario(planning.get_scenario(session, actor, scenario_id))


@router.patch("/scenarios/{scenario_id}", summary="Change a scenario (its cached plan is recomputed when next read)")
def update_scenario(scenario_id: Id, session: DB, actor: CurrentUser, patch: dict[str, Any] = Body(...)) -> dict:
    return planning.present_scenario(planning.update_scenario(session, actor, scenario_id, patch))


@router.delete("/scenarios/{scenario_id}", summary="Delete a scenario")
def delete_scenario(scenario_id: Id, session: DB, actor: CurrentUser) -> dict:
    planning.delete_scenario(session, actor, scenario_id)
    return {"ok": True}


@router.get("/scenarios/{scenario_id}/plan", summary="The plan of a saved scenario (cached until its inputs change)")
def scenario_plan(scenario_id: Id, session: DB, actor: CurrentUser) -> dict:
    return planning.scenario_plan(session, actor, scenario_id)


@router.post("/plan", summary="The evacuation plan of a scenario given in the body")
def plan(session: DB, actor: CurrentUser, data: dict[str, Any] = Body(..., description=_SPEC_DOC)) -> dict:
    return planning.plan_from(session, actor, data)


@router.post("/what-if", summary="A scenario against the same with more candidates switched on, side by side")
def what_if(
    session: DB,
    actor: CurrentUser,
    data: dict[str, Any] = Body(..., description=_SPEC_DOC + "; open_candidates: the candidates to switch on"),
) -> dict:
    return planning.what_if_from(session, actor, data)


@router.post("/coverage", summary="Share of residents within 500 m and 1,000 m walk of an open shelter")
def coverage(session: DB, actor: CurrentUser, data: dict[str, Any] = Body(..., description=_SPEC_DOC)) -> dict:
    return planning.coverage_from(session, actor, data)


@router.post("/siting", summary="The best k conversion candidates to open (capacitated p-median)")
def siting(
    session: DB,
    actor: CurrentUser,
    data: dict[str, Any] = Body(..., description="k and " + _SPEC_DOC),
) -> dict:
    return planning.siting_from(session, actor, data)
