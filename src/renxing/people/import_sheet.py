"""Reading a sheet for an import: its headers matched to the columns, its rows parsed cell by
cell, and the progress of the phases. Every problem is collected, none raised, so the report
names every bad row at once.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from renxing import importing as cells
from renxing.errors import Collector, FieldError
from renxing.i18n import _, localized
from renxing.people.import_columns import Column

if TYPE_CHECKING:
    from renxing.people.importer import ImportReport

Progress = Callable[[int, int], None]
CHUNK = 1000  # rows per IN (...) lookup and per insert batch


class Steps:
    """Turns the phases (read, check, write) into one bar: each phase counts once per row."""

    def __init__(self, progress: Progress | None, phases: int):
        self.progress = progress
        self.phases = phases
        self.rows = 0

    def read(self, done: int, estimate: int) -> None:
        if self.progress is not None:
            self.progress(done, max(estimate, 1) * self.phases)

    def at(self, phase: int, done: int) -> None:
        if self.progress is not None and self.rows:
            self.progress(phase * self.rows + done, self.rows * self.phases)


def map_headers(headers: list[str], columns: Iterable[Column], report: "ImportReport") -> dict[str, tuple[int, str]]:
    """Column key → (index, header as written). Unknown headers warn; duplicates and missing required ones err."""
    columns = list(columns)
    lookup: dict[str, str] = {}
    for col in columns:
        for spelling in (col.zh, col.en, col.key, *col.synonyms):
            lookup.setdefault(cells.normalise_header(spelling), col.key)
    found: dict[str, tuple[int, str]] = {}
    for i, header in enumerate(headers):
        if not header:
            continue
        key = lookup.get(cells.normalise_header(header))
        if key is None:
            report.warnings.append(FieldError(header, _("未识别的列，已忽略"), 1))
        elif key in found:
            first = found[key][1]
            report.errors.append(FieldError(header, _("与“{first}”列重复").format(first=first), 1, header))
        else:
            found[key] = (i, header)
    for col in columns:
        if col.required and col.key not in found:
            report.errors.append(
                FieldError(col.zh, _("缺少必填列“{column}”").format(column=localized(col.zh, col.en)), 1)
            )
    return found


@dataclass
class Parsed:
    row: int
    values: dict[str, Any]
    bad: set[str]  # keys whose cell could not be read (already reported)


def parse_rows(
    table: cells.Table,
    columns: tuple[Column, ...],
    found: dict[str, tuple[int, str]],
    errors: Collector,
    labels: dict[str, str],
) -> list[Parsed]:
    parsers = [(key, idx, next(c.parse for c in columns if c.key == key)) for key, (idx, _) in found.items()]
    out: list[Parsed] = []
    for number, row in table.rows:
        values: dict[str, Any] = {}
        bad: set[str] = set()
        for key, idx, parse in parsers:
            raw = row[idx] if idx < len(row) else None
            try:
                values[key] = parse(raw)
            except cells.CellError as exc:
                errors.add(labels[key], str(exc), number, raw)
                values[key] = None
                bad.add(key)
        for col in columns:
            values.setdefault(col.key, None)
            if col.required and values[col.key] is None and col.key not in bad:
                errors.add(labels[col.key], _("{column}必填").format(column=localized(col.zh, col.en)), number)
                bad.add(col.key)
        out.append(Parsed(number, values, bad))
    return out


def chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]
