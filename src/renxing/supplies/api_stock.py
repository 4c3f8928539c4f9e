"""JSON routes of stock: levels, the ledger, movements, transfers, counts, expiry; every list also
as .xlsx. A refused movement or count is one 422 naming each field (``lines.3.counted``) or
sheet row at fault, and nothing is written."""

from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response

from renxing import importing as cells
from renxing.errors import FieldError, Invalid
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition
from renxing.i18n import _
from renxing.listing import ListQuery
from renxing.supplies import count_sheet, counts, movements, stock
from renxing.supplies import stock_views as views
from renxing.supplies.counts import CountLine
from renxing.supplies.movements import ReceiptLine
from renxing.supplies.stock_schemas import (
    AreaStockOut,
    CountIn,
    CountOut,
    ExpiryOut,
    IssueIn,
    MovementIdsOut,
    MovementOut,
    PointStockOut,
    ReceiptIn,
    ReceiveIn,
    ReverseIn,
    TransferIn,
    TransferOut,
    TransfersOut,
    WriteOffIn,
)
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams, Moment
from renxing.web.schemas import XLSX, PageOut, file_answer

router = APIRouter(prefix="/api/v1/supplies", tags=["supplies"])

T = TypeVar("T")
KindParam = Annotated[
    str | None, Query(description="community_store, partner_site, shelter_store, household_kits", max_length=24)
]
UnitParam = Annotated[Id | None, Query(description="only points in this unit's subtree (a community, an area)")]
Days = Annotated[int, Query(ge=0, le=stock.MAX_EXPIRY_DAYS, description="expiring within this many days")]
TransferStatusParam = Literal["in_transit", "received", "cancelled", "any"]


def _xlsx(data: bytes, name: str, fallback: str) -> Response:
    return Response(
        data, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": content_disposition(name, fallback)}
    )


def _by_line(call: Callable[[], T], prefix: str = "lines") -> T:
    """Errors of the n-th line (row n, from 1) name the body's field as ``lines.<n-1>.<field>``."""
    try:
        return call()
    except Invalid as exc:
        for e in exc.errors:
            if e.row is not None:
                e.field, e.row = f"{prefix}.{e.row - 1}.{e.field}", None
        raise


# ---- levels ----------------------------------------------------------------------------------


@router.get(
    "/points/{point_id}/stock",
    response_model=PointStockOut,
    summary="A point's stock by item, with lots (earliest expiry first), minimums and goods on the way",
)
def point_stock(point_id: Id, session: DB, actor: CurrentUser) -> dict:
    today = stock.today_here()
    point, levels = stock.point_levels(session, actor, point_id, today=today)
    return {"point": views.point_ref(point), "as_of": today, "items": [views.level_row(v) for v in levels]}


@router.get(
    "/points/{point_id}/stock.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the point's stock, a row per lot"),
    summary="A point's stock as Excel",
)
def point_stock_xlsx(point_id: Id, session: DB, actor: CurrentUser) -> Response:
    point, levels = stock.point_levels(session, actor, point_id)
    data = views.levels_xlsx(_("库存"), levels, by_lot=True)
    return _xlsx(data, _("{point}库存.xlsx").format(point=point.name), f"stock-{point.id}.xlsx")


@router.get(
    "/stock",
    response_model=AreaStockOut,
    summary="Stock by item summed over the points of a community or area (optionally one kind of point)",
)
def area_stock(session: DB, actor: CurrentUser, unit_id: UnitParam = None, kind: KindParam = None) -> dict:
    today = stock.today_here()
    unit, levels = stock.community_stock(session, actor, unit_id, kind=kind, today=today)
    return {
        "unit_id": unit.id if unit else None,
        "unit_name": unit.name if unit else None,
        "kind": kind or None,
        "as_of": today,
        "items": [views.level_row(v) for v in levels],
    }


