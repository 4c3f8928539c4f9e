"""Importing the register from Excel: buildings, and residents with their households.

A file is read whole and every row checked before anything is written; the report names
every bad row (as numbered in the spreadsheet, header = row 1), column and reason at once.
One bad row and nothing is written. Lookups (buildings in scope, households, registered ID
numbers) are loaded in a few queries and residents are inserted in bulk, so ten thousand
rows import in seconds.

This module runs the phases and holds the report; ``import_sheet`` reads the headers and rows
against the columns of ``import_columns``, ``import_residents`` and ``import_buildings`` check
and write each kind, ``import_places`` finds the buildings and areas named, and
``import_template`` makes the workbook to fill in.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from renxing import importing as cells
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Conflict, FieldError, Invalid
from renxing.i18n import _
from renxing.people.import_buildings import check_buildings, write_buildings
from renxing.people.import_columns import BUILDING_COLUMNS, RESIDENT_COLUMNS
from renxing.people.import_residents import check_residents, write_residents
from renxing.people.import_sheet import Progress, Steps

PREVIEW_ROWS = 20
MAX_ROWS = 100_000


class ImportKind(StrEnum):
    residents = "residents"
    buildings = "buildings"


class Mode(StrEnum):
    preview = "preview"  # parse and check, write nothing
    commit = "commit"


REQUIRED_PERM = {ImportKind.residents: Perm.residents_import, ImportKind.buildings: Perm.grid_write}
COLUMNS = {ImportKind.residents: RESIDENT_COLUMNS, ImportKind.buildings: BUILDING_COLUMNS}


@dataclass
class ImportReport:
    kind: str
    file_name: str
    mode: str
    rows_read: int = 0
    created_buildings: int = 0
    created_households: int = 0
    created_residents: int = 0
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    resident_ids: tuple[int, int] | None = None  # first and last id created
    committed: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file_name": self.file_name,
            "mode": self.mode,
            "valid": self.valid,
            "committed": self.committed,
            "rows_read": self.rows_read,
            "created_buildings": self.created_buildings,
            "created_households": self.created_households,
            "created_residents": self.created_residents,
            "resident_ids": list(self.resident_ids) if self.resident_ids else None,
            "errors": [e.__dict__ for e in self.errors],
            "warnings": [e.__dict__ for e in self.warnings],
            "preview": self.preview,
        }


def import_file(
    session: Session,
    actor: Principal,
    kind: ImportKind | str,
    file_name: str,
    data: bytes,
    *,
    mode: Mode | str = Mode.preview,
    preview_rows: int = PREVIEW_ROWS,
    progress: Progress | None = None,
) -> ImportReport:
    """Check a file and, in ``commit`` mode, write all of it in the caller's transaction.

    ``preview`` returns the report with every error and writes nothing; ``commit`` raises
    :class:`Invalid` with every error when any row is bad, and writes nothing then either.
    """
    kind, mode = ImportKind(kind), Mode(mode)
    actor.require(REQUIRED_PERM[kind])
    report = ImportReport(kind=kind.value, file_name=file_name, mode=mode.value)
    steps = Steps(progress, 3 if mode is Mode.commit else 2)
    try:
        table = cells.read_table(data, file_name, max_rows=MAX_ROWS, progress=steps.read)
    except cells.SheetError as exc:
        raise Invalid(str(exc), [FieldError("file", str(exc), None, file_name)]) from exc
    report.rows_read = steps.rows = len(table.rows)
    if kind is ImportKind.residents:
        batch = check_residents(session, actor, table, report, steps, preview_rows)
    else:
        batch = check_buildings(session, actor, table, report, steps, preview_rows)
    report.errors.sort(key=lambda e: e.row or 0)  # stable: within a row, in the order found
    steps.at(1, report.rows_read)
    if mode is Mode.preview:
        return report
    if report.errors:
        raise Invalid(
            _("文件有 {count} 处错误，未导入任何数据").format(count=len(report.errors)),
            report.errors,
        )
    try:
        if kind is ImportKind.residents:
            write_residents(session, actor, report, batch, steps)
        else:
            write_buildings(session, actor, report, batch, steps)
    except IntegrityError as exc:
        # Someone registered the same person, room or code after the check: the caller's
        # transaction rolls back whole, as for any other error.
        raise Conflict(_("导入期间数据已被他人修改，请重新导入")) from exc
    report.committed = True
    steps.at(2, report.rows_read)
    return report
