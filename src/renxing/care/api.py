"""JSON routes of 定点关怀 under /api/v1/care."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field

from renxing.care import assigning, matching, plans, visits
from renxing.care import coverage as care_coverage
from renxing.care.models import CareVisit
from renxing.care.schemas import (
    AssignedOut,
    AssignmentEndedOut,
    CoverageOut,
    OverdueOut,
    PlanDetailOut,
    PlanOut,
    ProposalOut,
    UncoveredOut,
    VisitOut,
    WhatIfOut,
)
from renxing.db import utcnow
from renxing.events import idempotency
from renxing.listing import ListQuery, Page
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams, Moment, PageNo, PageSize
from renxing.web.schemas import PageOut

router = APIRouter(prefix="/api/v1/care", tags=["care"])


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resident_id: Id
    frequency_days: int | None = Field(None, description="days between visits; default by need")
    emergency: bool = False
    note: str | None = None


class PlanPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    frequency_days: int | None = None
    emergency: bool | None = None
    status: str | None = Field(None, description="active or closed")


class PairModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resident_id: Id
    carer: str = Field(description="m<team member id> or u<user id of a grid worker>")
    carer_kind: str | None = Field(None, description="volunteer, party_member, neighbour, grid_worker")
    reason: str | None = None


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pairs: list[PairModel]


class ProposeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: Id


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    visited_at: Moment | None = None
    found: str = Field("ok", description="ok or problem")
    problem_category: str | None = Field(None, description="health, living, safety, mental, absent, other")
    note: str | None = None
    raise_report: bool = Field(False, description="raise the problem into the closed loop (困难求助) now")


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = None


def plan_dict(row: plans.PlanRow, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    p = row.plan
    return {
        "id": p.id,
        "status": p.status,
        "frequency_days": row.frequency_days,
        "emergency": p.emergency,
        "resident": row.resident,
        "carers": row.carers,
        "last_visit_at": row.last_visit_at,
        "due_at": row.due_at,
        "overdue": row.overdue(now),
        "days_overdue": row.days_overdue(now),
        "created_at": p.created_at,
    }


def visit_dict(v: CareVisit, resident: str | None = None) -> dict[str, Any]:
    return {
        "id": v.id,
        "plan_id": v.plan_id,
        "resident": resident,
        "carer_kind": v.carer_kind,
        "member_id": v.member_id,
        "user_id": v.user_id,
        "visited_at": v.visited_at,
        "found": v.found,
        "problem_category": v.problem_category,
        "note": v.note,
        "report_id": v.report_id,
    }


def _page(result: Page[plans.PlanRow]) -> dict:
    return result.to_dict([plan_dict(r) for r in result.items])


@router.get("/plans", summary="Care plans in scope (a carer: their own), one page", response_model=PageOut[PlanOut])
def list_plans(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    unit_id: Id | None = None,
    status: Annotated[str, Query(description="active or closed")] = "active",
    overdue: bool = False,
) -> dict:
    """Sort keys: due (next visit, the default), name, building; ``-`` before a key reverses it."""
    return _page(plans.list_plans(session, actor, query, unit_id=unit_id, status=status, overdue_only=overdue))


@router.get("/mine", summary="My care list: the residents I care for", response_model=PageOut[PlanOut])
def my_list(session: DB, actor: CurrentUser, page: PageNo = 1, size: PageSize | None = None) -> dict:
    return _page(plans.list_plans(session, actor, ListQuery(page=page, size=size), only_mine=True))


@router.post(
    "/plans",
    status_code=201,
    summary="Open a care plan (frequency and needs by default from the register)",
    response_model=PlanOut,
)
def create_plan(data: PlanIn, session: DB, actor: CurrentUser) -> dict:
    plan = plans.create_plan(session, actor, **data.model_dump())
    row, _ = plans.get_plan(session, actor, plan.id)
    return plan_dict(row)


@router.get("/plans/{plan_id}", summary="One care plan with its recent visits", response_model=PlanDetailOut)
def get_plan(plan_id: Id, session: DB, actor: CurrentUser) -> dict:
    row, visits = plans.get_plan(session, actor, plan_id)
    return {**plan_dict(row), "visits": [visit_dict(v) for v in visits]}


@router.patch("/plans/{plan_id}", summary="Change frequency, emergency flag or close a plan", response_model=PlanOut)
def update_plan(plan_id: Id, patch: PlanPatch, session: DB, actor: CurrentUser) -> dict:
    plans.update_plan(session, actor, plan_id, **patch.model_dump(exclude_unset=True))
    row, _ = plans.get_plan(session, actor, plan_id)
    return plan_dict(row)


@router.get("/uncovered", summary="Vulnerable residents nobody cares for, in a unit", response_model=list[UncoveredOut])
def uncovered(unit_id: Id, session: DB, actor: CurrentUser) -> list[dict]:
    return [{**u.resident, "plan_id": u.plan_id} for u in matching.uncovered(session, actor, unit_id)]


@router.post(
    "/proposals",
    summary="Propose carers for every uncovered resident (optimal, explained per pair)",
    response_model=ProposalOut,
)
def propose(data: ProposeIn, session: DB, actor: CurrentUser) -> dict:
    p = matching.propose_assignments(session, actor, data.unit_id)
    return {
        "community_id": p.community.id,
        "covered": len(p.pairs),
        "total": p.total,
        "total_distance_m": p.total_distance_m,
        "carers_available": p.carers_available,
        "pairs": [
            {
                "resident": x.resident,
                "carer": x.carer_key,
                "carer_name": x.carer_name,
                "carer_kind": x.carer_kind,
                "team": x.team,
                "distance_m": x.distance_m,
                "explanation": x.explanation,
            }
            for x in p.pairs
        ],
        "uncovered": [{"resident": g.resident, "reason": g.reason, "message": g.message} for g in p.gaps],
    }


@router.post(
    "/assignments",
    status_code=201,
    summary="Assign carers in one action (all or nothing)",
    response_model=AssignedOut,
)
def assign(data: AssignIn, session: DB, actor: CurrentUser) -> dict:
    pairs = [assigning.PairIn(**p.model_dump()) for p in data.pairs]
    done = assigning.assign(session, actor, pairs)
    return {"assigned": len(done), "ids": [a.id for a in done], "plan_ids": sorted({a.plan_id for a in done})}


@router.post("/assignments/{assignment_id}/end", summary="End a carer's assignment", response_model=AssignmentEndedOut)
def end_assignment(assignment_id: Id, data: EndIn, session: DB, actor: CurrentUser) -> dict:
    a = plans.end_assignment(session, actor, assignment_id, reason=data.reason)
    return {"id": a.id, "plan_id": a.plan_id, "until": a.until}


@router.post(
    "/plans/{plan_id}/visits",
    status_code=201,
    summary="Record a visit; a problem may be raised at once",
    response_model=VisitOut,
)
def record_visit(
    plan_id: Id,
    data: VisitIn,
    session: DB,
    actor: CurrentUser,
    response: Response,
    key: str | None = Header(
        None, alias=idempotency.HEADER, description="a retry with the same key records nothing new"
    ),
) -> dict:
    key = idempotency.read_key(key)
    client = f"user:{actor.user_id}"
    if key is not None:
        fields = {"plan_id": plan_id, **data.model_dump(mode="json")}
        prior = idempotency.begin(session, client, key, idempotency.fingerprint("care_visit", fields))
        if prior is not None:
            response.headers[idempotency.REPLAYED] = "true"
            return prior.answer
    answer = jsonable_encoder(visit_dict(visits.record_visit(session, actor, plan_id, **data.model_dump())))
    if key is not None:
        idempotency.finish(session, client, key, answer.get("report_id"), answer)
    return answer


@router.post(
    "/visits/{visit_id}/raise", summary="Raise a visit's problem into the closed loop", response_model=VisitOut
)
def raise_problem(visit_id: Id, session: DB, actor: CurrentUser) -> dict:
    return visit_dict(visits.raise_problem(session, actor, visit_id))


@router.get("/visits", summary="Visits of the plans in scope, newest first", response_model=PageOut[VisitOut])
def list_visits(
    session: DB,
    actor: CurrentUser,
    plan_id: Id | None = None,
    problems: bool = False,
    page: PageNo = 1,
    size: PageSize | None = None,
) -> dict:
    filters = {"plan_id": plan_id, "found": "problem" if problems else None}
    result = visits.list_visits(session, actor, ListQuery(page=page, size=size, filters=filters))
    return result.to_dict([visit_dict(v, name) for v, name in result.items])


@router.get(
    "/overdue",
    summary="Plans whose visit is overdue, with carers and grid workers",
    response_model=list[OverdueOut],
)
def overdue(session: DB, actor: CurrentUser, unit_id: Id | None = None, mine: bool = False) -> list[dict]:
    return [
        {**plan_dict(o.row), "days_overdue": o.days_overdue, "grid_workers": o.grid_workers}
        for o in plans.overdue(session, actor, unit_id=unit_id, only_mine=mine)
    ]


def _unit(u: Any, names: dict[int, str], positions: dict[int, tuple[float, float]] | None = None) -> dict[str, Any]:
    out = {
        "unit_id": u.unit_id,
        "name": names.get(u.unit_id) if u.unit_id is not None else None,
        "vulnerable": u.vulnerable,
        "by_kind": u.by_kind,
        "covered": u.covered,
        "share": u.share,
        "uncovered": len(u.uncovered),
        "over_served_residents": u.over_served_residents,
        "carers": u.carers,
        "assigned": u.assigned,
        "max_care": u.max_care,
        "load": u.load,
    }
    if positions is not None and u.unit_id in positions:
        out["lon"], out["lat"] = positions[u.unit_id]
    return out


@router.get(
    "/coverage",
    summary="Coverage and overlap per area and building",
    response_model=CoverageOut,
    response_model_exclude_unset=True,  # only buildings with a position carry lon and lat
)
def coverage(unit_id: Id, session: DB, actor: CurrentUser) -> dict:
    v = care_coverage.coverage(session, actor, unit_id)
    rep = v.report
    return {
        "unit_id": v.unit.id,
        "total": _unit(rep.total, v.names),
        "by_kind": [{"kind": k, "vulnerable": n, "covered": c, "share": s} for k, n, c, s in v.by_kind],
        "areas": [_unit(u, v.names) for u in rep.areas.values()],
        "buildings": [_unit(u, v.names, v.positions) for u in rep.buildings.values()],
        "uncovered": [v.residents[i] for i in rep.uncovered if i in v.residents] if v.residents else len(rep.uncovered),
        "over_served": [
            {
                "level": o.level,
                "id": o.id if o.level == "building" or v.residents else None,
                "name": v.names.get(o.id) if o.level == "building" else (v.residents.get(o.id) or {}).get("name"),
                "service_kind": o.service_kind,
                "teams": [v.team_names.get(t, str(t)) if isinstance(t, int) else str(t) for t in o.providers],
                "residents": o.residents,
                "uncovered_in_area": o.uncovered_in_area,
            }
            for o in rep.over_served
        ],
        "carers": [
            {
                "carer": c.carer_id,
                "name": v.carer_names.get(str(c.carer_id)) if v.residents else None,
                "team": v.team_names.get(c.team_id) if c.team_id is not None else None,
                "assigned": c.assigned,
                "max_care": c.max_care,
                "load": c.load,
                "over_limit": c.over_limit,
            }
            for c in rep.carers
        ],
    }


@router.get("/what-if", summary="Coverage with N more volunteers of a skill in an area", response_model=WhatIfOut)
def what_if(
    unit_id: Id,
    session: DB,
    actor: CurrentUser,
    extra: Annotated[int, Field(ge=0, le=10_000)] = 1,
    skill: str | None = None,
    area_id: Id | None = None,
    capacity: Annotated[int, Field(ge=1, le=1000)] = 3,
) -> dict:
    w = matching.what_if(session, actor, unit_id, extra=extra, skill=skill, area_id=area_id, capacity=capacity)
    return {
        "before": {"covered": w.before.covered, "total": w.before.total, "coverage": w.before.coverage},
        "after": {"covered": w.after.covered, "total": w.after.total, "coverage": w.after.coverage},
        "gain": w.gain,
        "newly_covered": [i for i in w.newly_covered],
        "summary": w.summary,
    }
