"""JSON routes of the closed loop under ``/api/v1``: reports and their actions, categories,
deadlines, routing rules and the state machine.

A report is submitted as JSON, or as ``multipart/form-data`` with the same fields and up to
six ``photos`` files. An action is ``POST /api/v1/reports/{id}/{action}`` with a JSON body
(:class:`~renxing.events.schemas.ActionIn`), or multipart with a ``photo`` file for
``check_in`` and ``resolve``. Errors come in the house format ``{"detail", "errors": [...]}``.

``POST /api/v1/reports`` takes an ``Idempotency-Key`` header: a retry with the same key
answers with the first report (and ``Idempotent-Replayed: true``) instead of filing another.
Staff read and write what the public sees of a report under ``/reports/{id}/public``.
"""

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import Field
from starlette.datastructures import UploadFile

from renxing.auth.audit import snapshot
from renxing.config import get_settings
from renxing.errors import FieldError, Invalid
from renxing.events import access, actions, catalog, idempotency, intake, media, merging, publication, queries, stats
from renxing.events.models import EventCategory, RoutingRule, SeverityDeadline
from renxing.events.policy import MAX_PHOTO_BYTES, MAX_PHOTOS, Channel
from renxing.events.schemas import (
    ActionIn,
    CandidateOut,
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    DeadlineOut,
    DeadlinePatch,
    HotspotOut,
    IntakeOut,
    OkOut,
    PublicityOut,
    PublicTextIn,
    ReportIn,
    ReportOut,
    ReportViewOut,
    RuleIn,
    RuleOut,
    RulePatch,
    StatesOut,
    StatsOut,
)
from renxing.i18n import _
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams, Moment
from renxing.web.schemas import PageOut

router = APIRouter(prefix="/api/v1", tags=["reports"])

JSON_FIELDS = ("attributes",)


class ReportBody(ReportIn):
    """A new report as the API takes it: the report, and the channel it came by."""

    channel: str = Field(Channel.api.value, description="the channel, api unless a client files for another")


class ReportForm(ReportBody):
    """The same fields as a form; ``attributes`` is JSON text, the photos are files."""

    attributes: str | None = Field(None, description="a JSON object, as text")  # type: ignore[assignment]
    idempotency_key: str | None = Field(None, description="instead of the Idempotency-Key header")
    photos: list[bytes] = Field([], description=f"up to {MAX_PHOTOS} photos (JPEG, PNG, WebP)")


class ActionForm(ActionIn):
    photo: bytes | None = Field(None, description="check_in and resolve: one photo")


# Photos are stored cleaned, in one of the formats events.media keeps.
PHOTO_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the photo",
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t, _ in media.FORMATS.values()},
    }
}


def _body_doc(json_model: type, form_model: type) -> dict[str, Any]:
    """The body as documented, and so as accepted (``web.deps.api_body_guard``): JSON, or a
    form with the same fields, multipart with the photo file(s)."""
    form = form_model.model_json_schema()
    content = {
        "application/json": {"schema": json_model.model_json_schema()},
        "multipart/form-data": {"schema": form},
        "application/x-www-form-urlencoded": {"schema": form},
    }
    return {"requestBody": {"required": False, "content": content}}


async def _read_body(request: Request, file_field: str, max_files: int) -> tuple[dict[str, Any], list[bytes]]:
    """The request's fields and files, from JSON or multipart; files are read at most one byte
    past the size limit so the service can refuse them without holding more in memory."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data") or ctype.startswith("application/x-www-form-urlencoded"):
        form = await request.form(max_files=max_files + 1)
        fields: dict[str, Any] = {}
        files: list[bytes] = []
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key == file_field and len(files) <= max_files:
                    files.append(await value.read(MAX_PHOTO_BYTES + 1))
                elif key != file_field:
                    raise Invalid(_("意外的文件"), [FieldError(key, "not a file field")])
            elif value != "":
                try:
                    fields[key] = json.loads(value) if key in JSON_FIELDS else value
                except ValueError as exc:
                    raise Invalid(_("JSON 格式错误"), [FieldError(key, str(exc))]) from exc
        return fields, files
    body = await request.body()
    if not body.strip():
        return {}, []
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise Invalid(_("JSON 格式错误"), [FieldError("body", str(exc))]) from exc
    if not isinstance(data, dict):
        raise Invalid(_("须为 JSON 对象"), [FieldError("body", "not an object")])
    return data, []


def _local(value: datetime | None) -> datetime | None:
    """A naive date-time from a query is local time (Asia/Shanghai by default)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(get_settings().timezone))


# ---- reports ----------------------------------------------------------------------------


