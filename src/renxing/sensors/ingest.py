"""Readings in: a batch of one device, over HTTP or MQTT, authenticated by the device's own
credential, stored once, then run through the device's rules.

A batch is checked whole before anything is written — at most ``sensor_batch_max`` readings,
each with its offset, finite, not more than ``sensor_future_seconds`` ahead of the server's
clock — and one bad reading refuses all of it. Readings go in with one bulk
``INSERT … ON CONFLICT DO NOTHING`` on (device, moment), so a reading sent again is stored once and
the answer says how many were new. The new readings later than the device's last one are run
through its rules in time order (``rules.evaluate``); a rule that raises writes a
``SensorTrigger`` and publishes ``SensorRuleTriggered`` (the closed loop raises a report, early
warning proposes a warning), one that clears closes its trigger. A reading that brings a silent
device back clears its offline state.
"""

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import and_, bindparam, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import FieldError, Forbidden, Invalid, NotAuthenticated
from renxing.grid.scope import path_ids
from renxing.i18n import _
from renxing.sensors import devices
from renxing.sensors.models import DeviceState, SensorDevice, SensorReading, SensorRule, SensorRuleState, SensorTrigger
from renxing.sensors.rules import Change, RuleSpec, RuleState, Sample, evaluate, history_needed, silent
from renxing.sensors.schemas import BatchIn, MqttPayload
from renxing.signals.bus import publish
from renxing.signals.catalog import SensorRuleTriggered

log = logging.getLogger(__name__)

HEADER = "Authorization"
SCHEME = "device"
YEAR_MIN = 2000  # no sensor of the platform measured earlier; a year 1 would leave the date range
_READINGS = SensorReading.__table__
_TRIGGERS = SensorTrigger.__table__
_CLOSE = (
    update(_TRIGGERS)
    .where(
        _TRIGGERS.c.device_id == bindparam("device"),
        _TRIGGERS.c.rule_id == bindparam("rule"),
        _TRIGGERS.c.cleared_at.is_(None),
        _TRIGGERS.c.triggered_at <= bindparam("at"),
    )
    .values(cleared_at=bindparam("at"))
)
BULK = 200  # from this many readings PostgreSQL gets them as arrays
_PG_INSERT = text(
    "INSERT INTO sensor_readings (device_id, measured_at, value, received_at, via) "
    "SELECT :device_id, x.at, x.value, :received_at, :via "
    "FROM unnest(CAST(:ats AS timestamptz[]), CAST(:values AS float8[])) AS x(at, value) "
    "ON CONFLICT (device_id, measured_at) DO NOTHING RETURNING measured_at"
)


@dataclass(frozen=True)
class Ingested:
    device_id: int
    received: int
    stored: int
    duplicates: int
    triggered: int
    cleared: int
    state: str

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


# ---- who is sending ---------------------------------------------------------------------------------


def _refuse(field: str) -> NotAuthenticated:
    why = _("设备凭据无效或缺失（{field}）").format(field=field)
    return NotAuthenticated(why, [FieldError(field, why)])


def device_for(session: Session, code: str, secret: str, *, field: str = HEADER) -> SensorDevice:
    """The device whose code and secret these are: 401 naming ``field`` when they do not match
    (the same answer for an unknown code), 403 when the device is deactivated."""
    device = devices.by_code(session, code) if code else None
    if device is None:
        devices.hash_secret(secret)  # as long as a real check, so timing tells no codes apart
        raise _refuse(field)
    if not devices.secret_matches(device, secret):
        raise _refuse(field)
    if not device.active:
        why = _("设备 {code} 已停用，不再接收读数").format(code=device.code)
        raise Forbidden(why, [FieldError(field, why)])
    return device


