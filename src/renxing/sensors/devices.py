"""Sensor devices: register one at a building or community, edit, deactivate, rotate its
credential, list and read.

Each device has its own secret (``secrets.token_urlsafe``), shown once in the answer to its
registration and to a rotation; only its SHA-256 is stored. Staff and street administrators who
manage sensors (``sensors_manage``) keep the devices of the units in their scope; grid workers and
building leaders read them (``sensors_read``).
"""

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import Collector, Conflict, FieldError, Forbidden, Invalid, NotFound
from renxing.geo.coords import CRS, UnknownCRS, convert, parse_crs
from renxing.grid import directory as grid_directory
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import in_scope
from renxing.i18n import _, _l
from renxing.listing import Filter, ListQuery, ListSpec, Page, apply, list_page
from renxing.sensors.models import DEVICE_KIND_LABELS, DeviceKind, DeviceState, SensorDevice
from renxing.sensors.rules import shown_state
from renxing.sensors.schemas import DeviceIn, DevicePatch

PLACES = (Level.building.value, Level.community.value)  # where a device may stand
MAX_MAP = 5_000  # devices drawn on one map
SECRET_BYTES = 24
HIDDEN = frozenset({"credential_hash"})  # never in an audit record

STATE_LABELS = {
    DeviceState.unknown: _l("未上报"),
    DeviceState.normal: _l("正常"),
    DeviceState.alarm: _l("告警"),
    DeviceState.offline: _l("离线"),
    "inactive": _l("已停用"),
}

DEVICES = ListSpec(
    sorts={
        "name": SensorDevice.name,
        "code": SensorDevice.code,
        "kind": (SensorDevice.kind, SensorDevice.name),
        "state": (SensorDevice.state, SensorDevice.name),
        "last_reading_at": SensorDevice.last_reading_at,
        "place": (SensorDevice.path, SensorDevice.name),
    },
    default_sort="place",
    tiebreaker=SensorDevice.id,
    search=(SensorDevice.name, SensorDevice.code),
    filters={
        "kind": Filter(SensorDevice.kind, parse=lambda v: DeviceKind(v).value),
        "state": Filter(SensorDevice.state, parse=lambda v: DeviceState(v).value),
        "unit_id": Filter(SensorDevice.unit_id),
        "active": Filter(SensorDevice.active),
    },
    scope=SensorDevice.path,
)


# ---- credentials ---------------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(device: SensorDevice, secret: str) -> bool:
    return hmac.compare_digest(device.credential_hash.encode(), hash_secret(secret).encode())


def new_secret() -> tuple[str, str]:
    """A fresh secret and the hash that is stored."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return secret, hash_secret(secret)


# ---- reading ---------------------------------------------------------------------------------------


def crs_of(name: str | None) -> CRS:
    """The datum coordinates arrive in or are asked for: 422 naming ``crs`` when unknown."""
    try:
        return parse_crs(name or "wgs84")
    except UnknownCRS as exc:
        raise Invalid(str(exc), [FieldError("crs", str(exc), value=str(name))]) from exc


def list_devices(session: Session, actor: Principal, query: ListQuery) -> Page[SensorDevice]:
    actor.require(Perm.sensors_read)
    return list_page(session, select(SensorDevice), DEVICES, query, actor)


def all_devices(session: Session, actor: Principal, query: ListQuery) -> list[SensorDevice]:
    """Every device of the list's filters (for the map), at most ``MAX_MAP``."""
    actor.require(Perm.sensors_read)
    stmt = apply(select(SensorDevice), DEVICES, query, actor)
    return list(session.scalars(stmt.limit(MAX_MAP)))


def load_device(session: Session, actor: Principal, device_id: int, *, write: bool = False) -> SensorDevice:
    """A device in the actor's scope: 404 when there is none, 403 outside the scope."""
    actor.require(Perm.sensors_manage if write else Perm.sensors_read)
    device = session.get(SensorDevice, device_id)
    if device is None:
        raise NotFound(_("设备 {device_id} 不存在").format(device_id=device_id))
    if not in_scope(actor, device.path):
        raise Forbidden(_("设备 {device_id} 不在您的网格范围内").format(device_id=device_id))
    return device


def get_device(session: Session, actor: Principal, device_id: int) -> SensorDevice:
    return load_device(session, actor, device_id)


def state_now(device: SensorDevice, now: datetime | None = None) -> str:
    """What the device shows now: silent past its interval reads offline even before the sweep."""
    settings = get_settings()
    heard = device.last_reading_at or device.created_at
    return shown_state(
        device.state, device.active, heard, device.interval_seconds, settings.sensor_offline_factor, now or utcnow()
    )


def present(
    device: SensorDevice, unit: str | None, crs: CRS = CRS.wgs84, now: datetime | None = None
) -> dict[str, Any]:
    lon, lat = device.lon, device.lat
    if lon is not None and lat is not None and crs is not CRS.wgs84:
        lon, lat = convert(lon, lat, CRS.wgs84, crs)
    state = state_now(device, now)
    return {
        "id": device.id,
        "code": device.code,
        "name": device.name,
        "kind": device.kind,
        "kind_label": str(DEVICE_KIND_LABELS.get(DeviceKind(device.kind), device.kind)),
        "unit_id": device.unit_id,
        "unit": unit,
        "path": device.path,
        "lon": lon,
        "lat": lat,
        "measure_unit": device.measure_unit,
        "interval_seconds": device.interval_seconds,
        "active": device.active,
        "state": state,
        "state_label": str(STATE_LABELS.get(state, state)),
        "state_since": device.state_since.isoformat() if device.state_since else None,
        "last_reading_at": device.last_reading_at.isoformat() if device.last_reading_at else None,
        "last_value": device.last_value,
        "note": device.note,
        "created_at": device.created_at.isoformat(),
    }


