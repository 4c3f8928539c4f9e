"""JSON routes of the cloud warehouse: items, storage points, minimum levels, agreements.

Record ids are matched as integers in the paths (``{id:int}``), so the stock and planning
routes beside them (``/points/levels`` …) are never taken for an id.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition, to_xlsx
from renxing.i18n import _
from renxing.supplies import agreements, items, points
from renxing.supplies.schemas import (
    CATEGORIES,
    KINDS,
    AgreementIn,
    AgreementOut,
    AgreementPatch,
    AgreementRow,
    Done,
    ItemIn,
    ItemOut,
    ItemPatch,
    MinimumIn,
    MinimumOut,
    NeedIn,
    NeedOut,
    NeedPatch,
    PointIn,
    PointOut,
    PointPatch,
    RenewIn,
    TerminateIn,
)
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams
from renxing.web.schemas import XLSX, PageOut, file_answer

router = APIRouter(prefix="/api/v1/supplies", tags=["supplies"])

CRS_DOC = "datum of the coordinates: wgs84 (default), gcj02 or bd09"
Crs = Annotated[str | None, Query(max_length=40, description=CRS_DOC)]
Category = Annotated[str | None, Query(max_length=24, description=", ".join(CATEGORIES))]
Kind = Annotated[str | None, Query(max_length=24, description=KINDS)]
Status = Annotated[
    str | None, Query(max_length=16, description="upcoming, in_force, expiring (≤ 30 days left), expired, terminated")
]


def _sheet(headers: list[str], rows: list[list[Any]], name: str, fallback: str) -> Response:
    return Response(
        to_xlsx(headers, rows, sheet=name),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(f"{name}.xlsx", fallback)},
    )


# ---- items and needs ----------------------------------------------------------------------------


@router.get(
    "/items",
    response_model=PageOut[ItemOut],
    summary="The item catalogue with needs, one page (q: name or code; sort: category, code, name)",
)
def list_items(
    session: DB, actor: CurrentUser, query: ListParams, category: Category = None, active: bool | None = None
):
    query.filters = {"category": category, "active": active}
    page = items.list_items(session, actor, query)
    return page.to_dict(items.present_all(session, page.items))


@router.get(
    "/items.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the catalogue of the list's filters, needs in words"),
    summary="The item catalogue as Excel",
)
def items_xlsx(
    session: DB, actor: CurrentUser, query: ListParams, category: Category = None, active: bool | None = None
):
    query.filters = {"category": category, "active": active}
    headers, rows = items.export_rows(session, items.all_items(session, actor, query))
    return _sheet(headers, rows, _("物资目录"), "items.xlsx")


@router.get("/items/{item_id:int}", response_model=ItemOut, summary="One item with its needs")
def get_item(item_id: Id, session: DB, actor: CurrentUser) -> dict:
    return items.present_all(session, [items.get_item(session, actor, item_id)])[0]


@router.post("/items", status_code=201, response_model=ItemOut, summary="Add an item to the catalogue")
def create_item(data: ItemIn, session: DB, actor: CurrentUser) -> dict:
    return items.present_all(session, [items.create_item(session, actor, data)])[0]


@router.patch("/items/{item_id:int}", response_model=ItemOut, summary="Change an item (active=false deactivates it)")
def update_item(item_id: Id, patch: ItemPatch, session: DB, actor: CurrentUser) -> dict:
    return items.present_all(session, [items.update_item(session, actor, item_id, patch)])[0]


@router.get("/items/{item_id:int}/needs", response_model=list[NeedOut], summary="An item's per-person needs")
def list_needs(item_id: Id, session: DB, actor: CurrentUser) -> list[dict]:
    return [items.present_need(n) for n in items.list_needs(session, actor, item_id)]


@router.post(
    "/items/{item_id:int}/needs", status_code=201, response_model=NeedOut, summary="Add a need, with its source"
)
def create_need(item_id: Id, data: NeedIn, session: DB, actor: CurrentUser) -> dict:
    return items.present_need(items.create_need(session, actor, item_id, data))


@router.patch("/items/{item_id:int}/needs/{need_id:int}", response_model=NeedOut, summary="Change a need")
def update_need(item_id: Id, need_id: Id, patch: NeedPatch, session: DB, actor: CurrentUser) -> dict:
    return items.present_need(items.update_need(session, actor, item_id, need_id, patch))


@router.delete("/items/{item_id:int}/needs/{need_id:int}", response_model=Done, summary="Remove a need")
def delete_need(item_id: Id, need_id: Id, session: DB, actor: CurrentUser) -> dict:
    items.delete_need(session, actor, item_id, need_id)
    return {"ok": True}


# ---- storage points and minimum levels ------------------------------------------------------------


@router.get(
    "/points",
    response_model=PageOut[PointOut],
    summary="Storage points in scope (a partner: its own), one page (q: name or address; sort: community, kind, name)",
)
def list_points(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    kind: Kind = None,
    unit_id: Annotated[Id | None, Query(description="the community")] = None,
    org_id: Annotated[Id | None, Query(description="the partner")] = None,
    active: bool | None = None,
    crs: Crs = None,
) -> dict:
    target = points.crs_of(crs)
    query.filters = {"kind": kind, "unit_id": unit_id, "org_id": org_id, "active": active}
    page = points.list_points(session, actor, query)
    return page.to_dict(points.present_all(session, page.items, target))


@router.get(
    "/points.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the storage points of the list's filters"),
    summary="Storage points as Excel",
)
def points_xlsx(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    kind: Kind = None,
    unit_id: Annotated[Id | None, Query(description="the community")] = None,
    org_id: Annotated[Id | None, Query(description="the partner")] = None,
    active: bool | None = None,
) -> Response:
    query.filters = {"kind": kind, "unit_id": unit_id, "org_id": org_id, "active": active}
    headers, rows = points.export_rows(session, points.all_points(session, actor, query))
    return _sheet(headers, rows, _("储备点"), "storage-points.xlsx")


@router.get("/points/{point_id:int}", response_model=PointOut, summary="One storage point")
def get_point(point_id: Id, session: DB, actor: CurrentUser, crs: Crs = None) -> dict:
    target = points.crs_of(crs)
    return points.present_all(session, [points.get_point(session, actor, point_id)], target)[0]


@router.post("/points", status_code=201, response_model=PointOut, summary="Add a storage point")
def create_point(data: PointIn, session: DB, actor: CurrentUser, crs: Crs = None) -> dict:
    return points.present_all(session, [points.create_point(session, actor, data, crs=crs)])[0]


@router.patch(
    "/points/{point_id:int}",
    response_model=PointOut,
    summary="Change a storage point (a partner: address, access hours and contact of its own site)",
)
def update_point(point_id: Id, patch: PointPatch, session: DB, actor: CurrentUser, crs: Crs = None) -> dict:
    return points.present_all(session, [points.update_point(session, actor, point_id, patch, crs=crs)])[0]


@router.get("/points/{point_id:int}/minimums", response_model=list[MinimumOut], summary="A point's minimum levels")
def list_minimums(point_id: Id, session: DB, actor: CurrentUser) -> list[dict]:
    return [points.present_minimum(m, i) for m, i in points.list_minimums(session, actor, point_id)]


@router.put(
    "/points/{point_id:int}/minimums/{item_id:int}",
    response_model=MinimumOut,
    summary="Set the least a point should hold of an item (below it, staff are told)",
)
def set_minimum(point_id: Id, item_id: Id, data: MinimumIn, session: DB, actor: CurrentUser) -> dict:
    return points.present_minimum(*points.set_minimum(session, actor, point_id, item_id, data.minimum))


@router.delete("/points/{point_id:int}/minimums/{item_id:int}", response_model=Done, summary="Clear a minimum level")
def clear_minimum(point_id: Id, item_id: Id, session: DB, actor: CurrentUser) -> dict:
    points.clear_minimum(session, actor, point_id, item_id)
    return {"ok": True}


# ---- agreements -------------------------------------------------------------------------------------


@router.get(
    "/agreements",
    response_model=PageOut[AgreementRow],
    summary="Agreements in scope (a partner: its own), one page (q: number or title; sort: valid_until, number, …)",
)
def list_agreements(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    status: Status = None,
    org_id: Annotated[Id | None, Query(description="the partner")] = None,
    unit_id: Annotated[Id | None, Query(description="the community")] = None,
) -> dict:
    query.filters = {"status": status, "org_id": org_id, "unit_id": unit_id}
    page = agreements.list_agreements(session, actor, query)
    return page.to_dict(agreements.present_rows(session, page.items))


@router.get(
    "/agreements.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the agreements of the list's filters with their lines and contacts"),
    summary="Agreements as Excel",
)
def agreements_xlsx(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    status: Status = None,
    org_id: Annotated[Id | None, Query(description="the partner")] = None,
    unit_id: Annotated[Id | None, Query(description="the community")] = None,
) -> Response:
    query.filters = {"status": status, "org_id": org_id, "unit_id": unit_id}
    headers, rows = agreements.export_rows(session, agreements.all_agreements(session, actor, query))
    return _sheet(headers, rows, _("储备协议"), "agreements.xlsx")


@router.get("/agreements/{agreement_id:int}", response_model=AgreementOut, summary="One agreement with its lines")
def get_agreement(agreement_id: Id, session: DB, actor: CurrentUser) -> dict:
    return agreements.present(session, agreements.get_agreement(session, actor, agreement_id))


@router.post("/agreements", status_code=201, response_model=AgreementOut, summary="Record a signed agreement")
def create_agreement(data: AgreementIn, session: DB, actor: CurrentUser) -> dict:
    return agreements.present(session, agreements.create_agreement(session, actor, data))


@router.patch(
    "/agreements/{agreement_id:int}",
    response_model=AgreementOut,
    summary="Change an agreement (lines replace all; a partner: activation, contact chain and note of its own)",
)
def update_agreement(agreement_id: Id, patch: AgreementPatch, session: DB, actor: CurrentUser) -> dict:
    return agreements.present(session, agreements.update_agreement(session, actor, agreement_id, patch))


@router.post(
    "/agreements/{agreement_id:int}/terminate",
    response_model=AgreementOut,
    summary="End an agreement before its term (kept, dated and audited)",
)
def terminate_agreement(agreement_id: Id, session: DB, actor: CurrentUser, data: TerminateIn | None = None) -> dict:
    reason = data.reason if data is not None else None
    return agreements.present(session, agreements.terminate(session, actor, agreement_id, reason))


@router.post(
    "/agreements/{agreement_id:int}/renew",
    status_code=201,
    response_model=AgreementOut,
    summary="Renew: a new agreement with new dates and the same lines (the old one stays)",
)
def renew_agreement(agreement_id: Id, session: DB, actor: CurrentUser, data: RenewIn | None = None) -> dict:
    return agreements.present(session, agreements.renew(session, actor, agreement_id, data or RenewIn()))