def authenticate(session: Session, authorization: str | None) -> SensorDevice:
    """The device of an ``Authorization: Device <code>:<secret>`` header."""
    scheme, _sep, credentials = (authorization or "").strip().partition(" ")
    code, colon, secret = credentials.strip().partition(":")
    if scheme.lower() != SCHEME or not colon or not code or not secret:
        raise _refuse(HEADER)
    return device_for(session, code, secret)


# ---- what was sent -------------------------------------------------------------------------------------


def check_batch(readings: Sequence[tuple[datetime, float]], now: datetime) -> list[Sample]:
    """The batch as samples in UTC, or one 422 naming every reading at fault (``readings.3.at``)."""
    settings = get_settings()
    if len(readings) > settings.sensor_batch_max:
        why = _("一批最多 {n} 条读数，请分批发送").format(n=settings.sensor_batch_max)
        raise Invalid(why, [FieldError("readings", why, value=len(readings))])
    latest = now + timedelta(seconds=settings.sensor_future_seconds)
    errors: list[FieldError] = []
    out: list[Sample] = []
    for i, (at, value) in enumerate(readings):
        if at.tzinfo is None or at.utcoffset() is None:
            errors.append(FieldError(f"readings.{i}.at", _("时间须带时区，如 +08:00"), value=at.isoformat()))
        elif at.year < YEAR_MIN or at > latest:
            why = _("读数时间须在 {year} 年以后，且不能超前服务器时间 {seconds} 秒以上").format(
                year=YEAR_MIN, seconds=settings.sensor_future_seconds
            )
            errors.append(FieldError(f"readings.{i}.at", why, value=at.isoformat()))
        elif not math.isfinite(value):
            errors.append(FieldError(f"readings.{i}.value", _("读数须为有限数值"), value=str(value)))
        else:
            out.append(Sample(at.astimezone(UTC), float(value)))
        if len(errors) >= 20:  # enough to fix a device's clock or encoder; the rest say the same
            break
    if errors:
        raise Invalid(_("读数有误，整批未写入"), errors)
    return out


# ---- storing and evaluating ------------------------------------------------------------------------------


def _insert(session: Session) -> object:
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        make(_READINGS)
        .on_conflict_do_nothing(index_elements=["device_id", "measured_at"])
        .returning(_READINGS.c.measured_at)
    )


def _store(session: Session, device: SensorDevice, samples: list[Sample], via: str, now: datetime) -> list[Sample]:
    """Insert what is not yet stored; the new samples, in time order."""
    if not samples:
        return []
    conn = session.connection()
    if conn.dialect.name == "postgresql" and len(samples) >= BULK:
        # One statement over two arrays: a multi-row VALUES costs a round per thousand rows.
        params = {
            "device_id": device.id,
            "received_at": now,
            "via": via,
            "ats": [s.at for s in samples],
            "values": [s.value for s in samples],
        }
        new_at = set(conn.execute(_PG_INSERT, params).scalars())
        return sorted((s for s in samples if s.at in new_at), key=lambda s: s.at)
    rows = [
        {"device_id": device.id, "measured_at": s.at, "value": s.value, "received_at": now, "via": via} for s in samples
    ]
    new_at = set(session.connection().execute(_insert(session), rows).scalars())  # type: ignore[arg-type]
    return sorted((s for s in samples if s.at in new_at), key=lambda s: s.at)


def rules_for(session: Session, device: SensorDevice) -> list[SensorRule]:
    """The active rules that cover a device: its own, and its kind's in a unit above it."""
    ids = path_ids(device.path)
    ancestors = ["/" + "/".join(str(i) for i in ids[:n]) + "/" for n in range(1, len(ids) + 1)]
    stmt = (
        select(SensorRule)
        .where(
            SensorRule.active.is_(True),
            or_(
                SensorRule.device_id == device.id,
                and_(SensorRule.device_id.is_(None), SensorRule.kind == device.kind, SensorRule.path.in_(ancestors)),
            ),
        )
        .order_by(SensorRule.id)
    )
    return list(session.scalars(stmt))


