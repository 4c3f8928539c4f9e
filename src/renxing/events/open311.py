"""Open311 GeoReport v2 under ``/open311/v2/``, in XML (the spec's required format) and JSON.

    GET  discovery.{fmt}                 GET  services.{fmt}          GET services/{code}.{fmt}
    POST requests.{fmt}  (form-encoded or multipart, api_key required) GET requests.{fmt}
    GET  requests/{id}.{fmt}             GET  tokens/{token}.{fmt}

A POST may carry the photo as a multipart file ``media`` (instead of, or with, ``media_url``):
it goes through the same checks and cleaning as every photo (EXIF and GPS removed). Two
extensions of the spec: ``public_consent=true`` when the reporter agreed that a moderated copy
may be public (the default is private), and an idempotency key (the ``Idempotency-Key``
header or the ``idempotency_key`` field): a retry with the same key answers as the first
time and files nothing new. Reads show public reports only (:mod:`renxing.events.publication`).

Every answer, errors too, is in the format asked for; errors are the spec's own list
(``[{"code": 400, "description": "…"}]`` / ``<errors><error>…</error></errors>``) with 400
for bad parameters, 403 for a missing or invalid api_key and 404 for what does not exist.
Each request is one transaction: on any error nothing is stored. Parameters are read here by
hand (not by FastAPI's validation) so that even malformed ones get the spec's error body.

This module is the HTTP side only; the work is :mod:`~renxing.events.open311_services`
(services, definitions, jurisdictions), :mod:`~renxing.events.open311_intake` (POST, with
:mod:`~renxing.events.open311_address`) and :mod:`~renxing.events.open311_search` (reads);
the shapes documented for each route are :mod:`~renxing.events.open311_schemas`.
"""

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException

from renxing.apikeys import service as apikeys
from renxing.config import get_settings
from renxing.errors import Forbidden, NotAuthenticated, NotFound, ServiceError
from renxing.events import idempotency, open311_intake, open311_search, open311_services
from renxing.events.open311_schemas import (
    CreatedOut,
    DiscoveryOut,
    Open311ErrorOut,
    RequestIn,
    ServiceDefinitionOut,
    ServiceOut,
    ServiceRequestOut,
    TokenOut,
    post_body_schema,
)
from renxing.events.policy import MAX_PHOTO_BYTES
from renxing.i18n import _, _l

router = APIRouter(prefix="/open311/v2", tags=["open311"])

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The Spark convention: a list in JSON is a wrapper element of repeated items in XML.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
POST_FIELDS = set(RequestIn.model_fields) - {"attributes"}
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,60})\](\[\])?$")
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry
BAD_FORMAT = _l("格式应为 json 或 xml")
MEDIA = "media"  # the multipart file field some clients send the photo in


def documented(model: Any, xml_root: str) -> dict[int | str, dict[str, Any]]:
    """The answers of a route as sent: 200 in JSON (the model) or XML (``<xml_root>``), and the
    spec's error list with 400. (403 and 404 carry the same list; the app documents its own shape.)"""
    text = {"schema": {"type": "string", "description": f"the same fields as XML, in <{xml_root}>"}}
    errors = {"schema": {"type": "string", "description": "<errors><error><code/><description/></error></errors>"}}
    return {
        200: {"model": model, "description": "in the format the path names", "content": {"text/xml": text}},
        400: {"model": list[Open311ErrorOut], "description": "a bad parameter", "content": {"text/xml": errors}},
    }


# ---- rendering ---------------------------------------------------------------------------


def _fill(el: ET.Element, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(el, ITEMS[el.tag]), item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(el, key), item)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = NOT_XML.sub("", str(value))


def to_xml(root: str, payload: Any) -> str:
    el = ET.Element(root)
    _fill(el, payload)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(el, encoding="unicode")


def render(fmt: str, root: str, payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False) if fmt == "json" else to_xml(root, payload)
    return Response(body.encode("utf-8"), status_code=status, media_type=FORMATS[fmt])


def errors(fmt: str, status: int, descriptions: list[str]) -> Response:
    return render(fmt, "errors", [{"code": status, "description": d} for d in descriptions], status)


def _status(exc: ServiceError) -> int:
    if isinstance(exc, Forbidden | NotAuthenticated):
        return 403
    if isinstance(exc, NotFound):
        return 404
    return 400  # Invalid, Conflict and anything else the client can fix


