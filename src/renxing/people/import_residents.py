"""Importing residents: every row checked as the register's form checks it, the building found
in scope, the household found or planned, ID numbers unique in the file and in the register;
then households and residents inserted in bulk. Lookups take a few queries for the whole file.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from renxing import importing as cells
from renxing.auth import audit
from renxing.auth.policy import Field
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector, Conflict
from renxing.grid import service as grid
from renxing.grid.models import Level
from renxing.grid.scope import in_scope
from renxing.grid.service import HouseholdKey
from renxing.i18n import _, bilingual, pgettext
from renxing.people import vulnerability
from renxing.people.import_columns import BOOL_DEFAULTS, RESIDENT_COLUMNS, RESIDENT_FIELDS
from renxing.people.import_places import Place, resolve_places
from renxing.people.import_sheet import CHUNK, Parsed, Steps, chunks, map_headers, parse_rows
from renxing.people.masking import HIDDEN, mask_id_number, mask_phone
from renxing.people.models import Resident
from renxing.people.service import HEALTH_FIELDS, check_fields

if TYPE_CHECKING:
    from renxing.people.importer import ImportReport


@dataclass
class ResidentBatch:
    """What a valid file writes: the households to create and each resident with its household."""

    households: list[dict[str, Any]] = field(default_factory=list)  # to create
    residents: list[tuple[HouseholdKey, dict[str, Any]]] = field(default_factory=list)
    existing: dict[HouseholdKey, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Registered:
    id: int
    name: str
    path: str
    deleted: bool


def _registered(session: Session, numbers: list[str]) -> dict[str, _Registered]:
    """ID numbers already in the register (removed records too: the number stays unique)."""
    wanted = sorted({n for n in numbers if isinstance(n, str) and len(n) == 18})
    out: dict[str, _Registered] = {}
    for chunk in chunks(wanted):
        stmt = select(Resident.id_number, Resident.id, Resident.name, Resident.path, Resident.deleted_at).where(
            Resident.id_number.in_(chunk)
        )
        for number, rid, name, path, deleted_at in session.execute(stmt):
            out[number] = _Registered(rid, name, path, deleted_at is not None)
    return out


def _registered_message(actor: Principal, r: _Registered) -> str:
    # Outside the scope, who holds the number is itself personal data: say only that it is taken.
    if not in_scope(actor, r.path):
        return _("该身份证号已在其他社区登记")
    if r.deleted:
        return (
            f"该身份证号已登记为居民 #{r.id} {r.name}（已删除，可恢复）/ "
            f"already registered as resident #{r.id} (removed; restore it instead)"
        )
    return _("该身份证号已登记为居民 #{id} {name}").format(id=r.id, name=r.name)


@dataclass
class _RowChecks:
    """The checks of one row against the file so far and the lookups made for the whole file."""

    actor: Principal
    labels: dict[str, str]  # column key → header as written
    errors: Collector
    places: dict[str, Place | str]
    registered: dict[str, _Registered]
    seen: dict[str, int] = field(default_factory=dict)  # ID number → first row that has it
    today: date = field(default_factory=date.today)

    def row(self, p: Parsed) -> tuple[Place | str | None, dict[str, Any]]:
        """The row's building (or why none) and its resident's values, completed; errors collected."""
        v = p.values
        place = self.places.get(v["building"]) if v["building"] else None
        if isinstance(place, str):
            self.errors.add(self.labels["building"], place, p.row, v["building"])
        if v["unit"] is None and "unit" not in p.bad:
            v["unit"] = 1
        resident = {k: v[k] for k in RESIDENT_FIELDS}
        for key, default in BOOL_DEFAULTS.items():
            if key in resident and resident[key] is None:
                resident[key] = default
        own_fields = self._fields(p, resident)
        if resident["id_number"] and "id_number" not in own_fields:
            self._unique(p.row, resident["id_number"])
        if resident["disability_grade"] is not None and not resident["disability_kind"]:
            self.errors.add(self.labels["disability_grade"], _("填写残疾等级须同时填写残疾类别"), p.row)
        if not resident["mobility"] and "mobility" not in p.bad:
            resident["mobility"] = self._default_mobility(resident)
        return place, resident

    def _fields(self, p: Parsed, resident: dict[str, Any]) -> set[str]:
        """The register's own field checks, reported under the file's headers; the fields at fault."""
        own = Collector()
        check_fields(resident, own, p.row)
        for e in own.errors:
            if e.field not in p.bad:  # a cell that could not be read is reported once
                e.field = self.labels.get(e.field, e.field)
                self.errors.errors.append(e)
        return {e.field for e in own.errors}

    def _unique(self, row: int, idn: str) -> None:
        if idn in self.seen:
            message = _("与第 {value} 行身份证号重复").format(value=self.seen[idn])
            self.errors.add(self.labels["id_number"], message, row, idn)
        elif idn in self.registered:
            message = _registered_message(self.actor, self.registered[idn])
            self.errors.add(self.labels["id_number"], message, row, idn)
        else:
            self.seen[idn] = row

    def _default_mobility(self, resident: dict[str, Any]) -> str:
        tag_list = vulnerability.tags(
            birth_date=resident["birth_date"],
            living_alone=resident["living_alone"],
            disability_kind=resident["disability_kind"],
            bedridden=resident["bedridden"],
            chronic_illness=resident["chronic_illness"],
            pregnant=resident["pregnant"],
            special_needs=resident["special_needs"],
            today=self.today,
        )
        return vulnerability.default_mobility(tag_list, resident["special_needs"])


def check_residents(
    session: Session, actor: Principal, table: cells.Table, report: "ImportReport", steps: Steps, preview_rows: int
) -> ResidentBatch:
    """Every row checked, the report filled; the batch holds what a valid file would write."""
    batch = ResidentBatch()
    found = map_headers(table.headers, RESIDENT_COLUMNS, report)
    if report.errors:
        return batch
    labels = {c.key: found[c.key][1] if c.key in found else c.zh for c in RESIDENT_COLUMNS}
    errors = Collector(report.errors)
    parsed = parse_rows(table, RESIDENT_COLUMNS, found, errors, labels)
    refs = {p.values["building"] for p in parsed if p.values["building"]}
    places = resolve_places(session, actor, Level.building, refs, pgettext("noun", "楼栋"))
    batch.existing = grid.household_keys(session, sorted({p.id for p in places.values() if isinstance(p, Place)}))
    numbers = [p.values["id_number"] for p in parsed if p.values["id_number"]]
    checks = _RowChecks(actor, labels, errors, places, _registered(session, numbers))
    clear = actor.clear_fields()
    planned: dict[HouseholdKey, dict[str, Any]] = {}
    for i, p in enumerate(parsed):
        before = len(errors.errors)
        place, resident = checks.row(p)
        if i < preview_rows:
            report.preview.append(_preview_row(p.row, p.values, resident, place, clear))
        if len(errors.errors) == before and not p.bad and isinstance(place, Place):
            _plan(batch, planned, place, p.values, resident)
        if i % 500 == 0:
            steps.at(1, i)
    batch.households = list(planned.values())
    report.created_households = len(batch.households)
    report.created_residents = len(batch.residents)
    return batch


def _plan(
    batch: ResidentBatch,
    planned: dict[HouseholdKey, dict[str, Any]],
    place: Place,
    v: dict[str, Any],
    resident: dict[str, Any],
) -> None:
    """A valid row joins the batch, in its household (an existing one, or one planned once)."""
    key = (place.id, v["unit"], v["room"])
    if key not in batch.existing and key not in planned:
        planned[key] = {"building_id": place.id, "path": place.path, "unit_no": key[1], "room": key[2], "address": None}
    resident["path"] = place.path
    batch.residents.append((key, resident))


def _preview_row(
    row: int, v: dict[str, Any], resident: dict[str, Any], place: Place | str | None, clear: frozenset[Field]
) -> dict[str, Any]:
    out: dict[str, Any] = {"row": row}
    for col in RESIDENT_COLUMNS:
        value = resident.get(col.key, v.get(col.key))
        out[col.key] = value.isoformat() if isinstance(value, date) else value
    out["building_id"] = place.id if isinstance(place, Place) else None
    if Field.id_number not in clear:
        out["id_number"] = mask_id_number(out["id_number"])
    if Field.phone not in clear:
        out["phone"] = mask_phone(out["phone"])
        out["emergency_phone"] = mask_phone(out["emergency_phone"])
    if Field.health not in clear:
        for key in HEALTH_FIELDS:
            out[key] = HIDDEN if out[key] else None
    return out


def write_residents(
    session: Session, actor: Principal, report: "ImportReport", batch: ResidentBatch, steps: Steps
) -> None:
    """The batch inserted in bulk, and one audit entry for the import."""
    # Plain executemany without RETURNING is the fast path on both databases (RETURNING over
    # thousands of rows makes the PostgreSQL driver rewrite huge statements). Every row of
    # this import carries the same creation time, which finds the new ids again in one query.
    now = utcnow()
    created_households = grid.insert_households(session, batch.households, now)
    households = {**batch.existing, **created_households}
    rows = [
        {**resident, "household_id": households[key], "created_at": now, "updated_at": now}
        for key, resident in batch.residents
    ]
    for start in range(0, len(rows), 2 * CHUNK):
        session.execute(insert(Resident.__table__), rows[start : start + 2 * CHUNK])
        steps.at(2, start)
    first, last, created = session.execute(
        select(func.min(Resident.id), func.max(Resident.id), func.count()).where(Resident.created_at == now)
    ).one()
    if created != len(rows):  # pragma: no cover - would mean two imports at the same microsecond
        raise Conflict(_("导入时发生冲突，请重试"))
    report.resident_ids = (first, last) if created else None
    _audit(session, actor, report, created, sorted(created_households.values()))


def _audit(session: Session, actor: Principal, report: "ImportReport", created: int, household_ids: list[int]) -> None:
    summary = bilingual(
        "导入 {file_name}：居民 {created} 人，新建户 {households} 户",
        file_name=report.file_name,
        created=created,
        households=len(household_ids),
    )
    after = {
        "file": report.file_name,
        "rows": report.rows_read,
        "residents": created,
        "resident_ids": list(report.resident_ids) if report.resident_ids else None,
        "households": len(household_ids),
        "household_ids": [household_ids[0], household_ids[-1]] if household_ids else None,
    }
    audit.record(session, actor, "import", "resident", None, summary=summary, after=after)
