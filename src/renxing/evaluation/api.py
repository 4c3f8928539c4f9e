"""JSON routes of public evaluation: rating, scorecards, the satisfaction report."""

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from renxing.evaluation import ratings, scorecards
from renxing.evaluation import report as rpt
from renxing.evaluation.schemas import RateableOut, RatingIn, RatingOut, ReportOut, ScorecardOut, ScorecardsOut
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id
from renxing.web.schemas import XLSX

router = APIRouter(prefix="/api/v1/evaluation", tags=["evaluation"])
PERIOD = "2026Q4 or 2026"
BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/rateable",
    response_model=list[RateableOut],
    summary="The teams and organizations that served me (residents), with my rating",
)
def rateable(session: DB, actor: CurrentUser) -> list[dict]:
    return ratings.rateable(session, actor)


@router.post("/ratings", response_model=RatingOut, summary="Rate a team or organization for a quarter (again: update)")
def rate(data: RatingIn, session: DB, actor: CurrentUser) -> dict:
    row, created = ratings.rate(session, actor, data)
    return ratings.rating_answer(row, created)


@router.get(
    "/scorecards", response_model=ScorecardsOut, summary="Figures of every team and organization of a community"
)
def list_scorecards(
    session: DB,
    actor: CurrentUser,
    unit_id: Id | None = None,
    period: str | None = Query(None, description=PERIOD),
) -> dict:
    return scorecards.scorecards(session, actor, unit_id, period)


@router.get(
    "/scorecards/{kind}/{target_id}",
    response_model=ScorecardOut,
    summary="One scorecard: means, distribution, monthly trend, comments",
)
def scorecard(kind: str, target_id: Id, session: DB, actor: CurrentUser, period: str | None = None) -> dict:
    return scorecards.scorecard(session, actor, kind, target_id, period)


@router.get(
    "/report",
    response_model=ReportOut,
    responses={
        200: {
            "description": "the report: JSON, or with format xlsx or pdf the file",
            "content": {XLSX: BINARY, "application/pdf": BINARY},
        }
    },
    summary="The public satisfaction report of a period: json, xlsx or pdf (aggregates only)",
)
def satisfaction_report(
    session: DB,
    actor: CurrentUser,
    period: str = Query(..., description=PERIOD),
    unit_id: Id | None = None,
    format: str = Query("json", pattern="^(json|xlsx|pdf)$"),
) -> Any:
    report = scorecards.satisfaction_report(session, actor, unit_id, period)
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
    return scorecards.report_answer(report)
