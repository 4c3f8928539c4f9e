"""HTML pages of public evaluation: the residents' rating form (mobile), scorecards, the report."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from renxing.auth.policy import Perm
from renxing.errors import FieldError, Invalid
from renxing.evaluation import ratings, scorecards
from renxing.evaluation import report as rpt
from renxing.evaluation.models import DIMENSION_LABELS, DIMENSIONS
from renxing.evaluation.periods import default_period, previous_periods
from renxing.evaluation.schemas import RatingIn
from renxing.evaluation.served import BASIS_LABELS
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition
from renxing.i18n import _
from renxing.web import csrf, pagekit
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)


def _labels() -> dict[str, Any]:
    return {"DIMENSIONS": DIMENSIONS, "DIMENSION_LABELS": DIMENSION_LABELS, "BASIS_LABELS": BASIS_LABELS}


@router.get("/evaluation")
def home(request: Request, session: DB, actor: CurrentUser, saved: str | None = None):
    if not actor.can(Perm.evaluation_rate) or actor.resident_id is None:
        return RedirectResponse("/evaluation/scorecards", status_code=303)
    ctx = {**_labels(), "targets": ratings.rateable(session, actor), "saved": saved, "errors": {}}
    return render(request, "evaluation_form.html", ctx)


@router.post("/evaluation/rate")
def rate(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    data = {k: str(form.get(k) or "").strip() or None for k in ("target_kind", "target_id", "comment", *DIMENSIONS)}
    key = f"{data['target_kind']}-{data['target_id']}"
    try:
        ratings.rate(session, actor, RatingIn(**data))
    except ValidationError as exc:
        errors = pagekit.field_errors(exc)
    except Invalid as exc:
        errors = exc.errors or [FieldError("form", exc.message)]
    else:
        return RedirectResponse(f"/evaluation?saved={key}", status_code=303)
    ctx = {
        **_labels(),
        "targets": ratings.rateable(session, actor),
        "saved": None,
        "errors": {key: errors},
    }
    return render(request, "evaluation_form.html", ctx, status_code=422)


@router.get("/evaluation/scorecards")
def scorecards_page(
    request: Request, session: DB, actor: CurrentUser, unit_id: Id | None = None, period: str | None = None
):
    data = scorecards.scorecards(session, actor, unit_id, period or None)
    ctx = {**_labels(), "data": data, "period": period or "", "periods": previous_periods()}
    return render(request, "evaluation_scorecards.html", ctx)


@router.get("/evaluation/scorecards/{kind}/{target_id}")
def scorecard_page(
    request: Request, kind: str, target_id: Id, session: DB, actor: CurrentUser, period: str | None = None
):
    card = scorecards.scorecard(session, actor, kind, target_id, period or None)
    ctx = {**_labels(), "card": card, "period": period or "", "periods": previous_periods()}
    return render(request, "evaluation_scorecard.html", ctx)


@router.get("/evaluation/report")
def report_page(
    request: Request, session: DB, actor: CurrentUser, unit_id: Id | None = None, period: str | None = None
):
    period = period or default_period()
    report = scorecards.satisfaction_report(session, actor, unit_id, period)
    ctx = {
        **_labels(),
        "report": report,
        "period": period,
        "unit_id": unit_id,
        "periods": previous_periods(),
    }
    return render(request, "evaluation_report.html", ctx)


@router.get("/evaluation/report.{fmt}")
def report_file(request: Request, fmt: str, session: DB, actor: CurrentUser, period: str, unit_id: Id | None = None):
    if fmt not in ("xlsx", "pdf"):
        raise Invalid(_("格式应为 xlsx 或 pdf"), [FieldError("format", fmt)])
    report = scorecards.satisfaction_report(session, actor, unit_id, period)
    name = f"{report.community}-满意度报告-{report.period}.{fmt}"
    body, media = (
        (rpt.report_xlsx(report), XLSX_MEDIA_TYPE) if fmt == "xlsx" else (rpt.report_pdf(report), "application/pdf")
    )
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": content_disposition(name, f"satisfaction-{period}.{fmt}")},
    )
