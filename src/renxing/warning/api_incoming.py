"""JSON routes of incoming CAP alerts: upload, list, read, the message as received, the polled feeds."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from renxing.errors import FieldError, Invalid
from renxing.i18n import _
from renxing.warning import cap_read, cap_schema, feeds, incoming
from renxing.warning.incoming_schemas import (
    AlertOut,
    AlertRowOut,
    Done,
    FeedIn,
    FeedOut,
    FeedPatch,
    PollOut,
    ReceivedOut,
)
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams
from renxing.web.schemas import PageOut, file_answer

router = APIRouter(prefix="/api/v1/warning", tags=["warning"])

CAP_MEDIA_TYPE = "application/cap+xml"
Choice = Annotated[str | None, Query(max_length=16)]


def _read_upload(file: UploadFile) -> bytes:
    """The file's bytes, at most a CAP message's limit (the body limit has already capped the request)."""
    data = file.file.read(cap_schema.MAX_BYTES + 1)
    if not data:
        raise Invalid(_("请选择 CAP 文件"), [FieldError("file", _("文件为空"), value=file.filename)])
    if len(data) > cap_schema.MAX_BYTES:
        why = _("文件超过 {mb} MB").format(mb=cap_schema.MAX_BYTES // (1024 * 1024))
        raise Invalid(why, [FieldError("file", why, value=file.filename)])
    return data


@router.post(
    "/incoming",
    status_code=201,
    response_model=ReceivedOut,
    summary="Receive a CAP 1.2 alert file (201 stored; 200 a duplicate or a dry run; 422 names the element)",
)
def upload(
    response: Response,
    session: DB,
    actor: CurrentUser,
    file: UploadFile = File(..., description="a CAP 1.2 XML message"),
    dry_run: Annotated[bool, Form(description="check and match, store nothing")] = False,
) -> dict:
    got = incoming.receive(session, actor, _read_upload(file), source="upload", dry_run=dry_run)
    if got.duplicate or got.dry_run:
        response.status_code = 200
    return got.__dict__


@router.get(
    "/incoming",
    response_model=PageOut[AlertRowOut],
    summary="Incoming alerts the user sees, one page (q: headline, event, identifier, area; sort: sent, received)",
)
def list_incoming(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    state: Annotated[str | None, Query(max_length=16, description=", ".join(incoming.STATES))] = None,
    level: Annotated[str | None, Query(max_length=8, description="blue, yellow, orange, red")] = None,
    status: Annotated[str | None, Query(max_length=16, description=", ".join(incoming.STATUSES))] = None,
    msg_type: Annotated[str | None, Query(max_length=16, description=", ".join(incoming.MSG_TYPES))] = None,
    source: Annotated[str | None, Query(max_length=16, description=", ".join(incoming.SOURCES))] = None,
    feed_id: Annotated[Id | None, Query()] = None,
):
    query.filters = {"level": level, "status": status, "msg_type": msg_type, "source": source, "feed_id": feed_id}
    page = incoming.list_alerts(session, actor, query, state=state)
    return page.to_dict(incoming.present_all(session, actor, page.items))


@router.get("/incoming/{alert_id:int}", response_model=AlertOut, summary="One incoming alert with its areas")
def get_incoming(alert_id: Id, session: DB, actor: CurrentUser) -> dict:
    return incoming.present_detail(session, actor, incoming.get_alert(session, actor, alert_id))


@router.get(
    "/incoming/{alert_id:int}/cap.xml",
    response_class=Response,
    responses=file_answer(CAP_MEDIA_TYPE, "the message as it was received"),
    summary="The CAP message as received",
)
def incoming_xml(alert_id: Id, session: DB, actor: CurrentUser) -> Response:
    row = incoming.get_alert(session, actor, alert_id)
    return Response(cap_read.document_bytes(row.xml), media_type=CAP_MEDIA_TYPE)


# ---- feeds ----------------------------------------------------------------------------------------


@router.get("/feeds", response_model=PageOut[FeedOut], summary="Polled feeds of CAP alerts (sort: name, polled)")
def list_feeds(session: DB, actor: CurrentUser, query: ListParams, active: bool | None = None):
    query.filters = {"active": active}
    page = feeds.list_feeds(session, actor, query)
    return page.to_dict(feeds.present_all(session, page.items))


@router.post("/feeds", status_code=201, response_model=FeedOut, summary="Add an Atom or RSS feed to poll")
def create_feed(data: FeedIn, session: DB, actor: CurrentUser) -> dict:
    return feeds.present_all(session, [feeds.create_feed(session, actor, data)])[0]


@router.get("/feeds/{feed_id:int}", response_model=FeedOut, summary="One feed")
def get_feed(feed_id: Id, session: DB, actor: CurrentUser) -> dict:
    return feeds.present_all(session, [feeds.get_feed(session, actor, feed_id)])[0]


@router.patch("/feeds/{feed_id:int}", response_model=FeedOut, summary="Change a feed (active=false stops polling)")
def update_feed(feed_id: Id, patch: FeedPatch, session: DB, actor: CurrentUser) -> dict:
    return feeds.present_all(session, [feeds.update_feed(session, actor, feed_id, patch)])[0]


@router.delete("/feeds/{feed_id:int}", response_model=Done, summary="Forget a feed (its alerts stay)")
def delete_feed(feed_id: Id, session: DB, actor: CurrentUser) -> dict:
    feeds.delete_feed(session, actor, feed_id)
    return {"ok": True}


@router.post("/feeds/{feed_id:int}/poll", response_model=PollOut, summary="Poll a feed now")
def poll_feed(feed_id: Id, session: DB, actor: CurrentUser) -> dict:
    return feeds.poll_now(session, actor, feed_id).__dict__