@router.get(
    "/stock.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "stock by item"),
    summary="Stock by item of a community or area as Excel",
)
def area_stock_xlsx(session: DB, actor: CurrentUser, unit_id: UnitParam = None, kind: KindParam = None) -> Response:
    unit, levels = stock.community_stock(session, actor, unit_id, kind=kind)
    name = unit.name if unit else _("全部")
    return _xlsx(
        views.levels_xlsx(_("库存"), levels, by_lot=False), _("{name}库存.xlsx").format(name=name), "stock.xlsx"
    )


# ---- the ledger ------------------------------------------------------------------------------


def _ledger_query(
    query: ListQuery,
    point_id: Id | None,
    item_id: Id | None,
    kind: str | None,
    since: Moment | None,
    until: Moment | None,
    lot: str | None,
    transfer_id: Id | None,
    count_id: Id | None,
    run_id: Id | None,
) -> ListQuery:
    query.filters = {
        "point_id": point_id,
        "item_id": item_id,
        "kind": kind,
        "since": stock.aware(since) if since else None,
        "until": stock.aware(until) if until else None,
        "lot": lot,
        "transfer_id": transfer_id,
        "count_id": count_id,
        "run_id": run_id,
    }
    return query


LedgerKind = Annotated[
    str | None,
    Query(max_length=16, description="receipt, issue, transfer_out, transfer_in, adjustment, write_off, reversal"),
]
Since = Annotated[Moment | None, Query(description="happened at or after (ISO 8601; no zone: local time)")]
Until = Annotated[Moment | None, Query(description="happened before")]
LotParam = Annotated[str | None, Query(max_length=40)]


@router.get(
    "/ledger",
    response_model=PageOut[MovementOut],
    summary="The stock ledger, one page (sort: occurred_at, recorded_at, id; q: note or lot)",
)
def ledger_list(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    unit_id: UnitParam = None,
    point_id: Id | None = None,
    item_id: Id | None = None,
    kind: LedgerKind = None,
    since: Since = None,
    until: Until = None,
    lot: LotParam = None,
    transfer_id: Id | None = None,
    count_id: Id | None = None,
    run_id: Id | None = None,
) -> dict:
    query = _ledger_query(query, point_id, item_id, kind, since, until, lot, transfer_id, count_id, run_id)
    page = stock.ledger_page(session, actor, query, unit_id=unit_id)
    return page.to_dict([views.movement_row(r) for r in page.items])


@router.get(
    "/ledger.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the ledger entries of the filters"),
    summary="The stock ledger with the same filters as Excel",
)
def ledger_xlsx(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    unit_id: UnitParam = None,
    point_id: Id | None = None,
    item_id: Id | None = None,
    kind: LedgerKind = None,
    since: Since = None,
    until: Until = None,
    lot: LotParam = None,
    transfer_id: Id | None = None,
    count_id: Id | None = None,
    run_id: Id | None = None,
) -> Response:
    query = _ledger_query(query, point_id, item_id, kind, since, until, lot, transfer_id, count_id, run_id)
    page = stock.ledger_page(session, actor, query, unit_id=unit_id, export=True)
    return _xlsx(views.ledger_xlsx(page.items), _("库存流水.xlsx"), "ledger.xlsx")


# ---- movements -------------------------------------------------------------------------------


@router.post("/receipts", status_code=201, response_model=MovementIdsOut, summary="Goods received at a point (入库)")
def post_receipt(data: ReceiptIn, session: DB, actor: CurrentUser) -> dict:
    lines = [ReceiptLine(x.item_id, x.quantity, x.unit, x.lot, x.expiry) for x in data.lines]
    ids = _by_line(
        lambda: movements.receive(
            session, actor, data.point_id, lines, occurred_at=data.occurred_at, note=data.note or None
        )
    )
    return {"ids": ids}


@router.post(
    "/issues",
    status_code=201,
    response_model=MovementIdsOut,
    summary="Goods handed out (出库): earliest expiry first unless a lot is named; never an expired lot",
)
def post_issue(data: IssueIn, session: DB, actor: CurrentUser) -> dict:
    ids = movements.issue(
        session,
        actor,
        data.point_id,
        data.item_id,
        data.quantity,
        unit=data.unit,
        lot=data.lot or None,
        agreement_id=data.agreement_id,
        occurred_at=data.occurred_at,
        note=data.note or None,
    )
    return {"ids": ids}