def spec_of(rule: SensorRule) -> RuleSpec:
    return RuleSpec(
        rule_type=rule.rule_type,
        direction=rule.direction,
        threshold=rule.threshold,
        clear_at=rule.clear_at,
        rate_per_minute=rule.rate_per_minute,
        window_minutes=rule.window_minutes,
        snooze_minutes=rule.snooze_minutes,
    )


def _history(session: Session, device: SensorDevice, start: datetime, span: timedelta) -> list[Sample]:
    if span <= timedelta(0):
        return []
    stmt = select(SensorReading.measured_at, SensorReading.value).where(
        SensorReading.device_id == device.id,
        SensorReading.measured_at >= start - span,
        SensorReading.measured_at < start,
    )
    return [Sample(at, value) for at, value in session.execute(stmt)]


def _states(session: Session, device: SensorDevice, rules: list[SensorRule]) -> dict[int, SensorRuleState]:
    rows = session.scalars(
        select(SensorRuleState).where(
            SensorRuleState.device_id == device.id, SensorRuleState.rule_id.in_([r.id for r in rules])
        )
    )
    have = {row.rule_id: row for row in rows}
    for rule in rules:
        if rule.id not in have:
            have[rule.id] = SensorRuleState(rule_id=rule.id, device_id=device.id, triggered=False)
            session.add(have[rule.id])
    return have


def _raise(session: Session, device: SensorDevice, rule: SensorRule, change: Change) -> None:
    trigger = SensorTrigger(
        device_id=device.id,
        rule_id=rule.id,
        kind=rule.rule_type,
        level=rule.level,
        value=change.value,
        triggered_at=change.at,
        path=device.path,
    )
    session.add(trigger)
    session.flush()
    publish(
        session,
        SensorRuleTriggered(
            trigger_id=trigger.id,
            device_id=device.id,
            device=f"{device.name}（{device.code}）",
            kind=device.kind,
            rule=rule.name,
            level=rule.level,
            category=rule.category,
            value=change.value,
            measure_unit=device.measure_unit,
            unit_id=device.unit_id,
            lon=device.lon,
            lat=device.lat,
            at=change.at,
        ),
    )


def _close_offline(session: Session, device_id: int, at: datetime) -> None:
    """The device's open offline trigger is cleared at ``at``: it spoke again."""
    session.execute(
        update(SensorTrigger)
        .where(
            SensorTrigger.device_id == device_id,
            SensorTrigger.rule_id.is_(None),
            SensorTrigger.kind == "offline",
            SensorTrigger.cleared_at.is_(None),
        )
        .values(cleared_at=at)
        .execution_options(synchronize_session=False)
    )


@dataclass
class _Run:
    raised: int = 0
    cleared: int = 0
    alarm_since: datetime | None = None  # the earliest moment a rule still triggered became so
    calm_since: datetime | None = None  # the last clearing, or the first reading without alarm


def _run_rules(session: Session, device: SensorDevice, fresh: list[Sample]) -> _Run:
    """Run the fresh readings through every rule of the device."""
    run = _Run(calm_since=fresh[0].at)
    rules = rules_for(session, device)
    if not rules:
        return run
    states = _states(session, device, rules)
    specs = {r.id: spec_of(r) for r in rules}
    span = max(history_needed(s) for s in specs.values())
    history = _history(session, device, fresh[0].at, span)
    closings: list[dict[str, object]] = []
    for rule in rules:
        row = states[rule.id]
        before = RuleState(bool(row.triggered), row.since, row.last_raised_at)
        outcome = evaluate(specs[rule.id], before, fresh, history)
        open_trigger = before.triggered  # a trigger may stand open from an earlier batch
        for change in outcome.changes:
            if change.kind == "raised":
                run.raised += 1
                _raise(session, device, rule, change)
                open_trigger = True
            elif change.kind == "cleared":
                run.cleared += 1
                run.calm_since = max(run.calm_since or change.at, change.at)
                if open_trigger:  # a suppressed episode wrote no trigger: nothing to close
                    closings.append({"device": device.id, "rule": rule.id, "at": change.at})
                open_trigger = False
        row.triggered, row.since, row.last_raised_at = (
            outcome.state.triggered,
            outcome.state.since,
            outcome.state.last_raised_at,
        )
    if closings:  # in time order: each clears the triggers raised up to its moment
        session.connection().execute(_CLOSE, closings)
    still = [states[r.id].since or fresh[0].at for r in rules if states[r.id].triggered]
    run.alarm_since = min(still) if still else None
    return run


