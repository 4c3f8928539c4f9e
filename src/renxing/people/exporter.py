"""The resident register out to Excel, masked exactly as the actor sees lists.

A role that sees fields in the clear (community staff: ID numbers, phones, health) gets
them in the clear in the file too, and that export is one audit entry; every other role
gets the masked list and nothing is recorded, as with any masked read.
"""

import io
from collections.abc import Iterator
from datetime import date
from typing import Any, BinaryIO

from sqlalchemy.orm import Session, aliased

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Invalid
from renxing.exporting import to_xlsx, write_xlsx
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.service import LEVEL_LABELS, building_view, children, get_unit
from renxing.i18n import _, bilingual, current_lang
from renxing.people import vulnerability
from renxing.people.import_columns import MOBILITY_LABELS, NEED_LABELS
from renxing.people.masking import HIDDEN
from renxing.people.models import Resident
from renxing.people.service import present, resident_query

MAX_EXPORT_ROWS = 200_000
EXPORT_BATCH = 1000  # rows fetched at a time while the file is written

# (key, Chinese header, English header); the Chinese ones are the import template's, so a
# clear export can be edited and imported elsewhere.
RESIDENT_EXPORT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("area", "片区", "area"),
    ("building", "楼栋", "building"),
    ("unit", "单元", "unit"),
    ("room", "门牌号", "room"),
    ("name", "姓名", "name"),
    ("gender", "性别", "gender"),
    ("birth_date", "出生日期", "birth_date"),
    ("age", "年龄", "age"),
    ("id_number", "身份证号", "id_number"),
    ("phone", "联系电话", "phone"),
    ("relation", "与户主关系", "relation"),
    ("hukou_here", "是否户籍在本社区", "hukou_here"),
    ("lives_here", "是否实际居住", "lives_here"),
    ("living_alone", "独居", "living_alone"),
    ("disability_kind", "残疾类别", "disability_kind"),
    ("disability_grade", "残疾等级", "disability_grade"),
    ("bedridden", "卧床", "bedridden"),
    ("chronic_illness", "慢性病", "chronic_illness"),
    ("pregnant", "孕妇", "pregnant"),
    ("special_needs", "特殊需求", "special_needs"),
    ("mobility", "行动能力", "mobility"),
    ("emergency_contact", "紧急联系人", "emergency_contact"),
    ("emergency_phone", "紧急联系电话", "emergency_phone"),
    ("party_member", "党员", "party_member"),
    ("tags", "重点人群标签", "tags"),
)
BOOL_KEYS = frozenset({"hukou_here", "lives_here", "living_alone", "bedridden", "pregnant", "party_member"})


def _yes_no(value: Any, en: bool) -> Any:
    if value is None or value == HIDDEN:
        return value
    return ("yes" if value else "no") if en else ("是" if value else "否")


def _cell(key: str, view: dict[str, Any], en: bool) -> Any:
    value = view.get(key)
    if value is None or value == HIDDEN:
        return value
    if key in BOOL_KEYS:
        return _yes_no(value, en)
    if key == "gender":
        return value if en else {"M": "男", "F": "女"}.get(value, value)
    if key == "birth_date":
        return date.fromisoformat(value)
    if key == "mobility":
        return value if en else MOBILITY_LABELS.get(value, value)
    if key == "special_needs":
        return value if en else "、".join(NEED_LABELS.get(v, v) for v in value.split(","))
    if key == "tags":
        return "、".join(str(vulnerability.TAG_LABELS[vulnerability.Tag(t)]) for t in value)
    return value


def export_residents(
    session: Session,
    actor: Principal,
    *,
    unit_id: int | None = None,
    q: str | None = None,
    tag: str | None = None,
) -> tuple[bytes, int]:
    """The scoped resident list (same filters as the list page) as .xlsx bytes, and its row count."""
    buf = io.BytesIO()
    count = write_residents(session, actor, buf, unit_id=unit_id, q=q, tag=tag)
    return buf.getvalue(), count


def write_residents(
    session: Session,
    actor: Principal,
    out: BinaryIO,
    *,
    unit_id: int | None = None,
    q: str | None = None,
    tag: str | None = None,
) -> int:
    """The list of :func:`export_residents` written to ``out`` while it is read: one query,
    fetched in batches, each row masked and written as it comes; returns the row count.
    In English the headers and values are the import's keys and codes."""
    actor.require(Perm.residents_read)
    building, area = aliased(GridUnit), aliased(GridUnit)
    unit_path = get_unit(session, actor, unit_id).path if unit_id is not None else None
    stmt = (
        resident_query(actor, unit_path=unit_path, q=q, tag=tag)
        .add_columns(building.name, area.name, Household.unit_no, Household.room)
        .join(Household, Household.id == Resident.household_id)
        .join(building, building.id == Household.building_id)
        .outerjoin(area, area.id == building.parent_id)
    )
    # Room by room within each building, as the register is kept on paper.
    stmt = stmt.order_by(None).order_by(Resident.path, Household.unit_no, Household.room, Resident.id)
    stmt = stmt.limit(MAX_EXPORT_ROWS + 1)
    # Lists are masked for everyone; a role whose work needs fields in the clear gets them.
    clear = actor.clear_fields()
    en = current_lang() == "en"

    def lines() -> Iterator[list[Any]]:
        result = session.execute(stmt.execution_options(yield_per=EXPORT_BATCH))
        for n, (r, building_name, area_name, unit_no, room) in enumerate(result, start=1):
            if n > MAX_EXPORT_ROWS:
                raise Invalid(
                    _("超过 {max_export_rows} 人，请按网格单元分批导出").format(max_export_rows=MAX_EXPORT_ROWS),
                    [],
                )
            view = present(r, actor, clear)
            view.update(area=area_name, building=building_name, unit=unit_no, room=room)
            yield [_cell(key, view, en) for key, _, _ in RESIDENT_EXPORT_COLUMNS]

    headers = [en_h if en else zh for _, zh, en_h in RESIDENT_EXPORT_COLUMNS]
    rows = write_xlsx(out, headers, lines(), sheet="residents" if en else "居民")
    if clear and rows:
        audit.record(
            session,
            actor,
            "export",
            "resident",
            None,
            summary=bilingual(
                "导出居民 {rows} 人（明文字段：{fields}）", rows=rows, fields=",".join(sorted(f.value for f in clear))
            ),
            after={
                "rows": rows,
                "clear_fields": sorted(f.value for f in clear),
                "filters": {"unit_id": unit_id, "q": q, "tag": tag},
            },
        )
    return rows


def export_households(session: Session, actor: Principal, building_id: int) -> bytes:
    """The households of one building with how many residents live in each; no personal data."""
    view = building_view(session, actor, building_id)
    headers = [_("单元"), _("门牌号"), _("地址"), _("居民人数")]
    rows = [[h.unit_no, h.room, h.address, n] for h, n in view.households]
    return to_xlsx(headers, rows, sheet=view.unit.name)


def export_children(session: Session, actor: Principal, unit_id: int) -> bytes:
    """The visible sub-units of a grid unit with their resident counts; no personal data."""
    parent = get_unit(session, actor, unit_id)
    headers = [_("编码"), _("名称"), _("层级"), _("类型"), _("居民数")]
    rows = [
        [u.code, u.name, str(LEVEL_LABELS[Level(u.level)]), u.kind, n] for u, n in children(session, actor, unit_id)
    ]
    return to_xlsx(headers, rows, sheet=parent.name)
