"""JSON and file routes for Excel in and out: imports, templates, exports.

Included before the resident routes so that ``/api/v1/residents/export.xlsx`` is not taken
for a resident id.
"""

import tempfile
from collections.abc import Iterator
from datetime import date
from typing import BinaryIO

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from renxing import importing as cells
from renxing.config import get_settings
from renxing.errors import FieldError, Invalid, ServiceError
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition
from renxing.i18n import _
from renxing.people import exporter, importer
from renxing.people.import_template import template_workbook
from renxing.people.importer import ImportKind, Mode
from renxing.people.schemas import ImportReportOut
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id
from renxing.web.schemas import XLSX, file_answer

router = APIRouter(prefix="/api/v1", tags=["import-export"])

SPOOL_BYTES = 4 * 1024 * 1024  # an export larger than this waits on disk, not in memory
# The multipart envelope (boundaries, part headers) around the file.
ENVELOPE = 64 * 1024
KIND_LABELS = {ImportKind.residents: "居民", ImportKind.buildings: "楼栋"}


class TooLarge(ServiceError):
    status = 413


_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary", "description": ".xlsx or .csv"}},
                }
            }
        },
    }
}


def _xlsx(data: bytes, file_name: str, fallback: str) -> Response:
    return Response(
        data, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": content_disposition(file_name, fallback)}
    )


def _streamed(out: BinaryIO, file_name: str, fallback: str) -> StreamingResponse:
    size = out.tell()
    out.seek(0)

    def pieces() -> Iterator[bytes]:
        try:
            while piece := out.read(64 * 1024):
                yield piece
        finally:
            out.close()

    headers = {"Content-Disposition": content_disposition(file_name, fallback), "Content-Length": str(size)}
    return StreamingResponse(pieces(), media_type=XLSX_MEDIA_TYPE, headers=headers)


async def _read_upload(request: Request) -> tuple[str, bytes]:
    """The uploaded file, refused before it is parsed when the request says it is too big, and
    read no further than its limit (Settings.max_import_bytes) when it does not say."""
    limit = get_settings().max_import_bytes
    too_large = cells.file_too_large(limit)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + ENVELOPE:
        raise TooLarge(too_large, [FieldError("file", too_large)])
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        msg = _("请以 multipart/form-data 上传文件（字段名 file）")
        raise Invalid(msg, [FieldError("file", msg)])
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            msg = _("缺少文件（字段名 file）")
            raise Invalid(msg, [FieldError("file", msg)])
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(too_large, [FieldError("file", too_large, None, upload.filename)])
        return upload.filename or "upload", data
    finally:
        await form.close()


@router.post(
    "/import/{kind}",
    response_model=ImportReportOut,
    summary="Import residents or buildings from .xlsx/.csv (preview: report only; commit: all or nothing)",
    description=(
        "`mode=preview` (default) checks the file and returns the report with every error and the first rows, "
        "writing nothing. `mode=commit` writes everything, or answers 422 with every error and writes nothing."
    ),
    openapi_extra=_UPLOAD_DOC,
)
async def import_upload(
    kind: ImportKind,
    request: Request,
    session: DB,
    actor: CurrentUser,
    mode: Mode = Mode.preview,
    preview_rows: int = Query(importer.PREVIEW_ROWS, ge=0, le=500),
) -> dict:
    # Refuse a role before reading what may be a large body.
    actor.require(importer.REQUIRED_PERM[kind])
    file_name, data = await _read_upload(request)
    # Parsing and checking take seconds for big files: off the event loop.
    report = await run_in_threadpool(
        importer.import_file, session, actor, kind, file_name, data, mode=mode, preview_rows=preview_rows
    )
    return report.to_dict()


@router.get(
    "/import/{kind}/template.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the template: headers, an example row, drop-downs and a 说明 sheet"),
    summary="An empty import template with an example row and a 说明 sheet",
)
def import_template(kind: ImportKind, actor: CurrentUser) -> Response:
    return _xlsx(template_workbook(kind), f"{KIND_LABELS[kind]}导入模板.xlsx", f"{kind.value}-template.xlsx")


@router.get(
    "/residents/export.xlsx",
    response_class=StreamingResponse,
    responses=file_answer(XLSX, "the residents in scope, masked as the role sees lists"),
    summary="The scoped resident list as .xlsx (masked unless the role sees fields)",
)
def export_residents(
    session: DB,
    actor: CurrentUser,
    unit_id: Id | None = None,
    q: str | None = Query(None, description="name; phone or full ID number for roles that see them"),
    tag: str | None = Query(None, description="vulnerability tag, e.g. aged80, living_alone"),
) -> Response:
    # Written to a temporary file (in memory up to a few MB) inside the request's transaction,
    # then sent in pieces: a register of 10,000 is never one object in memory.
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the response closes it
    try:
        exporter.write_residents(session, actor, out, unit_id=unit_id, q=q, tag=tag)
    except BaseException:
        out.close()
        raise
    today = date.today().isoformat()
    return _streamed(out, f"居民名册-{today}.xlsx", f"residents-{today}.xlsx")


@router.get(
    "/grid/units/{unit_id}/children/export.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the visible sub-units with their resident counts"),
    summary="A grid unit's sub-units as .xlsx",
)
def export_children(unit_id: Id, session: DB, actor: CurrentUser) -> Response:
    data = exporter.export_children(session, actor, unit_id)
    return _xlsx(data, f"网格{unit_id}-下级单元.xlsx", f"unit-{unit_id}-children.xlsx")


@router.get(
    "/grid/buildings/{unit_id}/households/export.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the households with how many live in each; no personal data"),
    summary="A building's households as .xlsx",
)
def export_households(unit_id: Id, session: DB, actor: CurrentUser) -> Response:
    data = exporter.export_households(session, actor, unit_id)
    return _xlsx(data, f"楼栋{unit_id}-户.xlsx", f"building-{unit_id}-households.xlsx")
