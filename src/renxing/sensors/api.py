"""JSON routes of the sensors: devices, readings (device-authenticated batches), rules, triggers.

``POST /api/v1/sensors/readings`` is the devices' own route: no user session, the device's
credential in ``Authorization: Device <code>:<secret>``. Everything else is for staff with
``sensors_read`` / ``sensors_manage`` in their scope. Record ids are matched as integers in the
paths (``{id:int}``).
"""

from typing import Annotated

from fastapi import APIRouter, Header, Query

from renxing.sensors import devices, ingest, readings, rule_admin
from renxing.sensors.schemas import (
    CATEGORIES,
    KINDS,
    STATES,
    BatchIn,
    DeviceIn,
    DeviceOut,
    DevicePatch,
    DeviceSecretOut,
    IngestOut,
    RuleIn,
    RuleOut,
    RulePatch,
    SeriesOut,
    TriggerOut,
)
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams, Moment
from renxing.web.schemas import PageOut

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])

CRS_DOC = "datum of the coordinates: wgs84 (default), gcj02 or bd09"
Crs = Annotated[str | None, Query(max_length=40, description=CRS_DOC)]
Kind = Annotated[str | None, Query(max_length=24, description=KINDS)]
DEVICE_AUTH = "`Device <code>:<secret>`: the device's code and the secret shown when it was registered"
READINGS_DOC = (
    'Body `{"readings": [{"at": "2026-12-03T10:00:00+08:00", "value": 12.5}, …]}`: every time with '
    "its offset, at most `sensor_batch_max` readings, none more than `sensor_future_seconds` ahead "
    "of the server's clock, every value finite; one bad reading refuses the whole batch (422 naming "
    "`readings.<i>.at` or `readings.<i>.value`) and nothing is written. A reading sent again (same "
    "device and moment) is stored once; the answer counts the new ones and the duplicates. A wrong "
    "or missing credential is 401 naming `Authorization`, a deactivated device 403."
)


# ---- readings in ------------------------------------------------------------------------------------------


@router.post(
    "/readings",
    response_model=IngestOut,
    summary="A batch of readings of one device, authenticated by the device's credential",
    description=READINGS_DOC,
)
def post_readings(
    batch: BatchIn,
    session: DB,
    authorization: Annotated[str | None, Header(max_length=400, description=DEVICE_AUTH)] = None,
) -> dict:
    return ingest.receive_batch(session, authorization, batch).as_dict()


# ---- devices ------------------------------------------------------------------------------------------------


@router.get(
    "/devices",
    response_model=PageOut[DeviceOut],
    summary="Devices in scope, one page (q: name or code; sort: place, name, code, kind, state, last_reading_at)",
)
def list_devices(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    kind: Kind = None,
    state: Annotated[
        str | None, Query(max_length=16, description="stored state: unknown, normal, alarm, offline")
    ] = None,
    unit_id: Annotated[Id | None, Query(description="the building or community it stands at")] = None,
    active: bool | None = None,
    crs: Crs = None,
) -> dict:
    target = devices.crs_of(crs)
    query.filters = {"kind": kind, "state": state, "unit_id": unit_id, "active": active}
    page = devices.list_devices(session, actor, query)
    return page.to_dict(devices.present_all(session, page.items, target))


@router.post(
    "/devices",
    status_code=201,
    response_model=DeviceSecretOut,
    summary="Register a device; its secret is in this answer only",
)
def register_device(data: DeviceIn, session: DB, actor: CurrentUser, crs: Crs = None) -> dict:
    device, secret = devices.register_device(session, actor, data, crs=crs)
    return {**devices.present_all(session, [device])[0], "secret": secret}


@router.get("/devices/{device_id:int}", response_model=DeviceOut, summary=f"One device and its state ({STATES})")
def get_device(device_id: Id, session: DB, actor: CurrentUser, crs: Crs = None) -> dict:
    target = devices.crs_of(crs)
    return devices.present_all(session, [devices.get_device(session, actor, device_id)], target)[0]


