"""Pages of incoming CAP alerts: the list with the upload form, one alert with its matched
communities on a map, and the polled feeds. Forms post here with the session's CSRF token; a
refusal shows the page again with each element or field at fault named, and nothing is written
(``incoming.receive`` refuses before it writes, so no savepoint is needed)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from renxing.errors import Conflict, FieldError, Invalid
from renxing.i18n import _
from renxing.listing import ListQuery
from renxing.warning import cap_schema, feeds, incoming
from renxing.warning import views_incoming as views
from renxing.warning.incoming_schemas import FeedIn, FeedPatch
from renxing.web import csrf
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm, field_errors
from renxing.web.params import Id, PageNo, form_id
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=100)]
LIST = "/warning/incoming"
FEEDS = "/warning/feeds"


def _query(
    state: str | None, level: str | None, q: str | None, page: int, feed_id: int | None = None
) -> tuple[ListQuery, dict]:
    params = {"state": state or None, "level": level or None, "q": q or None, "feed_id": feed_id}
    filters = {"level": level or None, "feed_id": feed_id}
    return ListQuery(page=page, size=views.PAGE_SIZE, q=q or None, filters=filters), params


@router.get(LIST)
def incoming_list(
    request: Request,
    session: DB,
    actor: CurrentUser,
    state: Text = None,
    level: Text = None,
    q: Text = None,
    feed_id: Text = None,
    page: PageNo = 1,
):
    query, params = _query(state, level, q, page, form_id(feed_id, "feed_id"))
    ctx = views.list_context(session, actor, query, params["state"], params)
    ctx["flash"] = request.query_params.get("done")
    return render(request, "incoming_list.html", ctx)


def _upload_bytes(form: FormData) -> bytes:
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise Invalid(_("请选择 CAP 文件"), [FieldError("file", _("请选择 CAP 文件"))])
    data = file.file.read(cap_schema.MAX_BYTES + 1)
    if not data or len(data) > cap_schema.MAX_BYTES:
        why = _("文件为空或超过 {mb} MB").format(mb=cap_schema.MAX_BYTES // (1024 * 1024))
        raise Invalid(why, [FieldError("file", why, value=file.filename)])
    return data


@router.post(f"{LIST}/upload")
def upload(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    dry_run = form.get("dry_run") == "on"
    try:
        got = incoming.receive(session, actor, _upload_bytes(form), source="upload", dry_run=dry_run)
    except Invalid as exc:
        query, params = _query(None, None, None, 1)
        ctx = views.list_context(session, actor, query, None, params)
        ctx.update(upload_message=exc.message, upload_errors=exc.errors, dry_run=dry_run)
        return render(request, "incoming_list.html", ctx, status_code=exc.status)
    if dry_run:
        query, params = _query(None, None, None, 1)
        ctx = views.list_context(session, actor, query, None, params)
        ctx.update(result=got, dry_run=True)
        return render(request, "incoming_list.html", ctx)
    done = "duplicate" if got.duplicate else "received"
    return RedirectResponse(f"{LIST}/{got.alert_id}?done={done}", status_code=303)


@router.get(LIST + "/{alert_id}")
def incoming_alert(request: Request, alert_id: Id, session: DB, actor: CurrentUser):
    ctx = views.alert_context(session, actor, alert_id)
    ctx["flash"] = request.query_params.get("done")
    return render(request, "incoming_alert.html", ctx)


# ---- feeds ----------------------------------------------------------------------------------------


def _feeds_page(request: Request, session, actor, status_code: int = 200, **extra):
    ctx = views.feeds_context(session, actor, ListQuery(page=1, size=100))
    ctx.update(flash=request.query_params.get("done"), **extra)
    return render(request, "incoming_feeds.html", ctx, status_code=status_code)


@router.get(FEEDS)
def feeds_page(request: Request, session: DB, actor: CurrentUser):
    return _feeds_page(request, session, actor)


def _feed_in(form: FormData) -> FeedIn:
    minutes = str(form.get("minutes") or "5").strip()
    values = {
        "name": str(form.get("name") or "").strip(),
        "url": str(form.get("url") or "").strip(),
        "interval_seconds": int(minutes) * 60 if minutes.isdigit() and len(minutes) < 6 else -1,
    }
    try:
        return FeedIn(**values)
    except ValidationError as exc:
        errors = [
            FieldError("minutes" if e.field == "interval_seconds" else e.field, e.message) for e in field_errors(exc)
        ]
        raise Invalid(_("输入有误"), errors) from exc


@router.post(FEEDS)
def create_feed(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    try:
        feeds.create_feed(session, actor, _feed_in(form))
    except (Invalid, Conflict) as exc:
        typed = {k: str(v) for k, v in form.items() if k in ("name", "url", "minutes")}
        errors = {e.field: e.message for e in exc.errors}
        return _feeds_page(request, session, actor, exc.status, errors=errors, values=typed, message=exc.message)
    return RedirectResponse(f"{FEEDS}?done=created", status_code=303)


@router.post(FEEDS + "/{feed_id}/poll")
def poll_feed(request: Request, feed_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    feeds.poll_now(session, actor, feed_id)
    return RedirectResponse(f"{FEEDS}?done=polled#feed-{feed_id}", status_code=303)


@router.post(FEEDS + "/{feed_id}/toggle")
def toggle_feed(request: Request, feed_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    feed = feeds.get_feed(session, actor, feed_id)
    feeds.update_feed(session, actor, feed_id, FeedPatch(active=not feed.active))
    return RedirectResponse(f"{FEEDS}?done=saved#feed-{feed_id}", status_code=303)


@router.post(FEEDS + "/{feed_id}/delete")
def delete_feed(request: Request, feed_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    feeds.delete_feed(session, actor, feed_id)
    return RedirectResponse(f"{FEEDS}?done=deleted", status_code=303)
