"""HTML pages of storage points: the map and list, one point with its lots, and the forms that
post to the ledger (receipt, issue, transfer, receiving a transfer, write-off, reversal, the
count sheet). Each form is a plain POST with the session's CSRF token; a refusal re-renders the
point with the errors named, and nothing is written (the use case runs in a savepoint)."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from renxing import importing as cells
from renxing.auth.principal import Principal
from renxing.errors import Conflict, FieldError, Invalid
from renxing.i18n import _
from renxing.listing import ListQuery
from renxing.supplies import count_sheet, movements, stock, views_stock
from renxing.supplies.movements import ReceiptLine
from renxing.supplies.stock import point_kind
from renxing.web import csrf
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id, PageNo, form_id
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=100)]


@router.get("/supplies/points")
def points_page(
    request: Request,
    session: DB,
    actor: CurrentUser,
    kind: Text = None,
    unit_id: Text = None,
    q: Text = None,
    page: PageNo = 1,
):
    filters = {"kind": point_kind(kind), "unit_id": form_id(unit_id, "unit_id"), "active": True}
    query = ListQuery(page=page, size=views_stock.POINTS_PAGE, q=q or None, filters=filters)
    return render(request, "supplies_points.html", views_stock.points_context(session, actor, query))


@router.get("/supplies/points/{point_id}")
def point_page(request: Request, point_id: Id, session: DB, actor: CurrentUser):
    ctx = views_stock.point_context(session, actor, point_id)
    ctx["flash"] = request.query_params.get("done")
    return render(request, "supplies_point.html", ctx)


# ---- reading a form -------------------------------------------------------------------------------


class _Form:
    """A posted form's fields, read with the errors they raise collected (all reported at once)."""

    def __init__(self, form: FormData):
        self.form = form
        self.errors: list[FieldError] = []

    def text(self, name: str) -> str | None:
        return str(self.form.get(name) or "").strip() or None

    def number(self, name: str, *, required: bool = True) -> int | None:
        value = self.text(name)
        if value is None:
            if required:
                self.errors.append(FieldError(name, _("必填")))
            return None
        if not value.isdigit() or len(value) > 9:
            self.errors.append(FieldError(name, _("应为整数"), value=value))
            return None
        return int(value)

    def day(self, name: str) -> date | None:
        value = self.text(name)
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            self.errors.append(FieldError(name, _("日期格式应为 年-月-日"), value=value))
            return None

    def moment(self, name: str) -> datetime | None:
        """A datetime-local field, in the platform's time zone (blank: now)."""
        value = self.text(name)
        try:
            return stock.aware(datetime.fromisoformat(value)) if value else None
        except ValueError:
            self.errors.append(FieldError(name, _("时间格式应为 年-月-日 时:分"), value=value))
            return None

    def check(self) -> None:
        if self.errors:
            raise Invalid(_("输入有误"), self.errors)


def _attempt(
    request: Request,
    session: Session,
    actor: Principal,
    point_id: int,
    form: FormData,
    which: str,
    act: Callable[[_Form], Any],
    done: str,
):
    """Run one use case from a form; on a refusal show the point again with what was wrong."""
    csrf.check(request, str(form.get("csrf_token") or ""))
    reader = _Form(form)
    try:
        with session.begin_nested():
            act(reader)
    except (Invalid, Conflict) as exc:
        ctx = views_stock.point_context(session, actor, point_id)
        errors = exc.errors or [FieldError("form", exc.message)]
        ctx.update(
            failed=which,
            message=exc.message,
            error_list=errors,
            errors={e.field: e.message for e in errors},
            values={k: str(v) for k, v in form.items() if k != "csrf_token" and isinstance(v, str)},
        )
        return render(request, "supplies_point.html", ctx, status_code=exc.status)
    return RedirectResponse(f"/supplies/points/{point_id}?done={done}", status_code=303)


# ---- posting to the ledger ----------------------------------------------------------------------


@router.post("/supplies/points/{point_id}/receipt")
def receipt(request: Request, point_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    def act(f: _Form) -> None:
        line = (f.number("item_id"), f.number("quantity"), f.text("unit"), f.text("lot"), f.day("expiry"))
        at = f.moment("occurred_at")
        f.check()
        item_id, quantity, unit, lot, expiry = line
        assert item_id is not None and quantity is not None
        movements.receive(
            session,
            actor,
            point_id,
            [ReceiptLine(item_id, quantity, unit, lot, expiry)],
            occurred_at=at,
            note=f.text("note"),
        )

    return _attempt(request, session, actor, point_id, form, "receipt", act, "receipt")


@router.post("/supplies/points/{point_id}/issue")
def issue(request: Request, point_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    def act(f: _Form) -> None:
        item_id, quantity, at = f.number("item_id"), f.number("quantity"), f.moment("occurred_at")
        f.check()
        assert item_id is not None and quantity is not None
        movements.issue(
            session,
            actor,
            point_id,
            item_id,
            quantity,
            unit=f.text("unit"),
            lot=f.text("lot"),
            occurred_at=at,
            note=f.text("note"),
        )

    return _attempt(request, session, actor, point_id, form, "issue", act, "issue")


@router.post("/supplies/points/{point_id}/transfer")
def transfer(request: Request, point_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    def act(f: _Form) -> None:
        target, item_id, quantity = f.number("to_point_id"), f.number("item_id"), f.number("quantity")
        f.check()
        assert target is not None and item_id is not None and quantity is not None
        movements.transfer(
            session,
            actor,
            point_id,
            target,
            item_id,
            quantity,
            unit=f.text("unit"),
            lot=f.text("lot"),
            received=f.text("received") is not None,
            note=f.text("note"),
        )

    return _attempt(request, session, actor, point_id, form, "transfer", act, "transfer")


@router.post("/supplies/points/{point_id}/write-off")
def write_off(request: Request, point_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    def act(f: _Form) -> None:
        item_id, quantity = f.number("item_id"), f.number("quantity")
        f.check()
        assert item_id is not None and quantity is not None
        movements.write_off(
            session,
            actor,
            point_id,
            item_id,
            quantity,
            reason=f.text("reason") or "",
            lot=f.text("lot"),
            unit=f.text("unit"),
            note=f.text("note"),
        )

    return _attempt(request, session, actor, point_id, form, "write_off", act, "write_off")


@router.post("/supplies/points/{point_id}/transfers/{transfer_id}/receive")
def receive_transfer(
    request: Request, point_id: Id, transfer_id: Id, session: DB, actor: CurrentUser, form: PostedForm
):
    def act(f: _Form) -> None:
        movements.receive_transfer(session, actor, transfer_id)

    return _attempt(request, session, actor, point_id, form, "coming", act, "received")


@router.post("/supplies/points/{point_id}/movements/{movement_id}/reverse")
def reverse(request: Request, point_id: Id, movement_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    def act(f: _Form) -> None:
        movements.reverse(session, actor, movement_id, note=f.text("note"))

    return _attempt(request, session, actor, point_id, form, "recent", act, "reversed")


@router.post("/supplies/points/{point_id}/count")
def upload_count(request: Request, point_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    def act(f: _Form) -> None:
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            raise Invalid(_("请选择文件"), [FieldError("file", _("请选择文件"))])
        try:
            data = cells.read_upload(file.file)
        except cells.SheetError as exc:
            raise Invalid(str(exc), [FieldError("file", str(exc), value=file.filename)]) from exc
        count_sheet.import_count_sheet(session, actor, point_id, data, file.filename, note=f.text("note"))

    return _attempt(request, session, actor, point_id, form, "count", act, "count")