def _descriptions(exc: ServiceError) -> list[str]:
    if isinstance(exc, NotFound) or not exc.errors:
        return [exc.message]
    return [f"{e.field}: {e.message}" for e in exc.errors]


# ---- one transaction per request ---------------------------------------------------------


@contextmanager
def _unit_of_work(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session, session.begin():
        yield session


def _answer(request: Request, fmt: str, root: str, work: Callable[[Session], Any]) -> Response:
    """Run ``work`` in a transaction and render its result; a ServiceError rolls everything
    back and becomes the spec's error list."""
    try:
        with _unit_of_work(request) as session:
            payload = work(session)
    except ServiceError as exc:
        return errors(fmt, _status(exc), _descriptions(exc))
    return render(fmt, root, payload)


def _format(fmt: str) -> str | None:
    fmt = fmt.lower()
    return fmt if fmt in FORMATS else None


def _split(ref: str) -> tuple[str, str | None]:
    """'fire_hazard.json' → ('fire_hazard', 'json'); the format None when missing or unknown."""
    name, dot, fmt = ref.rpartition(".")
    return (name, _format(fmt)) if dot and name else (ref, None)


def _one(q: QueryParams, name: str) -> str | None:
    value = (q.get(name) or "").strip()
    return value or None  # the spec: an empty optional argument is no argument


def _many(q: QueryParams, name: str) -> str | None:
    values = [v.strip() for v in q.getlist(name) if v.strip()]
    return ",".join(values) or None


# ---- routes ------------------------------------------------------------------------------


@router.get("/discovery.{fmt}", summary="Open311 service discovery", responses=documented(DiscoveryOut, "discovery"))
def discovery(fmt: str, request: Request) -> Response:
    f = _format(fmt)
    if f is None:
        return errors("xml", 404, [BAD_FORMAT])
    return render(f, "discovery", open311_services.discovery(get_settings().public_url))


@router.get(
    "/services.{fmt}",
    summary="Open311: the service list (one per report category)",
    responses=documented(list[ServiceOut], "services"),
)
def service_list(fmt: str, request: Request) -> Response:
    f = _format(fmt)
    if f is None:
        return errors("xml", 404, [BAD_FORMAT])
    jurisdiction = _one(request.query_params, "jurisdiction_id")

    def work(session: Session) -> list[dict]:
        open311_services.jurisdiction_path(session, jurisdiction)
        return open311_services.services(session)

    return _answer(request, f, "services", work)


@router.get(
    "/services/{ref}",
    summary="Open311: a service definition (its attributes); ref is the service code and the format, e.g. gas.json",
    responses=documented(ServiceDefinitionOut, "service_definition"),
)
def service_definition(ref: str, request: Request) -> Response:
    code, f = _split(ref)
    if f is None:
        return errors("xml", 404, [BAD_FORMAT])
    jurisdiction = _one(request.query_params, "jurisdiction_id")

    def work(session: Session) -> dict:
        open311_services.jurisdiction_path(session, jurisdiction)
        return open311_services.definition(session, code)

    return _answer(request, f, "service_definition", work)


@dataclass
class Posted:
    """A POST as received: the known parameters, the answers, the photo, files that do not belong."""

    is_form: bool
    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    photos: list[bytes] = field(default_factory=list)
    other_files: list[str] = field(default_factory=list)


async def _read_post(request: Request) -> Posted:
    """The form's fields (unknown ones dropped, empty ones too), read before any transaction;
    StarletteHTTPException when the form cannot be parsed."""
    ctype = request.headers.get("content-type", "").lower()
    posted = Posted(is_form=ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")))
    if not posted.is_form:
        return posted
    form = await request.form(max_files=2)
    for key, value in form.multi_items():
        if not isinstance(value, str):
            if key == MEDIA and value.filename and not posted.photos:
                posted.photos.append(await value.read(MAX_PHOTO_BYTES + 1))  # one past the limit: refused, not held
            elif key != MEDIA or value.filename:
                posted.other_files.append(key)
            continue
        m = ATTRIBUTE.match(key)
        if m:
            posted.attributes.setdefault(m.group(1), []).append(value)
        elif value.strip() and (key in POST_FIELDS or key in ("api_key", idempotency.FORM_FIELD)):
            posted.fields[key] = value.strip()
    return posted


def _file(session: Session, request: Request, posted: Posted, api_key: str | None, idem: str | None) -> list[dict]:
    """Check the key and the form, then file the request once per idempotency key."""
    key = apikeys.verify_key(session, api_key)
    if key is None:
        raise Forbidden(_("api_key 缺失或无效"))
    if not posted.is_form:
        raise ServiceError(_("请以 application/x-www-form-urlencoded 提交"))
    if posted.other_files:
        raise ServiceError(_("只接受一个照片文件 media：{value}").format(value=posted.other_files[0]))
    token = idempotency.read_key(request.headers.get(idempotency.HEADER), idem)
    client = f"apikey:{key.id}"
    if token is not None:
        sent = {**posted.fields, "attributes": posted.attributes}
        prior = idempotency.begin(session, client, token, idempotency.fingerprint("open311", sent, posted.photos))
        if prior is not None:  # a retry whose answer was lost: the same answer, nothing filed
            apikeys.record_use(session, key.id)
            return [prior.answer]
    data = RequestIn(**posted.fields, attributes=posted.attributes)
    report = open311_intake.submit(session, key.name, data, photos=posted.photos)
    answer = open311_intake.created(session, report, data.account_id)
    if token is not None:
        idempotency.finish(session, client, token, report.id, answer)
    apikeys.record_use(session, key.id)  # last: the key's row stays locked only until the commit
    return [answer]


@router.post(
    "/requests.{fmt}",
    summary="Open311: post a service request (form-encoded, api_key required)",
    responses=documented(list[CreatedOut], "service_requests"),
    openapi_extra=post_body_schema(),
)
async def post_request(fmt: str, request: Request) -> Response:
    f = _format(fmt)
    if f is None:
        return errors("xml", 404, [BAD_FORMAT])
    try:
        posted = await _read_post(request)
    except StarletteHTTPException:
        return errors(f, 400, [_("表单无法解析")])
    api_key = posted.fields.pop("api_key", None) or _one(request.query_params, "api_key")
    idem = posted.fields.pop(idempotency.FORM_FIELD, None)
    work = partial(_file, request=request, posted=posted, api_key=api_key, idem=idem)
    return await run_in_threadpool(_answer, request, f, "service_requests", work)


@router.get(
    "/requests.{fmt}",
    summary="Open311: service requests (last 90 days, at most 1000)",
    responses=documented(list[ServiceRequestOut], "service_requests"),
)
def get_requests(fmt: str, request: Request) -> Response:
    f = _format(fmt)
    if f is None:
        return errors("xml", 404, [BAD_FORMAT])
    q = request.query_params

    def work(session: Session) -> list[dict]:
        within = open311_services.jurisdiction_path(session, _one(q, "jurisdiction_id"))
        reports = open311_search.search(
            session,
            within=within,
            service_request_id=_many(q, "service_request_id"),
            service_code=_many(q, "service_code"),
            start_date=_one(q, "start_date"),
            end_date=_one(q, "end_date"),
            status=_many(q, "status"),
        )
        return open311_search.present(session, reports)

    return _answer(request, f, "service_requests", work)


@router.get(
    "/requests/{ref}",
    summary="Open311: one service request; ref is its id and the format, e.g. 12.json",
    responses=documented(list[ServiceRequestOut], "service_requests"),
)
def get_request(ref: str, request: Request) -> Response:
    request_id, f = _split(ref)
    if f is None:
        return errors("xml", 404, [BAD_FORMAT])
    jurisdiction = _one(request.query_params, "jurisdiction_id")

    def work(session: Session) -> list[dict]:
        within = open311_services.jurisdiction_path(session, jurisdiction)
        return open311_search.present(session, [open311_search.get_request(session, within, request_id)])

    return _answer(request, f, "service_requests", work)


@router.get(
    "/tokens/{ref}",
    summary="Open311: the service request of a token; ref is the token and the format",
    responses=documented(list[TokenOut], "service_requests"),
)
def get_token(ref: str, request: Request) -> Response:
    token, f = _split(ref)
    if f is None:
        return errors("xml", 404, [BAD_FORMAT])
    jurisdiction = _one(request.query_params, "jurisdiction_id")

    def work(session: Session) -> list[dict]:
        within = open311_services.jurisdiction_path(session, jurisdiction)
        report = open311_search.by_token(session, within, token)
        return [{"service_request_id": report.id, "token": report.token}]

    return _answer(request, f, "service_requests", work)


@router.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def unknown(rest: str) -> Response:
    """Anything else under /open311/v2/: the spec's 404, in JSON when the path asks for it."""
    fmt = "json" if rest.lower().endswith(".json") else "xml"
    return errors(fmt, 404, [_("没有此资源或不支持此方法：{rest}").format(rest=rest)])