def _settle(device: SensorDevice, latest: Sample | None, run: _Run | None, now: datetime) -> bool:
    """The device's last reading and state after a batch (``run``: what its rules did, None when
    no reading was later than the last); True when it came back from offline."""
    if latest is not None and (device.last_reading_at is None or latest.at > device.last_reading_at):
        device.last_reading_at, device.last_value = latest.at, latest.value
    heard = device.last_reading_at or device.created_at
    was = device.state
    if was == DeviceState.offline and silent(heard, device.interval_seconds, get_settings().sensor_offline_factor, now):
        return False  # old readings from a device still silent: it stays offline
    if run is None:  # only late readings: the rules stand where they stood
        state = DeviceState.alarm.value if was == DeviceState.alarm else DeviceState.normal.value
        since = now
    elif run.alarm_since is not None:
        state, since = DeviceState.alarm.value, run.alarm_since
    else:
        state, since = DeviceState.normal.value, run.calm_since or now
    if device.last_reading_at is None:
        state = DeviceState.unknown.value
    if state != was:
        device.state, device.state_since = state, min(since, now)
    return was == DeviceState.offline


def receive(
    session: Session, device: SensorDevice, samples: list[Sample], *, via: str = "http", now: datetime | None = None
) -> Ingested:
    """Store a checked batch of one authenticated device and run its rules."""
    at = now or utcnow()
    unique = list({s.at: s for s in reversed(samples)}.values())  # a moment twice in a batch: its first
    fresh = _store(session, device, unique, via, at)
    last = device.last_reading_at
    later = [s for s in fresh if last is None or s.at > last]  # a late reading does not move the present
    run = _run_rules(session, device, later) if later else None
    if fresh:
        back = _settle(device, later[-1] if later else None, run, at)
        if back:
            _close_offline(session, device.id, at)
    session.flush()
    return Ingested(
        device_id=device.id,
        received=len(samples),
        stored=len(fresh),
        duplicates=len(samples) - len(fresh),
        triggered=run.raised if run else 0,
        cleared=run.cleared if run else 0,
        state=devices.state_now(device, at),
    )


def receive_batch(
    session: Session, authorization: str | None, batch: BatchIn, *, now: datetime | None = None
) -> Ingested:
    """``POST /api/v1/sensors/readings``: the header's device, the body's readings."""
    device = authenticate(session, authorization)
    at = now or utcnow()
    samples = check_batch([(r.at, r.value) for r in batch.readings], at)
    return receive(session, device, samples, via="http", now=at)


def receive_mqtt(session: Session, code: str, payload: bytes, *, now: datetime | None = None) -> Ingested:
    """One MQTT message of the device ``code`` (from its topic): JSON ``{"secret", "readings"}``."""
    try:
        message = MqttPayload.model_validate_json(payload)
    except ValidationError as exc:
        errors = [FieldError(".".join(str(p) for p in e["loc"]) or "payload", e["msg"]) for e in exc.errors()[:20]]
        raise Invalid(_("消息格式有误"), errors) from exc
    device = device_for(session, code, message.secret, field="secret")
    at = now or utcnow()
    samples = check_batch([(r.at, r.value) for r in message.readings], at)
    return receive(session, device, samples, via="mqtt", now=at)
