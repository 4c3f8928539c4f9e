"""JSON routes of the space layers under ``/api/v1/space``."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.convertors import Convertor, register_url_convertor

from renxing.errors import FieldError, Invalid
from renxing.i18n import _
from renxing.space import analysis, geojson_io, layers
from renxing.space.features import present
from renxing.space.layer_kinds import LAYERS, crs_param
from renxing.space.schemas import (
    ChecksOut,
    ExposureOut,
    FeatureCollectionIn,
    FeatureCollectionOut,
    FeatureOut,
    ImportOut,
    OkOut,
)
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams
from renxing.web.schemas import PageOut


class _LayerName(Convertor):
    """Only the layer names match ``/{layer}``, so other space routes (plans, pages) are never shadowed."""

    regex = "|".join(sorted({n for s in LAYERS.values() for n in (s.slug, s.key)}, key=len, reverse=True))

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


register_url_convertor("space_layer", _LayerName())
router = APIRouter(prefix="/api/v1/space", tags=["space"])

_COLLECTION_REF = "#/components/schemas/FeatureCollectionOut"
_LAYER_DOC = "hazard-zones, risk-points, passages, reserved-land, shelters, roads, features"
_CRS_DOC = "datum of the coordinates: wgs84 (default), gcj02 or bd09"


@router.get("/checks", summary="The 让防避 checks of a community", response_model=ChecksOut)
def get_checks(session: DB, actor: CurrentUser, community: Annotated[Id, Query(description="community id")]) -> dict:
    return analysis.run_checks(session, actor, community)


@router.get(
    "/hazard-zones/{zone_id}/exposure",
    summary="Who and what lies inside a hazard zone (counts only)",
    response_model=ExposureOut,
    response_model_exclude_unset=True,
)
def get_zone_exposure(zone_id: Id, session: DB, actor: CurrentUser) -> dict:
    return analysis.zone_exposure(session, actor, zone_id)


@router.get(
    "/exposure",
    summary="Exposure of a scenario: any of several hazard zones",
    response_model=ExposureOut,
    response_model_exclude_unset=True,
)
def get_scenario_exposure(
    session: DB, actor: CurrentUser, zones: Annotated[list[Id], Query(description="hazard zone ids; repeat")]
) -> dict:
    return analysis.scenario_exposure(session, actor, zones)


@router.get(
    "/layers/{layer}.geojson",
    summary="A layer as a GeoJSON FeatureCollection, in the datum asked for",
    response_model=FeatureCollectionOut,
    responses={200: {"content": {"application/geo+json": {"schema": {"$ref": _COLLECTION_REF}}}}},
)
def get_layer_geojson(
    layer: str,
    session: DB,
    actor: CurrentUser,
    community: Annotated[Id | None, Query(description="community id; default every community in scope")] = None,
    crs: str = Query("wgs84", description=_CRS_DOC),
) -> JSONResponse:
    # Sent as built: the map page loads whole layers, and re-validating every vertex would cost more
    # than reading them.
    return GeoJSONResponse(layers.layer_collection(session, actor, layer, community=community, crs=crs))


_COLLECTION_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": FeatureCollectionIn.model_json_schema()}},
    }
}


@router.post(
    "/layers/{layer}/import",
    status_code=201,
    summary="Import a GeoJSON FeatureCollection: all or nothing",
    openapi_extra=_COLLECTION_BODY,
    response_model=ImportOut,
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
            raise Invalid(_("请求体不是有效的 JSON"), [FieldError("body", str(exc))]) from exc
        if not isinstance(collection, dict):
            raise Invalid(_("须为 GeoJSON FeatureCollection"), [FieldError("body", "")])
        rows = geojson_io.import_collection(session, actor, layer, community, collection, crs=crs, replace=replace)
        return {"imported": len(rows), "ids": [r.id for r in rows]}

    return await run_in_threadpool(work)


@router.get(
    "/{layer:space_layer}",
    summary=f"One page of a layer ({_LAYER_DOC})",
    response_model=PageOut[FeatureOut],
    description="Sort by id, name, updated (latest first) or kind; '-' before a key reverses it.",
)
def list_layer(
    layer: str,
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    community: Id | None = None,
    kind: str | None = Query(None, max_length=32, description="layers with a kind"),
    status: str | None = Query(None, max_length=16, description="shelters: open, closed, candidate"),
    crs: str = Query("wgs84", description=_CRS_DOC),
) -> dict:
    target = crs_param(crs)
    query.filters.update(kind=kind, status=status)
    spec, result = layers.list_features(session, actor, layer, query, community=community)
    return result.to_dict([present(spec, r, target) for r in result.items])


@router.post("/{layer:space_layer}", status_code=201, summary="Add a feature to a layer", response_model=FeatureOut)
def create_in_layer(
    layer: str,
    session: DB,
    actor: CurrentUser,
    data: dict[str, Any] = Body(..., description="the layer's fields and a GeoJSON geometry"),
    crs: str | None = Query(None, description=_CRS_DOC),
) -> dict:
    spec, obj = layers.create_feature(session, actor, layer, data, crs=crs)
    return present(spec, obj)


@router.get("/{layer:space_layer}/{row_id}", summary="One feature", response_model=FeatureOut)
def get_in_layer(layer: str, row_id: Id, session: DB, actor: CurrentUser, crs: str = "wgs84") -> dict:
    target = crs_param(crs)
    spec, obj = layers.get_feature(session, actor, layer, row_id)
    return present(spec, obj, target)


@router.patch(
    "/{layer:space_layer}/{row_id}",
    summary="Change a feature (the result is validated as a whole)",
    response_model=FeatureOut,
)
def update_in_layer(
    layer: str,
    row_id: Id,
    session: DB,
    actor: CurrentUser,
    patch: dict[str, Any] = Body(..., description="the fields to change; the geometry in the crs given"),
    crs: str | None = Query(None, description=_CRS_DOC),
) -> dict:
    spec, obj = layers.update_feature(session, actor, layer, row_id, patch, crs=crs)
    return present(spec, obj)


@router.delete("/{layer:space_layer}/{row_id}", summary="Delete a feature", response_model=OkOut)
def delete_in_layer(layer: str, row_id: Id, session: DB, actor: CurrentUser) -> dict:
    layers.delete_feature(session, actor, layer, row_id)
    return {"ok": True}
