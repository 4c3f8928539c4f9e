"""JSON routes of drills and trainings: activities, sign-in, attendance, coverage."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from renxing import importing as cells
from renxing.auth.principal import Principal
from renxing.drills import activities, attendance, invitations, reach, signin, signin_sheet
from renxing.drills.schemas import (
    ActivityIn,
    ActivityOut,
    ActivityPatch,
    ActivityRow,
    AttendancePage,
    CoverageOut,
    Done,
    InviteeOut,
    SelfSignIn,
    SigninCodeOut,
    SignInOut,
    StaffSignIn,
    StaffSignInOut,
    UploadOut,
)
from renxing.errors import FieldError, Invalid, NotAuthenticated
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition, to_xlsx
from renxing.grid.service import get_unit
from renxing.listing import ListQuery
from renxing.web.deps import DB, SESSION_COOKIE, CurrentUser, current_principal, oauth2
from renxing.web.params import Id, ListParams, Moment, PageNo, PageSize
from renxing.web.schemas import XLSX, PageOut, file_answer

router = APIRouter(prefix="/api/v1/drills", tags=["drills"])


def maybe_user(request: Request, session: DB, bearer: Annotated[str | None, Depends(oauth2)]) -> Principal | None:
    """The signed-in user if there is one: sign-in by code also works without an account."""
    if not bearer and not request.cookies.get(SESSION_COOKIE):
        return None
    try:
        return current_principal(request, session, bearer)
    except NotAuthenticated:
        if bearer:
            raise
        return None  # a stale cookie: carry on as someone without an account


def invitation_sheet(session: Session, actor: Principal, unit_id: int | None) -> Response:
    """The residents not reached as a workbook, for the API and the coverage page alike."""
    root, headers, rows = invitations.export_not_reached(session, actor, unit_id)
    return Response(
        to_xlsx(headers, rows, sheet="待邀请居民"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(f"{root.name}-待邀请居民.xlsx", "not-reached.xlsx")},
    )


@router.get(
    "",
    response_model=PageOut[ActivityRow],
    summary="Activities visible to the user, one page (q: part of the title or place; sort: starts_at, title)",
)
def list_activities(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    since: Annotated[Moment | None, Query(description="starts at or after (ISO 8601)")] = None,
    until: Annotated[Moment | None, Query(description="starts before")] = None,
    kind: Annotated[str | None, Query(description="evacuation_drill, fire_drill, first_aid_training, ...")] = None,
    status: Annotated[str | None, Query(description="planned, done, cancelled")] = None,
    unit_id: Annotated[Id | None, Query(description="only this community (or the units under it)")] = None,
) -> dict:
    unit_path = get_unit(session, actor, unit_id).path if unit_id is not None else None
    query.filters = {
        "since": activities.aware(since) if since else None,
        "until": activities.aware(until) if until else None,
        "kind": kind,
        "status": status,
    }
    result = activities.list_activities(session, actor, query, unit_path=unit_path)
    counts = activities.attendance_counts(session, [a.id for a in result.items])
    return result.to_dict([activities.activity_row(a, counts.get(a.id, 0)) for a in result.items])


@router.get(
    "/coverage",
    response_model=CoverageOut,
    summary="Rolling 12-month coverage of a unit's subtree against the targets",
)
def coverage(session: DB, actor: CurrentUser, unit_id: Id | None = None) -> dict:
    return reach.coverage_report(session, actor, unit_id)


@router.get(
    "/coverage/not-reached",
    response_model=PageOut[InviteeOut],
    summary="Residents not reached in 12 months, the vulnerable first (masked)",
)
def not_reached(
    session: DB, actor: CurrentUser, unit_id: Id | None = None, page: PageNo = 1, size: PageSize | None = None
) -> dict:
    _root, result = invitations.not_reached(session, actor, unit_id, ListQuery(page=page, size=size))
    return result.to_dict(invitations.invite_rows(session, actor, [r for r, _urgency in result.items]))


@router.get(
    "/coverage/not-reached.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the residents to invite, phones in the clear"),
    summary="The invitation list as Excel, phones in the clear (audited)",
)
def not_reached_xlsx(session: DB, actor: CurrentUser, unit_id: Id | None = None) -> Response:
    return invitation_sheet(session, actor, unit_id)


@router.post("", status_code=201, response_model=ActivityOut, summary="Plan an activity")
def create_activity(data: ActivityIn, session: DB, actor: CurrentUser) -> dict:
    a = activities.create_activity(session, actor, data)
    return activities.get_activity(session, actor, a.id).to_dict()


@router.get(
    "/{activity_id}", response_model=ActivityOut, summary="One activity with partners, targets and the number signed in"
)
def get_activity(activity_id: Id, session: DB, actor: CurrentUser) -> dict:
    return activities.get_activity(session, actor, activity_id).to_dict()


@router.patch("/{activity_id}", response_model=ActivityOut, summary="Change, complete or cancel an activity")
def update_activity(activity_id: Id, patch: ActivityPatch, session: DB, actor: CurrentUser) -> dict:
    activities.update_activity(session, actor, activity_id, patch)
    return activities.get_activity(session, actor, activity_id).to_dict()


@router.get(
    "/{activity_id}/signin-code",
    response_model=SigninCodeOut,
    summary="The sign-in link and its QR code (SVG) to show at the event",
)
def signin_code(activity_id: Id, request: Request, session: DB, actor: CurrentUser) -> dict:
    return signin.signin_code(session, actor, activity_id, str(request.base_url))


@router.post(
    "/{activity_id}/signin",
    response_model=SignInOut,
    summary="Sign in by the event's code (as oneself, or by name and phone digits)",
)
def sign_in(
    activity_id: Id, data: SelfSignIn, session: DB, actor: Annotated[Principal | None, Depends(maybe_user)]
) -> dict:
    return signin.sign_in_self(session, actor, activity_id, data)


@router.get(
    "/{activity_id}/attendance",
    response_model=AttendancePage,
    summary="Who signed in (the residents in the user's scope), the latest first",
)
def attendance_list(
    activity_id: Id, session: DB, actor: CurrentUser, page: PageNo = 1, size: PageSize | None = None
) -> dict:
    result, total = attendance.attendance_list(session, actor, activity_id, ListQuery(page=page, size=size))
    out = result.to_dict([attendance.attendance_row(actor, att, r) for att, r in result.items])
    out["signed_in"] = total
    return out


@router.post("/{activity_id}/attendance", response_model=StaffSignInOut, summary="Staff sign residents in")
def add_attendance(activity_id: Id, data: StaffSignIn, session: DB, actor: CurrentUser) -> dict:
    return attendance.sign_in_by_staff(session, actor, activity_id, data.resident_ids)


@router.post(
    "/{activity_id}/attendance/upload",
    response_model=UploadOut,
    summary="Upload a sign-in sheet (姓名 + 身份证号 or 手机号); all or nothing",
)
def upload_attendance(activity_id: Id, session: DB, actor: CurrentUser, file: UploadFile = File(...)) -> dict:
    try:
        data = cells.read_upload(file.file)
    except cells.SheetError as exc:
        raise Invalid(str(exc), [FieldError("file", str(exc), value=file.filename)]) from exc
    return signin_sheet.import_attendance(session, actor, activity_id, data, file.filename or "upload.csv")


@router.delete("/{activity_id}/attendance/{resident_id}", response_model=Done, summary="Remove a sign-in")
def remove_attendance(activity_id: Id, resident_id: Id, session: DB, actor: CurrentUser) -> dict:
    attendance.remove_attendance(session, actor, activity_id, resident_id)
    return {"ok": True}
