"""JSON routes of warnings sent: compose, edit, send, approve or refuse, update, cancel; the
colour → CAP table."""

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from renxing.errors import NotFound
from renxing.i18n import _
from renxing.warning import approving, composing, following, levels
from renxing.warning.atom import CAP_MEDIA_TYPE
from renxing.warning.schemas import (
    CancelIn,
    LevelOut,
    LevelPatch,
    RefuseIn,
    UpdateIn,
    WarningIn,
    WarningOut,
    WarningPatch,
    WarningRow,
)
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams
from renxing.web.schemas import PageOut, file_answer

router = APIRouter(prefix="/api/v1/warning", tags=["warning"])

Status = Annotated[str | None, Query(max_length=12, description="draft, pending, sent, rejected, withdrawn")]
Colour = Annotated[str | None, Query(max_length=8, description="blue, yellow, orange, red")]
MsgType = Annotated[str | None, Query(max_length=8, description="Alert, Update, Cancel")]
LevelCode = Annotated[str, Path(max_length=8, description="blue, yellow, orange, red")]


@router.get(
    "/warnings",
    response_model=PageOut[WarningRow],
    summary="Warnings the reader may see, one page (q: headline, event, identifier; sort: created, sent, level)",
)
def list_warnings(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    status: Status = None,
    level: Colour = None,
    msg_type: MsgType = None,
    unit_id: Annotated[Id | None, Query()] = None,
):
    query.filters = {"status": status, "level": level, "msg_type": msg_type, "unit_id": unit_id}
    page = composing.list_warnings(session, actor, query)
    return page.to_dict([composing.present_row(w) for w in page.items])


@router.post("/warnings", status_code=201, response_model=WarningOut, summary="Compose a draft warning")
def compose(data: WarningIn, session: DB, actor: CurrentUser) -> dict:
    return composing.present(actor, composing.compose(session, actor, data))


@router.get("/warnings/{warning_id:int}", response_model=WarningOut, summary="One warning")
def get_warning(warning_id: Id, session: DB, actor: CurrentUser) -> dict:
    return composing.present(actor, composing.get_warning(session, actor, warning_id))


@router.patch("/warnings/{warning_id:int}", response_model=WarningOut, summary="Change a draft")
def edit(warning_id: Id, patch: WarningPatch, session: DB, actor: CurrentUser) -> dict:
    return composing.present(actor, composing.edit(session, actor, warning_id, patch))


@router.get(
    "/warnings/{warning_id:int}/cap.xml",
    response_class=Response,
    responses=file_answer(CAP_MEDIA_TYPE, "the CAP 1.2 message as transmitted"),
    summary="A sent warning's CAP message (public or restricted)",
)
def cap_xml(warning_id: Id, session: DB, actor: CurrentUser) -> Response:
    warning = composing.get_warning(session, actor, warning_id)
    if warning.cap_xml is None:
        raise NotFound(_("预警尚未发出，没有 CAP 消息"))
    return Response(warning.cap_xml, media_type=CAP_MEDIA_TYPE)


@router.post(
    "/warnings/{warning_id:int}/send",
    response_model=WarningOut,
    summary="Send a draft: at once (blue, yellow, exercises) or pending a second staff member's approval",
)
def send(warning_id: Id, session: DB, actor: CurrentUser) -> dict:
    return composing.present(actor, approving.send(session, actor, warning_id))


@router.post(
    "/warnings/{warning_id:int}/approve",
    response_model=WarningOut,
    summary="Approve a pending warning composed by someone else: it is sent",
)
def approve(warning_id: Id, session: DB, actor: CurrentUser) -> dict:
    return composing.present(actor, approving.approve(session, actor, warning_id))


@router.post(
    "/warnings/{warning_id:int}/refuse", response_model=WarningOut, summary="Refuse a pending warning, saying why"
)
def refuse(warning_id: Id, data: RefuseIn, session: DB, actor: CurrentUser) -> dict:
    return composing.present(actor, approving.refuse(session, actor, warning_id, data.reason))


@router.post(
    "/warnings/{warning_id:int}/withdraw", response_model=WarningOut, summary="Withdraw a draft or pending warning"
)
def withdraw(warning_id: Id, session: DB, actor: CurrentUser) -> dict:
    return composing.present(actor, approving.withdraw(session, actor, warning_id))


@router.post(
    "/warnings/{warning_id:int}/update",
    status_code=201,
    response_model=WarningOut,
    summary="Send an Update of a sent warning (a new message referencing it)",
)
def update(warning_id: Id, data: UpdateIn, session: DB, actor: CurrentUser) -> dict:
    return composing.present(actor, following.update(session, actor, warning_id, data))


@router.post(
    "/warnings/{warning_id:int}/cancel",
    status_code=201,
    response_model=WarningOut,
    summary="Send a Cancel (解除) of a sent warning (a new message referencing it)",
)
def cancel(warning_id: Id, data: CancelIn, session: DB, actor: CurrentUser) -> dict:
    return composing.present(actor, following.cancel(session, actor, warning_id, data))


@router.get("/levels", response_model=list[LevelOut], summary="The colour → CAP severity, urgency, certainty table")
def list_levels(session: DB, actor: CurrentUser) -> list[dict]:
    return [levels.present(row) for row in levels.list_levels(session, actor)]


@router.patch("/levels/{code}", response_model=LevelOut, summary="Change a colour's CAP mapping (street admins)")
def update_level(code: LevelCode, patch: LevelPatch, session: DB, actor: CurrentUser) -> dict:
    return levels.present(levels.update_level(session, actor, code, patch))