@router.patch(
    "/devices/{device_id:int}",
    response_model=DeviceOut,
    summary="Change a device (active=false deactivates it: its readings are refused)",
)
def update_device(device_id: Id, patch: DevicePatch, session: DB, actor: CurrentUser, crs: Crs = None) -> dict:
    device = devices.update_device(session, actor, device_id, patch, crs=crs)
    return devices.present_all(session, [device])[0]


@router.post(
    "/devices/{device_id:int}/rotate-credential",
    response_model=DeviceSecretOut,
    summary="A new secret for the device (the old one stops working); in this answer only",
)
def rotate_credential(device_id: Id, session: DB, actor: CurrentUser) -> dict:
    device, secret = devices.rotate_credential(session, actor, device_id)
    return {**devices.present_all(session, [device])[0], "secret": secret}


@router.get(
    "/devices/{device_id:int}/readings",
    response_model=SeriesOut,
    summary="A device's readings in [since, until) (default: the last day; at most 92 days), thinned when long",
)
def device_readings(
    device_id: Id,
    session: DB,
    actor: CurrentUser,
    since: Annotated[Moment | None, Query(description="with its offset; default: a day before until")] = None,
    until: Annotated[Moment | None, Query(description="with its offset; default: now")] = None,
) -> dict:
    return readings.series(session, actor, device_id, since, until)


# ---- rules -----------------------------------------------------------------------------------------------------


@router.get(
    "/rules",
    response_model=PageOut[RuleOut],
    summary="Rules in scope, one page (q: name; sort: kind, name, level, created)",
)
def list_rules(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    kind: Kind = None,
    device_id: Annotated[Id | None, Query(description="a device's own rules")] = None,
    rule_type: Annotated[str | None, Query(max_length=16, description="threshold, rate")] = None,
    active: bool | None = None,
) -> dict:
    query.filters = {"kind": kind, "device_id": device_id, "rule_type": rule_type, "active": active}
    page = rule_admin.list_rules(session, actor, query)
    return page.to_dict(rule_admin.present_all(session, page.items))


@router.post(
    "/rules",
    status_code=201,
    response_model=RuleOut,
    summary=f"Create a rule for a kind across a community, or for one device (category: {', '.join(CATEGORIES)})",
)
def create_rule(data: RuleIn, session: DB, actor: CurrentUser) -> dict:
    return rule_admin.present_all(session, [rule_admin.create_rule(session, actor, data)])[0]


@router.get("/rules/{rule_id:int}", response_model=RuleOut, summary="One rule")
def get_rule(rule_id: Id, session: DB, actor: CurrentUser) -> dict:
    return rule_admin.present_all(session, [rule_admin.load_rule(session, actor, rule_id)])[0]


@router.patch("/rules/{rule_id:int}", response_model=RuleOut, summary="Change a rule (active=false deactivates it)")
def update_rule(rule_id: Id, patch: RulePatch, session: DB, actor: CurrentUser) -> dict:
    return rule_admin.present_all(session, [rule_admin.update_rule(session, actor, rule_id, patch)])[0]


# ---- triggers ----------------------------------------------------------------------------------------------------


@router.get(
    "/triggers",
    response_model=PageOut[TriggerOut],
    summary="Triggers of the devices in scope, newest first (sort: triggered_at, level)",
)
def list_triggers(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    device_id: Annotated[Id | None, Query()] = None,
    rule_id: Annotated[Id | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=16, description="threshold, rate, offline")] = None,
    open: Annotated[bool | None, Query(description="true: not yet cleared; false: cleared")] = None,
    since: Annotated[Moment | None, Query(description="triggered at or after")] = None,
    until: Annotated[Moment | None, Query(description="triggered before")] = None,
) -> dict:
    query.filters = {
        "device_id": device_id,
        "rule_id": rule_id,
        "kind": kind,
        "open": open,
        "since": since,
        "until": until,
    }
    page = readings.list_triggers(session, actor, query)
    return page.to_dict(readings.present_triggers(session, page.items))
