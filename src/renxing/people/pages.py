"""HTML pages of the resident register: list, search, person page with edit and undo, audit trail,
import. What each page shows is built in ``people/views.py``."""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from renxing import importing as cells
from renxing.auth.policy import Perm
from renxing.errors import Conflict, FieldError, Invalid
from renxing.i18n import _
from renxing.people import importer, pending_uploads, views
from renxing.people import service as people
from renxing.people.schemas import ResidentPatch
from renxing.web import csrf, pagekit
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id, PageNo, PageSize, form_id
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)


# ---- list and search --------------------------------------------------------------------


@router.get("/residents")
def resident_list(
    request: Request,
    session: DB,
    actor: CurrentUser,
    unit_id: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    sort: str = "grid",
    page: PageNo = 1,
    size: PageSize | None = None,
):
    actor.require(Perm.residents_read)
    # The filter form sends "unit_id=" for the whole scope; an empty choice is no filter.
    unit = form_id(unit_id, "unit_id")
    q = (q or "").strip() or None
    ctx = views.list_context(session, actor, unit_id=unit, tag=tag or None, q=q, sort=sort, page=page, size=size)
    status = 422 if ctx["problem"] is not None else 200
    if pagekit.is_htmx(request) and not request.headers.get("HX-History-Restore-Request"):
        # htmx swaps only 2xx answers, so a refused search still comes back as 200 here.
        return render(request, "people_results.html", ctx)
    ctx.update(views.list_filters(session, actor))
    return render(request, "people_list.html", ctx, status_code=status)


@router.get("/search")
def search_page(
    request: Request,
    session: DB,
    actor: CurrentUser,
    q: str | None = None,
    page: PageNo = 1,
    size: PageSize | None = None,
):
    ctx = views.search_context(session, actor, (q or "").strip() or None, page=page, size=size)
    status = 422 if ctx["problem"] is not None else 200
    return render(request, "people_search.html", ctx, status_code=status)


# ---- one person -------------------------------------------------------------------------


@router.get("/residents/{resident_id}")
def person_page(request: Request, resident_id: Id, session: DB, actor: CurrentUser):
    return render(request, "people_detail.html", views.person_context(session, request, actor, resident_id))


@router.post("/residents/{resident_id}")
def person_save(request: Request, resident_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    actor.require(Perm.residents_write)
    submitted = views.parse_form(form, views.editable_fields(actor, resident_id))
    errors: list[FieldError] = []
    problem: str | None = None
    try:
        patch = ResidentPatch(**submitted)
    except ValidationError as exc:
        errors = pagekit.field_errors(exc)
    else:
        try:
            people.update_resident(session, actor, resident_id, patch)
        except Invalid as exc:
            errors, problem = exc.errors, None if exc.errors else exc.message
        except Conflict as exc:
            errors = [FieldError("id_number", exc.message)]
        else:
            return RedirectResponse(f"/residents/{resident_id}?saved=1", status_code=303)
    # Nothing was written: the service validates everything before it changes a row.
    shown = {e.field: e.message for e in errors}
    ctx = views.failed_edit_context(session, request, actor, resident_id, submitted, shown, problem)
    return render(request, "people_detail.html", ctx, status_code=422)


@router.post("/residents/{resident_id}/delete")
def person_delete(request: Request, resident_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    r = people.delete_resident(session, actor, resident_id)
    return RedirectResponse(f"/households/{r.household_id}?removed={r.id}", status_code=303)


@router.post("/residents/{resident_id}/restore")
def person_restore(request: Request, resident_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    people.restore_resident(session, actor, resident_id)
    return RedirectResponse(f"/residents/{resident_id}?restored=1", status_code=303)


@router.get("/residents/{resident_id}/audit")
def person_audit(request: Request, resident_id: Id, session: DB, actor: CurrentUser):
    return render(request, "people_audit.html", views.audit_context(session, actor, resident_id))


# ---- import ------------------------------------------------------------------------------


@router.get("/import")
def import_page(request: Request, actor: CurrentUser, kind: str = "residents"):
    actor.require(Perm.residents_import)
    kinds = views.import_kinds(actor)
    return render(
        request, "people_import.html", views.import_context(actor, kind=kind if kind in kinds else "residents")
    )


@router.post("/import/preview")
def import_preview(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    actor.require(Perm.residents_import)
    kind = str(form.get("kind") or "residents")
    if kind not in views.import_kinds(actor):
        raise Invalid(_("导入类型无效"), [FieldError("kind", "residents / buildings")])
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(
            request,
            "people_import.html",
            views.import_context(actor, kind=kind, problem=_("请选择要上传的文件")),
            status_code=422,
        )
    try:
        data = cells.read_upload(upload.file)
    except cells.SheetError as exc:  # too big: refused without reading it whole
        problem = str(exc)
        errors = [FieldError("file", problem, value=upload.filename)]
        return render(
            request, "people_import.html", views.import_context(actor, kind=kind, problem=problem, errors=errors), 422
        )
    file_name = Path(upload.filename).name
    try:
        report = importer.import_file(session, actor, kind, file_name, data, mode=importer.Mode.preview)
    except Invalid as exc:
        return render(
            request,
            "people_import.html",
            views.import_context(actor, kind=kind, problem=exc.message, errors=exc.errors),
            status_code=422,
        )
    token = pending_uploads.stash(actor, kind, file_name, data) if report.valid and report.rows_read else None
    status = 200 if report.valid else 422
    return render(
        request,
        "people_import.html",
        views.import_context(actor, kind=kind, report=report, errors=report.errors, token=token),
        status_code=status,
    )


@router.post("/import/commit")
def import_commit(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    actor.require(Perm.residents_import)
    token = str(form.get("token") or "")
    try:
        kind, file_name, data = pending_uploads.unstash(actor, token)
        report = importer.import_file(session, actor, kind, file_name, data, mode=importer.Mode.commit)
    except Invalid as exc:
        return render(
            request,
            "people_import.html",
            views.import_context(actor, problem=exc.message, errors=exc.errors),
            status_code=422,
        )
    pending_uploads.drop(token)
    return render(request, "people_import.html", views.import_context(actor, kind=kind, report=report, done=True))
