"""Stock counts: differences posted as adjustments with their reasons, all or nothing; households'
kits by survey; the count sheet (盘点表) out and back in, in Chinese or English headers."""

import io
from datetime import timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import event, func, select

from renxing.auth.principal import SYSTEM
from renxing.db import transaction, utcnow
from renxing.errors import Invalid
from renxing.supplies import count_sheet, counts, ledger, movements
from renxing.supplies.counts import CountLine
from renxing.supplies.models import Movement, StockCount
from renxing.supplies.movements import ReceiptLine
from tests.kit.supplies_world import supplies_world
from tests.supplies.stock_kit import LATER, SOON, acting, entries, lots


@pytest.fixture
def sw(engine, world):
    sw = supplies_world(engine, world)
    it = sw.items
    with transaction(engine) as s:
        movements.receive(
            s,
            SYSTEM,
            sw.points["store"],
            [
                ReceiptLine(it["water"], 100, lot="W1", expiry=LATER),
                ReceiptLine(it["water"], 40, lot="W2", expiry=SOON),
                ReceiptLine(it["blanket"], 20),
                ReceiptLine(it["torch"], 5),
            ],
        )
        movements.receive(s, SYSTEM, sw.points["kits_b1"], [ReceiptLine(it["torch"], 4)])
    return sw


def fields(exc) -> list[tuple[str, int | None]]:
    return [(e.field, e.row) for e in exc.value.errors]


def test_a_count_posts_each_difference_with_its_reason_and_leaves_unlisted_lots(engine, sw):
    it, store = sw.items, sw.points["store"]
    counted_at = utcnow() - timedelta(hours=5)
    lines = [
        CountLine(it["water"], 97, lot="W1", reason="lost", row=1),
        CountLine(it["blanket"], 22, reason="found", row=2),
        CountLine(it["torch"], 5, row=3),  # as booked: no entry, no reason needed
    ]
    with transaction(engine) as s:
        result = counts.post_count(s, acting(engine, "secretary"), store, lines, counted_at=counted_at, note="季度盘点")
        count_id = result.count.id
    assert [(d.difference, d.reason) for d in result.differences] == [(-3, "lost"), (2, "found")]
    assert lots(engine, store, it["water"]) == {"W1": 97, "W2": 40}  # W2 not counted: untouched
    assert lots(engine, store, it["blanket"]) == {"": 22}
    with transaction(engine) as s:
        c = s.get(StockCount, count_id)
        assert (c.lines, c.adjustments, c.source, c.counted_at) == (3, 2, "form", counted_at)
        posted = s.scalars(select(Movement).where(Movement.count_id == count_id).order_by(Movement.id)).all()
        assert [(m.kind, m.quantity, m.reason, m.occurred_at) for m in posted] == [
            ("adjustment", -3, "lost", counted_at),
            ("adjustment", 2, "found", counted_at),
        ]


def test_every_bad_line_is_named_and_nothing_is_written(engine, sw):
    it = sw.items
    lines = [
        CountLine(it["water"], 90, lot="W1", row=1),  # a difference without a reason
        CountLine(it["blanket"], 25, reason="lost", row=2),  # "lost" cannot explain a surplus
        CountLine(999_999, 1, row=3),
        CountLine(it["water"], 5, lot="NEW", row=4),  # a new lot of water needs its expiry
        CountLine(it["torch"], 1, lot="T1", reason="lost", row=5),  # torches have no lots
        CountLine(it["water"], 91, lot="W1", reason="lost", row=6),  # W1 again
    ]
    before = entries(engine)
    with pytest.raises(Invalid) as exc, transaction(engine) as s:
        counts.post_count(s, SYSTEM, sw.points["store"], lines)
    assert fields(exc) == [("reason", 1), ("reason", 2), ("item_id", 3), ("expiry", 4), ("lot", 5), ("lot", 6)]
    assert entries(engine) == before
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(StockCount)) == 0


def test_a_survey_of_household_kits_needs_no_reason_and_only_kits_are_surveyed(engine, sw):
    it = sw.items
    with transaction(engine) as s:
        result = counts.post_count(
            s,
            acting(engine, "leader1"),  # building B1's leader counts its kits
            sw.points["kits_b1"],
            [CountLine(it["torch"], 3), CountLine(it["water"], 24, expiry=LATER)],
            source="survey",
        )
    assert sorted((d.difference, d.reason) for d in result.differences) == [(-1, "consumed"), (24, "found")]
    with pytest.raises(Invalid) as exc, transaction(engine) as s:
        counts.post_count(s, SYSTEM, sw.points["store"], [CountLine(it["torch"], 1)], source="survey")
    assert fields(exc) == [("source", None)]


