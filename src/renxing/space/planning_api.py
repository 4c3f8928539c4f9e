"""JSON routes of evacuation planning: saved scenarios, plans, what-if, coverage and siting.

Plans carry counts per building and mobility class only, never a resident.
"""

from typing import Any

from fastapi import APIRouter, Body
from pydantic import BaseModel

from renxing.space.planning import coverage, plan, scenarios, siting, whatif
from renxing.space.schemas import (
    CommunityCoverageOut,
    OkOut,
    PlanOut,
    ScenarioIn,
    ScenarioOut,
    ScenarioPatchIn,
    ScenarioSpecIn,
    SitingIn,
    SitingOut,
    WhatIfIn,
    WhatIfOut,
)
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id

router = APIRouter(prefix="/api/v1/space", tags=["space planning"])


def _body(model: type[BaseModel]) -> dict[str, Any]:
    """The body's fields for the documentation; the route reads it as loose JSON, as the pages post it."""
    return {"requestBody": {"content": {"application/json": {"schema": model.model_json_schema()}}}}


@router.get(
    "/scenarios", summary="Saved evacuation scenarios of the communities in scope", response_model=list[ScenarioOut]
)
def list_scenarios(session: DB, actor: CurrentUser, community: Id | None = None) -> list[dict]:
    return [scenarios.present_scenario(s) for s in scenarios.list_scenarios(session, actor, community)]


@router.post(
    "/scenarios",
    status_code=201,
    summary="Save a scenario",
    response_model=ScenarioOut,
    openapi_extra=_body(ScenarioIn),
)
def create_scenario(session: DB, actor: CurrentUser, data: dict[str, Any] = Body(...)) -> dict:
    return scenarios.present_scenario(scenarios.create_scenario(session, actor, data))


@router.get("/scenarios/{scenario_id}", summary="One scenario", response_model=ScenarioOut)
def get_scenario(scenario_id: Id, session: DB, actor: CurrentUser) -> dict:
    return scenarios.present_scenario(scenarios.get_scenario(session, actor, scenario_id))


@router.patch(
    "/scenarios/{scenario_id}",
    summary="Change a scenario (its cached plan is recomputed when next read)",
    response_model=ScenarioOut,
    openapi_extra=_body(ScenarioPatchIn),
)
def update_scenario(scenario_id: Id, session: DB, actor: CurrentUser, patch: dict[str, Any] = Body(...)) -> dict:
    return scenarios.present_scenario(scenarios.update_scenario(session, actor, scenario_id, patch))


@router.delete("/scenarios/{scenario_id}", summary="Delete a scenario", response_model=OkOut)
def delete_scenario(scenario_id: Id, session: DB, actor: CurrentUser) -> dict:
    scenarios.delete_scenario(session, actor, scenario_id)
    return {"ok": True}


@router.get(
    "/scenarios/{scenario_id}/plan",
    summary="The plan of a saved scenario (cached until its inputs change)",
    response_model=PlanOut,
    response_model_exclude_unset=True,
)
def scenario_plan(scenario_id: Id, session: DB, actor: CurrentUser) -> dict:
    return scenarios.scenario_plan(session, actor, scenario_id)


@router.post(
    "/plan",
    summary="The evacuation plan of a scenario given in the body",
    response_model=PlanOut,
    response_model_exclude_unset=True,
    openapi_extra=_body(ScenarioSpecIn),
)
def plan_scenario(session: DB, actor: CurrentUser, data: dict[str, Any] = Body(...)) -> dict:
    return plan.plan_from(session, actor, data)


@router.post(
    "/what-if",
    summary="A scenario against the same with more candidates switched on, side by side",
    response_model=WhatIfOut,
    response_model_exclude_unset=True,
    openapi_extra=_body(WhatIfIn),
)
def what_if(session: DB, actor: CurrentUser, data: dict[str, Any] = Body(...)) -> dict:
    return whatif.what_if_from(session, actor, data)


@router.post(
    "/coverage",
    summary="Share of residents within 500 m and 1,000 m walk of an open shelter",
    response_model=CommunityCoverageOut,
    openapi_extra=_body(ScenarioSpecIn),
)
def coverage_of_scenario(session: DB, actor: CurrentUser, data: dict[str, Any] = Body(...)) -> dict:
    return coverage.coverage_from(session, actor, data)


@router.post(
    "/siting",
    summary="The best k conversion candidates to open (capacitated p-median)",
    response_model=SitingOut,
    openapi_extra=_body(SitingIn),
)
def site_candidates(session: DB, actor: CurrentUser, data: dict[str, Any] = Body(...)) -> dict:
    return siting.siting_from(session, actor, data)
