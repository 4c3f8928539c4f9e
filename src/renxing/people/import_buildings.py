"""Importing buildings: each row an area in scope, a code unique on the platform (made from the
area's code and the name when left blank) and a name unique within its area; then every
building created through the grid, audited one by one and as one import."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from renxing import importing as cells
from renxing.auth import audit
from renxing.auth.principal import Principal
from renxing.errors import Collector
from renxing.grid import service as grid
from renxing.grid.models import Level
from renxing.i18n import _, bilingual, pgettext
from renxing.people.import_columns import BOOL_DEFAULTS, BUILDING_COLUMNS
from renxing.people.import_places import Place, resolve_places
from renxing.people.import_sheet import Parsed, Steps, map_headers, parse_rows

if TYPE_CHECKING:
    from renxing.people.importer import ImportReport

ATTRIBUTES = ("address", "units", "floors", "year_built", "structure", "has_elevator")


@dataclass
class _RowChecks:
    """The checks of one row against the file so far and what the grid already holds."""

    labels: dict[str, str]  # column key → header as written
    errors: Collector
    areas: dict[str, Place | str]
    codes_taken: set[str]
    names_taken: set[tuple[int, str]]  # (area id, building name)
    seen_codes: dict[str, int] = field(default_factory=dict)  # code → first row that has it
    seen_names: dict[tuple[int, str], int] = field(default_factory=dict)

    def row(self, p: Parsed) -> Place | str | None:
        """The row's area (or why none); errors collected, blanks filled with their defaults."""
        v = p.values
        area = self.areas.get(v["area"]) if v["area"] else None
        if isinstance(area, str):
            self.errors.add(self.labels["area"], area, p.row, v["area"])
        if v["code"]:
            self._code(p.row, v["code"])
        if isinstance(area, Place) and v["name"]:
            self._name(p.row, area, v["name"])
        if (v["lon"] is None) != (v["lat"] is None) and not {"lon", "lat"} & p.bad:
            self.errors.add(self.labels["lat" if v["lat"] is None else "lon"], _("经度和纬度须同时填写"), p.row)
        for key, default in BOOL_DEFAULTS.items():
            if key in v and v[key] is None:
                v[key] = default
        return area

    def _code(self, row: int, code: str) -> None:
        if code in self.seen_codes:
            message = _("与第 {value} 行编码重复").format(value=self.seen_codes[code])
            self.errors.add(self.labels["code"], message, row, code)
        elif code in self.codes_taken:
            self.errors.add(self.labels["code"], _("编码“{code}”已被使用").format(code=code), row, code)
        else:
            self.seen_codes[code] = row

    def _name(self, row: int, area: Place, name: str) -> None:
        key = (area.id, name)
        if key in self.seen_names:
            message = _("与第 {value} 行同一片区同名").format(value=self.seen_names[key])
            self.errors.add(self.labels["name"], message, row, name)
        elif key in self.names_taken:
            message = _("{area}已有楼栋“{name}”").format(area=area.name, name=name)
            self.errors.add(self.labels["name"], message, row, name)
        else:
            self.seen_names[key] = row


def check_buildings(
    session: Session, actor: Principal, table: cells.Table, report: "ImportReport", steps: Steps, preview_rows: int
) -> list[dict[str, Any]]:
    """Every row checked, the report filled; returns the buildings a valid file would create."""
    found = map_headers(table.headers, BUILDING_COLUMNS, report)
    if report.errors:
        return []
    labels = {c.key: found[c.key][1] if c.key in found else c.zh for c in BUILDING_COLUMNS}
    errors = Collector(report.errors)
    parsed = parse_rows(table, BUILDING_COLUMNS, found, errors, labels)
    refs = {p.values["area"] for p in parsed if p.values["area"]}
    areas = resolve_places(session, actor, Level.area, refs, pgettext("noun", "片区"))
    _default_codes(parsed, areas)
    codes = sorted({p.values["code"] for p in parsed if p.values["code"]})
    area_ids = sorted({a.id for a in areas.values() if isinstance(a, Place)})
    checks = _RowChecks(
        labels, errors, areas, grid.codes_in_use(session, codes), grid.building_names(session, area_ids)
    )
    plans: list[dict[str, Any]] = []
    for i, p in enumerate(parsed):
        before = len(errors.errors)
        area = checks.row(p)
        v = p.values
        if i < preview_rows:
            report.preview.append({"row": p.row, **v, "area_id": area.id if isinstance(area, Place) else None})
        if len(errors.errors) == before and not p.bad and isinstance(area, Place):
            plans.append({**v, "area_id": area.id, "units": v["units"] or 1, "floors": v["floors"] or 1})
        if i % 500 == 0:
            steps.at(1, i)
    report.created_buildings = len(plans)
    return plans


def _default_codes(parsed: list[Parsed], areas: dict[str, Place | str]) -> None:
    """A blank code becomes "<area code>-<name>"."""
    for p in parsed:
        area = areas.get(p.values["area"]) if p.values["area"] else None
        if isinstance(area, Place) and not p.values["code"] and p.values["name"]:
            p.values["code"] = f"{area.code}-{p.values['name']}"[:40]


def write_buildings(
    session: Session, actor: Principal, report: "ImportReport", plans: list[dict[str, Any]], steps: Steps
) -> None:
    created: list[int] = []
    for i, plan in enumerate(plans):
        unit = grid.create_building(
            session,
            actor,
            area_id=plan["area_id"],
            code=plan["code"],
            name=plan["name"],
            lon=plan["lon"],
            lat=plan["lat"],
            attrs={key: plan[key] for key in ATTRIBUTES},
        )
        created.append(unit.id)
        if i % 100 == 0:
            steps.at(2, i)
    session.flush()
    audit.record(
        session,
        actor,
        "import",
        "building",
        None,
        summary=bilingual("导入 {file_name}：楼栋 {count} 栋", file_name=report.file_name, count=len(created)),
        after={"file": report.file_name, "rows": report.rows_read, "buildings": created},
    )
