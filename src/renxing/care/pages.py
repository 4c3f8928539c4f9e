"""HTML pages of 定点关怀: the secretary's overview with proposal and one-action assignment, my care
list and the visit form (mobile), the coverage map and tables."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from renxing.care import assigning, matching, plans, rules, views, visits
from renxing.care.assignment import KIND_LABELS as CARER_KIND_LABELS
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import FieldError, Invalid
from renxing.i18n import _
from renxing.listing import ListQuery
from renxing.volunteers.models import SKILL_LABELS
from renxing.web import csrf
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id, PageNo, form_id
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)

LABELS = {
    "KIND_LABELS": rules.KIND_LABELS,
    "SKILL_LABELS": SKILL_LABELS,
    "CARER_KIND_LABELS": CARER_KIND_LABELS,
    "FOUND_LABELS": rules.FOUND_LABELS,
    "PROBLEM_CATEGORIES": rules.PROBLEM_CATEGORIES,
}


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


@router.get("/care")
def care_overview(request: Request, session: DB, actor: CurrentUser, unit_id: str | None = None):
    data = views.overview(session, actor, form_id(unit_id, "unit_id"))
    assigned = request.query_params.get("assigned")
    return render(request, "care_overview.html", {"data": data, "assigned": assigned, "now": utcnow(), **LABELS})


def _proposal_page(request, session, actor, unit_id: Id, errors: list[FieldError] | None = None, status: int = 200):
    proposal = matching.propose_assignments(session, actor, unit_id)
    return render(
        request,
        "care_propose.html",
        {"p": proposal, "unit_id": unit_id, "errors": errors or [], **LABELS},
        status_code=status,
    )


@router.post("/care/propose")
def care_propose(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    unit_id = form_id(form.get("unit_id"), "unit_id")
    if unit_id is None:
        raise Invalid(_("须选择单元"), [FieldError("unit_id", "required")])
    return _proposal_page(request, session, actor, unit_id)


@router.post("/care/assign")
def care_assign(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    unit_id = form_id(form.get("unit_id"), "unit_id")
    residents = form.getlist("resident_id")
    carers = form.getlist("carer")
    reasons = form.getlist("reason")
    if len(residents) != len(carers) or not all(str(r).isdigit() for r in residents):
        raise Invalid(_("表单不完整"), [FieldError("pairs", "resident_id and carer per pair")])
    pairs = [
        assigning.PairIn(form_id(r, "resident_id"), str(c), reason=str(reasons[i]) if i < len(reasons) else None)
        for i, (r, c) in enumerate(zip(residents, carers, strict=True))
    ]
    try:
        done = assigning.assign(session, actor, pairs)
    except Invalid as exc:
        # Nothing was written (the service checks every pair first); show the proposal again.
        if unit_id is None:
            raise
        return _proposal_page(request, session, actor, unit_id, exc.errors or [FieldError("pairs", exc.message)], 422)
    suffix = f"&unit_id={unit_id}" if unit_id else ""
    return RedirectResponse(f"/care?assigned={len(done)}{suffix}", status_code=303)


@router.get("/care/mine")
def my_care(request: Request, session: DB, actor: CurrentUser, page: PageNo = 1):
    data = plans.list_plans(session, actor, ListQuery(page=page, size=30), only_mine=True)
    return render(
        request,
        "care_mine.html",
        {"data": data, "now": utcnow(), "visited": request.query_params.get("visited"), **LABELS},
    )


@router.get("/care/plans/{plan_id}/visit")
def visit_form(request: Request, plan_id: Id, session: DB, actor: CurrentUser):
    row = views.visit_form(session, actor, plan_id)
    return render(request, "care_visit.html", {"row": row, "values": {}, "errors": {}, **LABELS})


@router.post("/care/plans/{plan_id}/visit")
def visit_save(request: Request, plan_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    values = {k: str(form.get(k) or "") for k in ("visited_at", "found", "problem_category", "note")}
    values["raise_report"] = "1" if form.get("raise_report") else ""
    errors: dict[str, str] = {}
    visited_at = None
    if values["visited_at"]:
        try:
            visited_at = datetime.fromisoformat(values["visited_at"]).replace(tzinfo=ZoneInfo(get_settings().timezone))
        except ValueError:
            errors["visited_at"] = _("时间格式无效")
    if not errors:
        try:
            visit = visits.record_visit(
                session,
                actor,
                plan_id,
                visited_at=visited_at,
                found=values["found"] or "ok",
                problem_category=values["problem_category"] or None,
                note=values["note"] or None,
                raise_report=bool(values["raise_report"]),
            )
        except Invalid as exc:
            errors = {e.field: e.message for e in exc.errors} or {"form": exc.message}
        else:
            flag = f"&report={visit.report_id}" if visit.report_id else ""
            return RedirectResponse(f"/care/mine?visited={visit.id}{flag}", status_code=303)
    row = views.visit_form(session, actor, plan_id)
    return render(
        request, "care_visit.html", {"row": row, "values": values, "errors": errors, **LABELS}, status_code=422
    )


@router.get("/care/coverage")
def coverage_page(
    request: Request,
    session: DB,
    actor: CurrentUser,
    unit_id: str | None = None,
    extra: str | None = None,
    skill: str | None = None,
    area_id: str | None = None,
):
    data = views.coverage_page(
        session,
        actor,
        form_id(unit_id, "unit_id"),
        extra=_int(extra),
        skill=skill or None,
        area_id=form_id(area_id, "area_id"),
    )
    v = data.view
    rep = v.report
    over_buildings = {o.id for o in rep.over_served if o.level == "building"}
    points = [
        {
            "id": b.unit_id,
            "name": v.names.get(b.unit_id, ""),
            "lon": v.positions[b.unit_id][0],
            "lat": v.positions[b.unit_id][1],
            "vulnerable": b.vulnerable,
            "covered": b.covered,
            "share": b.share,
            "uncovered": len(b.uncovered),
            "over": b.unit_id in over_buildings or b.over_served_residents > 0,
        }
        for b in rep.buildings.values()
        if b.unit_id in v.positions
    ]
    return render(
        request,
        "care_coverage.html",
        {
            "v": v,
            "data": data,
            "units": data.units,
            "unit_id": v.unit.id,
            "form": {"extra": extra or "", "skill": skill or "", "area_id": _int(area_id)},
            "points_json": json.dumps(points, ensure_ascii=False),
            **LABELS,
        },
    )