@router.post(
    "/reports",
    status_code=201,
    summary="Submit a report (JSON, or multipart with up to 6 photos)",
    response_model=IntakeOut,
    openapi_extra=_body_doc(ReportBody, ReportForm),
)
async def submit(request: Request, response: Response, session: DB, actor: CurrentUser) -> dict:
    fields, files = await _read_body(request, "photos", MAX_PHOTOS)
    key = idempotency.read_key(request.headers.get(idempotency.HEADER), fields.pop(idempotency.FORM_FIELD, None))
    channel = fields.pop("channel", Channel.api.value)
    client = f"user:{actor.user_id}"

    def work() -> dict:
        if key is not None:
            fp = idempotency.fingerprint("api", {**fields, "channel": channel}, files)
            prior = idempotency.begin(session, client, key, fp)
            if prior is not None:  # a retry: the first report, nothing new
                response.headers[idempotency.REPLAYED] = "true"
                first = access.get_report(session, actor, prior.report_id)
                return queries.intake_answer(session, actor, first, with_photos=bool(files))
        report = intake.submit_report(session, actor, fields, channel=channel, photos=files)
        if key is not None:
            idempotency.finish(session, client, key, report.id)
        return queries.intake_answer(session, actor, report, with_photos=bool(files))

    return await run_in_threadpool(work)


@router.get("/reports", summary="Reports the user may see, filtered, one page", response_model=PageOut[ReportOut])
def list_reports(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    state: Annotated[list[str] | None, Query()] = None,
    category: str | None = None,
    unit_id: Id | None = None,
    handler_user_id: Id | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    overdue: bool | None = None,
    channel: str | None = None,
) -> dict:
    """Sort by ``created`` (``-created``, newest first, is the default) or ``due``; ``q`` searches
    the description and address."""
    query.filters = {
        "state": state,
        "category": category,
        "unit_id": unit_id,
        "handler_user_id": handler_user_id,
        "since": _local(since),
        "until": _local(until),
        "overdue": overdue,
        "channel": channel,
    }
    result = queries.list_reports(session, actor, query)
    return result.to_dict([queries.present(r, actor, access.kinds_of(session, actor, r)) for r in result.items])


@router.get(
    "/reports/inbox",
    summary="My open reports (handled or supervised), by deadline",
    response_model=PageOut[ReportOut],
)
def inbox(session: DB, actor: CurrentUser, query: ListParams, escalated: bool = True) -> dict:
    result = queries.inbox(session, actor, query, escalated=escalated)
    return result.to_dict([queries.present(r, actor, access.kinds_of(session, actor, r)) for r in result.items])


@router.get("/reports/stats", summary="Dashboard numbers by unit, category, handler or month", response_model=StatsOut)
def report_stats(
    session: DB,
    actor: CurrentUser,
    group_by: str = "category",
    since: Moment | None = None,
    until: Moment | None = None,
    unit_id: Id | None = None,
    level: str = "community",
    category: str | None = None,
) -> dict:
    return stats.stats(
        session,
        actor,
        group_by=group_by,
        since=_local(since),
        until=_local(until),
        unit_id=unit_id,
        level=level,
        category=category,
    )


@router.get("/reports/hotspots", summary="Reports binned on the map", response_model=list[HotspotOut])
def hotspots(
    session: DB,
    actor: CurrentUser,
    since: Moment | None = None,
    until: Moment | None = None,
    category: str | None = None,
    open_only: bool = False,
    cell_m: float = 100.0,
) -> list[dict]:
    return stats.hotspots(
        session,
        actor,
        since=_local(since),
        until=_local(until),
        category=category,
        open_only=open_only,
        cell_m=cell_m,
    )


@router.get(
    "/reports/{report_id}",
    summary="One report with its timeline and the actions open to me",
    response_model=ReportViewOut,
)
def get_report(report_id: Id, session: DB, actor: CurrentUser) -> dict:
    return queries.report_view(session, actor, report_id)


@router.get(
    "/reports/{report_id}/candidates",
    summary="Nearby open reports of the same category, to merge",
    response_model=list[CandidateOut],
)
def candidates(
    report_id: Id,
    session: DB,
    actor: CurrentUser,
    radius_m: Annotated[float, Field(gt=0, le=5000)] = 50,
    hours: Annotated[int, Field(ge=1, le=24 * 365)] = 24,
) -> list[dict]:
    return [
        {**queries.present(r, actor), "distance_m": d}
        for r, d in merging.merge_candidates(session, actor, report_id, radius_m=radius_m, hours=hours)
    ]


@router.get(
    "/reports/{report_id}/public",
    summary="Whether the public sees a report, why not, and what it reads",
    response_model=PublicityOut,
)
def public_of(report_id: Id, session: DB, actor: CurrentUser) -> dict:
    return publication.publicity(session, actor, report_id)


@router.put(
    "/reports/{report_id}/public-text",
    summary="Set the text the public reads of a report (staff)",
    response_model=PublicityOut,
)
def set_public_text(report_id: Id, data: PublicTextIn, session: DB, actor: CurrentUser) -> dict:
    """An empty text withdraws it; names, numbers and rooms are taken out whenever it is shown."""
    return publication.set_public_text(session, actor, report_id, data.text)


@router.get(
    "/reports/{report_id}/photos/{photo_id}",
    summary="A photo of a report",
    response_class=FileResponse,
    responses=PHOTO_ANSWER,
)
def photo(report_id: Id, photo_id: Id, session: DB, actor: CurrentUser) -> FileResponse:
    row, path = queries.photo_file(session, actor, report_id, photo_id)
    return FileResponse(path, media_type=row.content_type, headers={"Cache-Control": "private, max-age=3600"})