@router.post(
    "/write-offs",
    status_code=201,
    response_model=MovementIdsOut,
    summary="Stock taken out as expired, damaged or lost (报废)",
)
def post_write_off(data: WriteOffIn, session: DB, actor: CurrentUser) -> dict:
    ids = movements.write_off(
        session,
        actor,
        data.point_id,
        data.item_id,
        data.quantity,
        reason=data.reason,
        lot=data.lot or None,
        unit=data.unit,
        occurred_at=data.occurred_at,
        note=data.note or None,
    )
    return {"ids": ids}


@router.post(
    "/movements/{movement_id}/reverse",
    status_code=201,
    response_model=MovementIdsOut,
    summary="Undo one ledger entry exactly with a reversing entry (冲销)",
)
def reverse_movement(movement_id: Id, session: DB, actor: CurrentUser, data: ReverseIn | None = None) -> dict:
    return {"ids": [movements.reverse(session, actor, movement_id, note=data.note if data else None)]}


# ---- transfers -------------------------------------------------------------------------------


@router.post(
    "/transfers",
    status_code=201,
    response_model=TransfersOut,
    summary="Send goods to another point (调拨): in transit until received",
)
def post_transfer(data: TransferIn, session: DB, actor: CurrentUser) -> dict:
    sent = movements.transfer(
        session,
        actor,
        data.from_point_id,
        data.to_point_id,
        data.item_id,
        data.quantity,
        unit=data.unit,
        lot=data.lot or None,
        agreement_id=data.agreement_id,
        occurred_at=data.occurred_at,
        received=data.received,
        note=data.note or None,
    )
    return {"transfers": views.transfer_rows(session, sent)}


def _transfers_query(query: ListQuery, status: str, from_point_id, to_point_id, item_id, run_id) -> ListQuery:
    query.filters = {
        "status": None if status == "any" else status,
        "from_point_id": from_point_id,
        "to_point_id": to_point_id,
        "item_id": item_id,
        "run_id": run_id,
    }
    return query


@router.get(
    "/transfers",
    response_model=PageOut[TransferOut],
    summary="Transfers from or to the user's points, in transit by default (sort: sent_at, id, quantity)",
)
def transfer_list(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    status: TransferStatusParam = "in_transit",
    unit_id: UnitParam = None,
    from_point_id: Id | None = None,
    to_point_id: Id | None = None,
    item_id: Id | None = None,
    run_id: Id | None = None,
) -> dict:
    query = _transfers_query(query, status, from_point_id, to_point_id, item_id, run_id)
    page = stock.transfers_page(session, actor, query, unit_id=unit_id)
    return page.to_dict([views.transfer_row(r) for r in page.items])


@router.get(
    "/transfers.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the transfers of the filters"),
    summary="Transfers with the same filters as Excel",
)
def transfer_xlsx(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    status: TransferStatusParam = "in_transit",
    unit_id: UnitParam = None,
    from_point_id: Id | None = None,
    to_point_id: Id | None = None,
    item_id: Id | None = None,
    run_id: Id | None = None,
) -> Response:
    query = _transfers_query(query, status, from_point_id, to_point_id, item_id, run_id)
    page = stock.transfers_page(session, actor, query, unit_id=unit_id, export=True)
    return _xlsx(views.transfers_xlsx(page.items), _("调拨.xlsx"), "transfers.xlsx")


@router.post(
    "/transfers/{transfer_id}/receive",
    response_model=TransfersOut,
    summary="The goods of a transfer arrived (签收): the in leg is posted at the receiving point",
)
def receive_transfer(transfer_id: Id, session: DB, actor: CurrentUser, data: ReceiveIn | None = None) -> dict:
    t = movements.receive_transfer(session, actor, transfer_id, occurred_at=data.occurred_at if data else None)
    return {"transfers": views.transfer_rows(session, [t])}


