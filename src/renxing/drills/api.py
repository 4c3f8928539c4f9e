"""JSON routes of drills and trainings: activities, sign-in, attendance, coverage."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response

from renxing import importing as cells
from renxing.auth.principal import Principal
from renxing.drills import service
from renxing.drills.schemas import ActivityIn, ActivityPatch, SelfSignIn, StaffSignIn
from renxing.errors import FieldError, Invalid, NotAuthenticated
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition, to_xlsx
from renxing.grid.service import get_unit
from renxing.web.deps import DB, SESSION_COOKIE, CurrentUser, current_principal, oauth2
from renxing.web.params import Id, Moment, PageNo, PageSize

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


@router.get("", summary="Activities visible to the user, one page")
def list_activities(
    session: DB,
    actor: CurrentUser,
    since: Annotated[Moment | None, Query(description="starts at or after (ISO 8601)")] = None,
    until: Annotated[Moment | None, Query(description="starts before")] = None,
    kind: str | None = None,
    status: str | None = None,
    q: str | None = Query(None, description="part of the title or place"),
    unit_id: Annotated[Id | None, Query(description="only this community (or the units under it)")] = None,
    sort: str = Query("-starts_at", description="starts_at, -starts_at, title"),
    page: PageNo = 1,
    size: PageSize | None = None,
) -> dict:
    unit_path = get_unit(session, actor, unit_id).path if unit_id is not None else None
    result = service.list_activities(
        session,
        actor,
        since=service.aware(since) if since else None,
        until=service.aware(until) if until else None,
        kind=kind,
        status=status,
        q=q,
        unit_path=unit_path,
        sort=sort,
        page=page,
        size=size,
    )
    counts = service.attendance_counts(session, [a.id for a in result.items])
    return result.to_dict(
        [
            {
                "id": a.id,
                "unit_id": a.unit_id,
                "kind": a.kind,
                "hazard": a.hazard,
                "title": a.title,
                "starts_at": a.starts_at.isoformat(),
                "ends_at": a.ends_at.isoformat(),
                "place": a.place,
                "status": a.status,
                "attendance": counts.get(a.id, 0),
            }
            for a in result.items
        ]
    )


@router.get("/coverage", summary="Rolling 12-month coverage of a unit's subtree against the targets")
def coverage(session: DB, actor: CurrentUser, unit_id: Id | None = None) -> dict:
    return service.coverage_report(session, actor, unit_id)


@router.get("/coverage/not-reached", summary="Residents not reached in 12 months, the vulnerable first (masked)")
def not_reached(
    session: DB, actor: CurrentUser, unit_id: Id | None = None, page: PageNo = 1, size: PageSize | None = None
) -> dict:
    _, result = service.not_reached(session, actor, unit_id, page, size)
    rows = service.invite_rows(session, actor, [r for r, _ in result.items])
    return result.to_dict(rows)


@router.get("/coverage/not-reached.xlsx", summary="The invitation list as Excel, phones in the clear (audited)")
def not_reached_xlsx(session: DB, actor: CurrentUser, unit_id: Id | None = None) -> Response:
    root, headers, rows = service.export_not_reached(session, actor, unit_id)
    return Response(
        to_xlsx(headers, rows, sheet="待邀请居民"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(f"{root.name}-待邀请居民.xlsx", "not-reached.xlsx")},
    )


@router.post("", status_code=201, summary="Plan an activity")
def create_activity(data: ActivityIn, session: DB, actor: CurrentUser) -> dict:
    a = service.create_activity(session, actor, data)
    return service.get_activity(session, actor, a.id).to_dict()


@router.get("/{activity_id}", summary="One activity with partners, targets and the number signed in")
def get_activity(activity_id: Id, session: DB, actor: CurrentUser) -> dict:
    return service.get_activity(session, actor, activity_id).to_dict()


@router.patch("/{activity_id}", summary="Change, complete or cancel an activity")
def update_activity(activity_id: Id, patch: ActivityPatch, session: DB, actor: CurrentUser) -> dict:
    service.update_activity(session, actor, activity_id, patch)
    return service.get_activity(session, actor, activity_id).to_dict()


@router.get("/{activity_id}/signin-code", summary="The sign-in link and its QR code (SVG) to show at the event")
def signin_code(activity_id: Id, request: Request, session: DB, actor: CurrentUser) -> dict:
    return service.signin_code(session, actor, activity_id, str(request.base_url))


@router.post("/{activity_id}/signin", summary="Sign in by the event's code (as oneself, or by name and phone digits)")
def sign_in(
    activity_id: Id, data: SelfSignIn, session: DB, actor: Annotated[Principal | None, Depends(maybe_user)]
) -> dict:
    return service.sign_in_self(session, actor, activity_id, data)


@router.get("/{activity_id}/attendance", summary="Who signed in (the residents in the user's scope)")
def attendance(
    activity_id: Id, session: DB, actor: CurrentUser, page: PageNo = 1, size: PageSize | None = None
) -> dict:
    result, total = service.attendance_list(session, actor, activity_id, page, size)
    out = result.to_dict([service.attendance_row(actor, att, r) for att, r in result.items])
    out["signed_in"] = total
    return out


@router.post("/{activity_id}/attendance", summary="Staff sign residents in")
def add_attendance(activity_id: Id, data: StaffSignIn, session: DB, actor: CurrentUser) -> dict:
    return service.sign_in_by_staff(session, actor, activity_id, data.resident_ids)


@router.post(
    "/{activity_id}/attendance/upload", summary="Upload a sign-in sheet (姓名 + 身份证号 or 手机号); all or nothing"
)
def upload_attendance(activity_id: Id, session: DB, actor: CurrentUser, file: UploadFile = File(...)) -> dict:
    try:
        data = cells.read_upload(file.file)
    except cells.SheetError as exc:
        raise Invalid(str(exc), [FieldError("file", str(exc), value=file.filename)]) from exc
    return service.import_attendance(session, actor, activity_id, data, file.filename or "upload.csv")


@router.delete("/{activity_id}/attendance/{resident_id}", summary="Remove a sign-in")
def remove_attendance(activity_id: Id, resident_id: Id, session: DB, actor: CurrentUser) -> dict:
    service.remove_attendance(session, actor, activity_id, resident_id)
    return {"ok": True}