def test_a_count_reads_the_balances_once_whatever_its_length(engine, sw):
    """No statement per line: a 600-line count makes as many calls to the database as a 2-line one
    (SQLite runs a bulk insert with RETURNING row by row under one call; PostgreSQL in one statement)."""
    water, store = sw.items["water"], sw.points["store"]
    with transaction(engine) as s:
        receipt = [ReceiptLine(water, 10, lot=f"L{n:04d}", expiry=LATER) for n in range(600)]
        movements.receive(s, SYSTEM, store, receipt)

    def statements(n: int, found: int) -> int:
        sent = []
        listener = lambda *args: sent.append(1)  # noqa: E731
        event.listen(engine, "before_execute", listener)
        try:
            with transaction(engine) as s:
                lines = [CountLine(water, found, lot=f"L{k:04d}", reason="damaged") for k in range(n)]
                counts.post_count(s, SYSTEM, store, lines)
        finally:
            event.remove(engine, "before_execute", listener)
        return len(sent)

    assert statements(600, 9) == statements(2, 8)
    # The bulk path (arrays in one statement on PostgreSQL) moved every lot and numbered the
    # entries in the order of the lines.
    with transaction(engine) as s:
        counted = {b.lot: b.quantity for b in ledger.lots(s, store, [water]) if b.lot.startswith("L")}
        lots = s.scalars(select(Movement.lot).where(Movement.kind == "adjustment").order_by(Movement.id)).all()
    assert counted == {f"L{k:04d}": 8 if k < 2 else 9 for k in range(600)}
    assert lots[:600] == [f"L{k:04d}" for k in range(600)]


def _filled(data: bytes, counted: dict[tuple[str, str], tuple[object, str | None]]) -> bytes:
    """The exported sheet with 实盘数量 and 差异原因 filled where ``counted`` says (code, lot)."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    for row in ws.iter_rows(min_row=2):
        key = (row[0].value, row[3].value or "")
        if key in counted:
            row[6].value, row[7].value = counted[key]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_count_sheet_goes_out_with_book_quantities_and_comes_back_as_a_count(engine, sw):
    it, store = sw.items, sw.points["store"]
    secretary = acting(engine, "secretary")
    with transaction(engine) as s:
        _point, data = count_sheet.count_sheet(s, secretary, store)
    ws = load_workbook(io.BytesIO(data)).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == ["物资编码", "物资名称", "单位", "批号", "有效期", "账面数量", "实盘数量", "差异原因", "备注"]
    booked = {(r[0], r[3] or ""): r[5] for r in rows[1:]}
    number = {(r[0], r[3] or ""): n for n, r in enumerate(rows, start=1)}
    assert booked[("water", "W1")] == 100 and booked[("water", "W2")] == 40 and booked[("blanket", "")] == 20
    assert booked[("tent", "")] == 0  # items not held are listed for what a count may find
    filled = _filled(data, {("water", "W2"): (38, "损坏"), ("blanket", ""): ("20", None), ("tent", ""): (1, "盘盈")})
    with transaction(engine) as s:
        result = count_sheet.import_count_sheet(s, secretary, store, filled, "盘点表.xlsx")
    assert sorted((d.item_id, d.difference, d.reason, d.row) for d in result.differences) == sorted(
        [(it["water"], -2, "damaged", number[("water", "W2")]), (it["tent"], 1, "found", number[("tent", "")])]
    )
    assert result.count.source == "sheet" and result.count.lines == 3
    assert lots(engine, store, it["water"]) == {"W1": 100, "W2": 38}


def _sheet(headers: list[str], rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_english_headers_and_packs_are_read(engine, sw):
    store = sw.points["store"]
    data = _sheet(["code", "unit", "lot", "counted", "reason"], [["water", "箱", "W1", 8, "lost"]])  # 8 × 12 L
    with transaction(engine) as s:
        count_sheet.import_count_sheet(s, SYSTEM, store, data, "count.xlsx")
    assert lots(engine, store, sw.items["water"])["W1"] == 96


def test_a_sheet_with_bad_rows_names_each_row_and_column_and_writes_nothing(engine, sw):
    headers = ["物资编码", "批号", "有效期", "实盘数量", "差异原因"]
    rows = [
        ["water", "W1", None, 99, "丢失"],  # fine alone
        ["nosuch", None, None, 1, None],
        ["blanket", None, None, "十几", None],
        ["water", "W2", "2026-02-30", 40, None],
        ["torch", None, None, 3, "被偷"],
    ]
    before = entries(engine)
    with pytest.raises(Invalid) as exc, transaction(engine) as s:
        count_sheet.import_count_sheet(s, SYSTEM, sw.points["store"], _sheet(headers, rows), "盘点表.xlsx")
    assert fields(exc) == [("物资编码", 3), ("实盘数量", 4), ("有效期", 5), ("差异原因", 6)]
    assert entries(engine) == before
    no_counted = _sheet(["物资编码", "批号"], [["water", "W1"]])
    with pytest.raises(Invalid) as exc, transaction(engine) as s:
        count_sheet.import_count_sheet(s, SYSTEM, sw.points["store"], no_counted, "盘点表.xlsx")
    assert fields(exc) == [("实盘数量", 1)]