@router.post(
    "/transfers/{transfer_id}/cancel",
    response_model=TransfersOut,
    summary="Call back goods still in transit: the out leg is reversed",
)
def cancel_transfer(transfer_id: Id, session: DB, actor: CurrentUser, data: ReverseIn | None = None) -> dict:
    t = stock.cancel_transfer(session, actor, transfer_id, note=data.note if data else None)
    return {"transfers": views.transfer_rows(session, [t])}


# ---- counts ----------------------------------------------------------------------------------


@router.post(
    "/points/{point_id}/counts",
    status_code=201,
    response_model=CountOut,
    summary="Post a stock count (盘点): each difference becomes an adjustment with its reason; all or nothing",
)
def post_count(point_id: Id, data: CountIn, session: DB, actor: CurrentUser) -> dict:
    lines = [
        CountLine(x.item_id, x.counted, x.lot, x.expiry, x.reason or None, row=n)
        for n, x in enumerate(data.lines, start=1)
    ]
    result = _by_line(
        lambda: counts.post_count(
            session, actor, point_id, lines, counted_at=data.counted_at, source=data.source, note=data.note or None
        )
    )
    return views.count_answer(result)


@router.post(
    "/points/{point_id}/counts/upload",
    status_code=201,
    response_model=CountOut,
    summary="Upload a filled count sheet (盘点表 .xlsx or .csv); one bad row refuses the sheet, naming row and column",
)
def upload_count(
    point_id: Id,
    session: DB,
    actor: CurrentUser,
    file: UploadFile = File(...),
    counted_at: Annotated[Moment | None, Form(description="when the count was made (default now)")] = None,
    note: Annotated[str | None, Form(max_length=200)] = None,
) -> dict:
    try:
        data = cells.read_upload(file.file)
    except cells.SheetError as exc:
        raise Invalid(str(exc), [FieldError("file", str(exc), value=file.filename)]) from exc
    result = count_sheet.import_count_sheet(
        session, actor, point_id, data, file.filename or "count.xlsx", counted_at=counted_at, note=note or None
    )
    return views.count_answer(result)


@router.get(
    "/points/{point_id}/count-sheet.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the count sheet with the book quantities"),
    summary="The count sheet (盘点表) of a point to print and fill in",
)
def count_sheet_xlsx(point_id: Id, session: DB, actor: CurrentUser) -> Response:
    point, data = count_sheet.count_sheet(session, actor, point_id)
    return _xlsx(data, f"{count_sheet.sheet_name(point)}.xlsx", f"count-sheet-{point.id}.xlsx")


# ---- expiry ----------------------------------------------------------------------------------


def _expiry_query(query: ListQuery, point_id, item_id, kind) -> ListQuery:
    query.filters = {"point_id": point_id, "item_id": item_id, "kind": kind}
    return query


@router.get(
    "/expiry",
    response_model=PageOut[ExpiryOut],
    summary="Lots expired or expiring within `days` (60), with what to do: write off, use first, replace",
)
def expiry_list(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    days: Days = stock.EXPIRY_DAYS,
    expired_only: bool = False,
    unit_id: UnitParam = None,
    point_id: Id | None = None,
    item_id: Id | None = None,
    kind: KindParam = None,
) -> dict:
    query = _expiry_query(query, point_id, item_id, kind)
    page = stock.expiry_page(session, actor, query, unit_id=unit_id, days=days, expired_only=expired_only)
    return page.to_dict([views.expiry_row(r) for r in page.items])


@router.get(
    "/expiry.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the expiry list with what to do"),
    summary="The expiry list as Excel",
)
def expiry_xlsx(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    days: Days = stock.EXPIRY_DAYS,
    expired_only: bool = False,
    unit_id: UnitParam = None,
    point_id: Id | None = None,
    item_id: Id | None = None,
    kind: KindParam = None,
) -> Response:
    today = stock.today_here()
    query = _expiry_query(query, point_id, item_id, kind)
    page = stock.expiry_page(
        session, actor, query, unit_id=unit_id, days=days, expired_only=expired_only, today=today, export=True
    )
    return _xlsx(views.expiry_xlsx(page.items, today), _("临期与过期物资.xlsx"), "expiry.xlsx")
