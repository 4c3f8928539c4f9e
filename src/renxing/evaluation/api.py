"""JSON routes of public evaluation: rating, scorecards, the satisfaction report."""

from dataclasses import asdict

from fastapi import APIRouter, Query
from fastapi.responses import Response

from renxing.evaluation import report as rpt
from renxing.evaluation import service
from renxing.evaluation.service import RatingIn
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id

router = APIRouter(prefix="/api/v1/evaluation", tags=["evaluation"])


@router.get("/rateable", summary="The teams and organizations that served me (residents), with my rating")
def rateable(session: DB, actor: CurrentUser) -> list[dict]:
    return service.rateable(session, actor)


@router.post("/ratings", summary="Rate a team or organization for a quarter (again: update)")
def rate(data: RatingIn, session: DB, actor: CurrentUser) -> dict:
    row, created = service.rate(session, actor, data)
    return {
        "id": row.id,
        "created": created,
        "target_kind": row.target_kind,
        "target_id": row.target_id,
        "period": row.period,
        "variety": row.variety,
        "quality": row.quality,
        "responsiveness": row.responsiveness,
        "comment": row.comment,
        "basis": row.basis,
    }


@router.get("/scorecards", summary="Figures of every team and organization of a community")
def scorecards(
    session: DB,
    actor: CurrentUser,
    unit_id: Id | None = None,
    period: str | None = Query(None, description="2026Q4 or 2026"),
) -> dict:
    return service.scorecards(session, actor, unit_id, period)


@router.get("/scorecards/{kind}/{target_id}", summary="One scorecard: means, distribution, monthly trend, comments")
def scorecard(kind: str, target_id: Id, session: DB, actor: CurrentUser, period: str | None = None) -> dict:
    return service.scorecard(session, actor, kind, target_id, period)


@router.get("/report", summary="The public satisfaction report of a period: json, xlsx or pdf (aggregates only)")
def satisfaction_report(
    session: DB,
    actor: CurrentUser,
    period: str = Query(..., description="2026Q4 or 2026"),
    unit_id: Id | None = None,
    format: str = Query("json", pattern="^(json|xlsx|pdf)$"),
):
    report = service.satisfaction_report(session, actor, unit_id, period)
    name = f"{report.community}-满意度报告-{report.period}"
    if format == "xlsx":
        return Response(
            rpt.report_xlsx(report),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition(f"{name}.xlsx", f"satisfaction-{period}.xlsx")},
        )
    if format == "pdf":
        return Response(
            rpt.report_pdf(report),
            media_type="application/pdf",
            headers={"Content-Disposition": content_disposition(f"{name}.pdf", f"satisfaction-{period}.pdf")},
        )
    out = asdict(report)
    for row, src in zip(out["rows"], report.rows, strict=True):
        row["overall"] = src.overall
    return out
