"""A sign-in sheet uploaded by staff (姓名 with 身份证号 or 手机号): every row checked first, every bad
row named, nothing written unless all are good."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from renxing import importing as cells
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.drills.activities import load
from renxing.drills.attendance import check_window, record
from renxing.drills.models import Activity, Method
from renxing.errors import Collector, FieldError, Forbidden, Invalid
from renxing.grid.scope import in_scope
from renxing.i18n import _
from renxing.people import directory as people
from renxing.people.idcard import IdNumberError, parse_id_number
from renxing.people.service import normalise_phone

MAX_ROWS = 20_000
HEADERS = {
    "name": ("姓名", "name", "名字"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "idnumber", "身份证"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话", "phone", "mobile"),
}


@dataclass
class SheetRow:
    number: int  # the spreadsheet row, from 2
    name: str
    id_number: str | None
    phone: str | None


def import_attendance(
    session: Session, actor: Principal, activity_id: int, data: bytes, file_name: str, now: datetime | None = None
) -> dict[str, Any]:
    now = now or utcnow()
    a = _writable_attend(session, actor, activity_id)
    check_window(a, now, by_staff=True)
    try:
        sheet = cells.read_table(data, file_name, max_rows=MAX_ROWS)
    except cells.SheetError as exc:
        raise Invalid(str(exc), [FieldError("file", str(exc))]) from exc
    where = _columns(sheet.headers)
    errors = Collector()
    rows = [row for number, cells_ in sheet.rows if (row := _parse_row(number, cells_, where, errors))]
    chosen = _match(session, a, rows, errors)
    errors.raise_if_any(_("签到名单有误，未导入任何记录"))
    if not chosen:
        raise Invalid(_("名单是空的"), [FieldError("file", "empty")])
    added, already = record(session, actor, a, list(chosen), Method.list, now)
    return {"rows": len(chosen), "added": len(added), "already": len(already)}


def _writable_attend(session: Session, actor: Principal, activity_id: int) -> Activity:
    a = load(session, actor, activity_id)
    actor.require(Perm.drills_attend)
    if not in_scope(actor, a.path):
        raise Forbidden(_("名单导入需管理整个社区"))
    return a


def _columns(headers: list[Any]) -> dict[str, int]:
    """Which column holds each field, by any of its accepted header names; a 422 on row 1 when the
    name, or both the ID number and the phone, are missing."""
    where: dict[str, int] = {}
    normal = [cells.normalise_header(h) for h in headers]
    for key, names in HEADERS.items():
        accepted = {cells.normalise_header(n) for n in names}
        for i, h in enumerate(normal):
            if h in accepted:
                where.setdefault(key, i)
    errors = Collector()
    if "name" not in where:
        errors.add("姓名", _("缺少“姓名”列"), row=1)
    if "id_number" not in where and "phone" not in where:
        errors.add("身份证号", _("需要“身份证号”或“手机号”列"), row=1)
    errors.raise_if_any(_("表头有误"))
    return where


def _parse_row(number: int, row: list[Any], where: dict[str, int], errors: Collector) -> SheetRow | None:
    """One row's name, ID number and phone, or None with its errors collected."""

    def cell(key: str) -> Any:
        i = where.get(key)
        return row[i] if i is not None and i < len(row) else None

    try:
        name = cells.text(cell("name"), 60)
    except cells.CellError as exc:
        errors.add("姓名", str(exc), number)
        return None
    idn = phone = None
    try:
        idn = cells.id_number_text(cell("id_number"))
        if idn:
            idn = parse_id_number(idn).number
    except (cells.CellError, IdNumberError) as exc:
        errors.add("身份证号", str(exc), number, idn)
    try:
        phone = normalise_phone(cells.code_text(cell("phone"), 20))
    except cells.CellError as exc:
        errors.add("手机号", str(exc), number)
    if not name:
        errors.add("姓名", _("必填"), number)
    elif not idn and not phone:
        errors.add("身份证号", _("身份证号或手机号至少填一项"), number)
    else:
        return SheetRow(number, name, idn, phone)
    return None


def _match(session: Session, a: Activity, rows: list[SheetRow], errors: Collector) -> dict[int, int]:
    """Each row's resident of the community by name and ID number (else phone): resident id →
    the first row naming them. A row matching nobody, several people or someone already named is
    an error of that row."""
    found: dict[str, list[Any]] = {}
    for r in people.residents_named(session, a.path, {row.name for row in rows}):
        found.setdefault(r.name, []).append(r)
    chosen: dict[int, int] = {}
    for row in rows:
        candidates = found.get(row.name, [])
        if row.id_number:
            hits = [r for r in candidates if r.id_number == row.id_number]
            column_name = "身份证号"
        else:
            hits = [r for r in candidates if r.phone == row.phone]
            column_name = "手机号"
        if not hits:
            errors.add(
                column_name,
                _("姓名与号码不符或不是本社区居民"),
                row.number,
            )
        elif len(hits) > 1:
            errors.add(column_name, _("多位居民相符，请改填身份证号"), row.number)
        elif hits[0].id in chosen:
            first = chosen[hits[0].id]
            errors.add("姓名", _("与第 {first} 行是同一人").format(first=first), row.number)
        else:
            chosen[hits[0].id] = row.number
    return chosen