def present_all(
    session: Session, devices: list[SensorDevice], crs: CRS = CRS.wgs84, now: datetime | None = None
) -> list[dict[str, Any]]:
    names = grid_directory.unit_names(session, [d.unit_id for d in devices])
    moment = now or utcnow()
    return [present(d, names.get(d.unit_id), crs, moment) for d in devices]


# ---- writing ---------------------------------------------------------------------------------------


def _place(session: Session, actor: Principal, unit_id: int) -> GridUnit:
    """The building or community a device stands at, in the actor's write scope."""
    unit = grid_directory.unit(session, unit_id)
    if unit is None or unit.level not in PLACES:
        why = _("设备须安装在楼栋或社区")
        raise Invalid(why, [FieldError("unit_id", why, value=unit_id)])
    if not in_scope(actor, unit):
        raise Forbidden(_("网格单元 {unit_id} 不在您的网格范围内").format(unit_id=unit_id))
    return unit


def _locate(values: dict[str, Any], unit: GridUnit, crs: CRS, errors: Collector) -> None:
    """Coordinates as a pair, stored in WGS-84; none given: the unit's own location."""
    lon, lat = values.get("lon"), values.get("lat")
    if (lon is None) != (lat is None):
        errors.add("lat" if lat is None else "lon", _("经度和纬度须同时填写"))
        return
    if lon is None:
        values["lon"], values["lat"] = unit.lon, unit.lat
    elif crs is not CRS.wgs84:
        values["lon"], values["lat"] = convert(lon, lat, crs, CRS.wgs84)


def _unique_code(session: Session, code: str, own_id: int | None) -> None:
    other = session.scalar(select(SensorDevice.id).where(SensorDevice.code == code))
    if other is not None and other != own_id:
        why = _("设备编码 {code} 已被使用").format(code=code)
        raise Conflict(why, [FieldError("code", why, value=code)])


def _snapshot(device: SensorDevice) -> dict[str, Any]:
    return {k: v for k, v in audit.snapshot(device).items() if k not in HIDDEN}


def register_device(
    session: Session, actor: Principal, data: DeviceIn, *, crs: str | None = None, now: datetime | None = None
) -> tuple[SensorDevice, str]:
    """A new device and its secret (shown this once)."""
    actor.require(Perm.sensors_manage)
    source = crs_of(crs)
    unit = _place(session, actor, data.unit_id)
    values = data.model_dump()
    errors = Collector()
    _locate(values, unit, source, errors)
    errors.raise_if_any()
    _unique_code(session, data.code, None)
    secret, digest = new_secret()
    at = now or utcnow()
    device = SensorDevice(
        **{**values, "kind": data.kind.value},
        path=unit.path,
        credential_hash=digest,
        active=True,
        state=DeviceState.unknown.value,
        state_since=at,
        created_at=at,
    )
    session.add(device)
    session.flush()
    audit.record(session, actor, "create", "sensor_device", device.id, after=_snapshot(device))
    return device, secret


def update_device(
    session: Session, actor: Principal, device_id: int, patch: DevicePatch, *, crs: str | None = None
) -> SensorDevice:
    device = load_device(session, actor, device_id, write=True)
    source = crs_of(crs)
    changes = patch.model_dump(exclude_unset=True)
    errors = Collector()
    for key in ("name", "kind", "unit_id", "measure_unit", "interval_seconds", "active"):
        if key in changes and changes[key] is None:
            errors.add(key, _("不能为空"))
    errors.raise_if_any()
    before = _snapshot(device)
    unit = _place(session, actor, changes["unit_id"]) if "unit_id" in changes else None
    if "lon" in changes or "lat" in changes:
        place = unit or grid_directory.unit(session, device.unit_id)
        assert place is not None  # a device's unit is a foreign key
        _locate(changes, place, source, errors)
    elif unit is not None:  # moved without new coordinates: it stands where its new unit is
        changes["lon"], changes["lat"] = unit.lon, unit.lat
    errors.raise_if_any()
    if "kind" in changes:
        changes["kind"] = DeviceKind(changes["kind"]).value
    for key, value in changes.items():
        setattr(device, key, value)
    if unit is not None:
        device.path = unit.path
    session.flush()
    old, new = audit.changed(before, _snapshot(device))
    if new:
        audit.record(session, actor, "update", "sensor_device", device.id, before=old, after=new)
    return device


def rotate_credential(session: Session, actor: Principal, device_id: int) -> tuple[SensorDevice, str]:
    """A new secret for the device (the old one stops working at once), shown this once."""
    device = load_device(session, actor, device_id, write=True)
    secret, digest = new_secret()
    device.credential_hash = digest
    session.flush()
    audit.record(session, actor, "rotate_credential", "sensor_device", device.id)
    return device, secret


def by_code(session: Session, code: str) -> SensorDevice | None:
    """A device by its code on the wire (for ingestion, which authenticates it itself)."""
    return session.scalar(select(SensorDevice).where(SensorDevice.code == code))