@router.post(
    "/reports/{report_id}/{action}",
    summary="assign, transfer, accept, check_in, resolve, close, reject, merge, reopen or feedback",
    response_model=ReportViewOut,
    openapi_extra=_body_doc(ActionIn, ActionForm),
)
async def act(report_id: Id, action: str, request: Request, session: DB, actor: CurrentUser) -> dict:
    fields, files = await _read_body(request, "photo", 1)
    if len(files) > 1:
        raise Invalid(_("只能上传一张照片"), [FieldError("photo", "one photo only")])

    def work() -> dict:
        actions.perform(session, actor, report_id, action, fields, photo=files[0] if files else None)
        return queries.report_view(session, actor, report_id)

    return await run_in_threadpool(work)


# ---- configuration ----------------------------------------------------------------------


def category_dict(c: EventCategory) -> dict:
    return {
        "code": c.code,
        "name_zh": c.name_zh,
        "name_en": c.name_en,
        "description": c.description,
        "group": c.group_name,
        "default_severity": c.default_severity,
        "handler_kind": c.handler_kind,
        "active": c.active,
        "editable": c.editable,
        "private": c.private,
        "sort_order": c.sort_order,
    }


@router.get("/categories", tags=["categories"], summary="Report categories (public)", response_model=list[CategoryOut])
def list_categories(session: DB, include_inactive: bool = False) -> list[dict]:
    return [category_dict(c) for c in catalog.list_categories(session, include_inactive=include_inactive)]


@router.post(
    "/categories",
    status_code=201,
    tags=["categories"],
    summary="Add a category (street admin)",
    response_model=CategoryOut,
)
def create_category(data: CategoryIn, session: DB, actor: CurrentUser) -> dict:
    return category_dict(catalog.create_category(session, actor, data))


@router.patch(
    "/categories/{code}",
    tags=["categories"],
    summary="Change or deactivate a category (street admin)",
    response_model=CategoryOut,
)
def update_category(code: str, patch: CategoryPatch, session: DB, actor: CurrentUser) -> dict:
    return category_dict(catalog.update_category(session, actor, code, patch))


def deadline_dict(d: SeverityDeadline) -> dict:
    return {
        "severity": d.severity,
        "label": {"zh": d.label_zh, "en": d.label_en},
        "rank": d.rank,
        "accept_minutes": d.accept_minutes,
        "on_site_minutes": d.on_site_minutes,
        "resolve_minutes": d.resolve_minutes,
    }


@router.get(
    "/severities",
    tags=["categories"],
    summary="Deadlines per severity (minutes from submission)",
    response_model=list[DeadlineOut],
)
def list_deadlines(session: DB, actor: CurrentUser) -> list[dict]:
    return [deadline_dict(d) for d in catalog.list_deadlines(session)]


@router.patch(
    "/severities/{severity}",
    tags=["categories"],
    summary="Change a severity's deadlines (street admin)",
    response_model=DeadlineOut,
)
def update_deadline(severity: str, patch: DeadlinePatch, session: DB, actor: CurrentUser) -> dict:
    return deadline_dict(catalog.update_deadline(session, actor, severity, patch))


@router.get(
    "/report-states",
    tags=["categories"],
    summary="The states and transitions of a report",
    response_model=StatesOut,
)
def report_states(session: DB, actor: CurrentUser) -> dict:
    return {
        "states": [
            {"code": s.code, "label": {"zh": s.label_zh, "en": s.label_en}, "terminal": s.terminal, "step": s.step}
            for s in catalog.states(session)
        ],
        "transitions": [
            {
                "from": t.from_state,
                "action": t.action,
                "to": t.to_state,
                "actors": t.actors.split(","),
                "requires_note": t.requires_note,
            }
            for t in catalog.transitions(session)
        ],
    }


def rule_dict(r: RoutingRule) -> dict:
    return snapshot(r)


@router.get("/routing-rules", tags=["categories"], summary="Routing rules (staff)", response_model=list[RuleOut])
def list_rules(session: DB, actor: CurrentUser) -> list[dict]:
    return [rule_dict(r) for r in catalog.list_rules(session, actor)]


@router.post(
    "/routing-rules",
    status_code=201,
    tags=["categories"],
    summary="Add a routing rule (staff)",
    response_model=RuleOut,
)
def create_rule(data: RuleIn, session: DB, actor: CurrentUser) -> dict:
    return rule_dict(catalog.create_rule(session, actor, data))


@router.patch(
    "/routing-rules/{rule_id}", tags=["categories"], summary="Change a routing rule (staff)", response_model=RuleOut
)
def update_rule(rule_id: Id, patch: RulePatch, session: DB, actor: CurrentUser) -> dict:
    return rule_dict(catalog.update_rule(session, actor, rule_id, patch))


@router.delete(
    "/routing-rules/{rule_id}", tags=["categories"], summary="Remove a routing rule (staff)", response_model=OkOut
)
def delete_rule(rule_id: Id, session: DB, actor: CurrentUser) -> dict:
    catalog.delete_rule(session, actor, rule_id)
    return {"ok": True}
