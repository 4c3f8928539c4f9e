"""JSON routes of the space layers under ``/api/v1/space``."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.convertors import Convertor, register_url_convertor

from renxing.errors import FieldError, Invalid
from renxing.space import analysis, geojson_io, service
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, PageNo, PageSize


class _LayerName(Convertor):
    """Only the layer names match ``/{layer}``, so other space routes (plans, pages) are never shadowed."""

    regex = "|".join(sorted({n for s in service.LAYERS.values() for n in (s.slug, s.key)}, key=len, reverse=True))

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("space_layer", _LayerName())
router = APIRouter(prefix="/api/v1/space", tags=["space"])

_LAYER_DOC = "hazard-zones, risk-points, passages, reserved-land, shelters, roads, features"
_CRS_DOC = "datum of the coordinates: wgs84 (default), gcj02 or bd09"


@router.get("/checks", summary="The 让防避 checks of a community")
def get_checks(session: DB, actor: CurrentUser, community: Annotated[Id, Query(description="community id")]) -> dict:
    return analysis.run_checks(session, actor, community)


@router.get("/hazard-zones/{zone_id}/exposure", summary="Who and what lies inside a hazard zone (counts only)")
def get_zone_exposure(zone_id: Id, session: DB, actor: CurrentUser) -> dict:
    return analysis.zone_exposure(session, actor, zone_id)


@router.get("/exposure", summary="Exposure of a scenario: any of several hazard zones")
def get_scenario_exposure(
    session: DB, actor: CurrentUser, zones: Annotated[list[Id], Query(description="hazard zone ids; repeat")]
) -> dict:
    return analysis.scenario_exposure(session, actor, zones)


@router.get("/layers/{layer}.geojson", summary="A layer as a GeoJSON FeatureCollection, in the datum asked for")
def get_layer_geojson(
    layer: str,
    session: DB,
    actor: CurrentUser,
    community: Annotated[Id | None, Query(description="community id; default every community in scope")] = None,
    crs: str = Query("wgs84", description=_CRS_DOC),
) -> JSONResponse:
    body = service.layer_collection(session, actor, layer, community=community, crs=crs)
    return JSONResponse(body, media_type="application/geo+json")


_COLLECTION_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "description": "a GeoJSON FeatureCollection"}}},
    }
}


@router.post(
    "/layers/{layer}/import",
    status_code=201,
    summary="Import a GeoJSON FeatureCollection: all or nothing",
    openapi_extra=_COLLECTION_BODY,
)
async def import_layer(
    layer: str,
    request: Request,
    session: DB,
    actor: CurrentUser,
    community: Annotated[Id, Query(description="community id the features belong to")] = ...,
    crs: str | None = Query(None, description=_CRS_DOC + "; default the collection's crs member, else wgs84"),
    replace: bool = Query(False, description="first delete the layer's rows of this community"),
) -> dict:
    # The body is read here, after the login: a body declared as a parameter would be parsed
    # before it, and an anonymous 20 MB of JSON unpacks to hundreds of MB of Python objects.
    raw = await request.body()

    def work() -> dict:
        try:
            collection = json.loads(raw)
        except ValueError as exc:
            raise Invalid("请求体不是有效的 JSON / the body is not valid JSON", [FieldError("body", str(exc))]) from exc
        if not isinstance(collection, dict):
            raise Invalid(
                "须为 GeoJSON FeatureCollection / must be a GeoJSON FeatureCollection", [FieldError("body", "")]
            )
        rows = geojson_io.import_collection(session, actor, layer, community, collection, crs=crs, replace=replace)
        return {"imported": len(rows), "ids": [r.id for r in rows]}

    return await run_in_threadpool(work)


@router.get("/{layer:space_layer}", summary=f"One page of a layer ({_LAYER_DOC})")
def list_layer(
    layer: str,
    session: DB,
    actor: CurrentUser,
    community: Id | None = None,
    kind: str | None = None,
    status: str | None = Query(None, description="shelters: open, closed, candidate"),
    q: str | None = Query(None, description="part of the name"),
    sort: str = Query("id", description="id, -id, name, kind, updated"),
    crs: str = Query("wgs84", description=_CRS_DOC),
    page: PageNo = 1,
    size: PageSize | None = None,
) -> dict:
    target = service.crs_param(crs)
    spec, result = service.list_features(
        session, actor, layer, community=community, kind=kind, status=status, q=q, sort=sort, page=page, size=size
    )
    return result.to_dict([service.present(spec, r, target) for r in result.items])


@router.post("/{layer:space_layer}", status_code=201, summary="Add a feature to a layer")
def create_in_layer(
    layer: str,
    session: DB,
    actor: CurrentUser,
    data: dict[str, Any] = Body(..., description="the layer's fields and a GeoJSON geometry"),
    crs: str | None = Query(None, description=_CRS_DOC),
) -> dict:
    spec, obj = service.create_feature(session, actor, layer, data, crs=crs)
    return service.present(spec, obj)


@router.get("/{layer:space_layer}/{row_id}", summary="One feature")
def get_in_layer(layer: str, row_id: Id, session: DB, actor: CurrentUser, crs: str = "wgs84") -> dict:
    target = service.crs_param(crs)
    spec, obj = service.get_feature(session, actor, layer, row_id)
    return service.present(spec, obj, target)


@router.patch("/{layer:space_layer}/{row_id}", summary="Change a feature (the result is validated as a whole)")
def update_in_layer(
    layer: str,
    row_id: Id,
    session: DB,
    actor: CurrentUser,
    patch: dict[str, Any] = Body(...),
    crs: str | None = Query(None, description=_CRS_DOC),
) -> dict:
    spec, obj = service.update_feature(session, actor, layer, row_id, patch, crs=crs)
    return service.present(spec, obj)


@router.delete("/{layer:space_layer}/{row_id}", summary="Delete a feature")
def delete_in_layer(layer: str, row_id: Id, session: DB, actor: CurrentUser) -> dict:
    service.delete_feature(session, actor, layer, row_id)
    return {"ok": True}
