"""Demo sensors of the flagship (桂花园): water-level gauges in its low courtyards, smoke
detectors in its old buildings, their rules and a week of readings ending at ``until``.

The gauges stand where the space demo drew the waterlogging zone (低洼庭院积水区, the low
south-west corner of the courtyards whose 1980s drains overflow; at a small scale, where the
zone is not drawn, the same lowest buildings). They read standing water in cm: dry all week but
for a shower four days ago, then the rainstorm of the last hours, which takes the lowest gauge
fast past its warning level and keeps it there. The smoke detectors of the old wiring block read
a flat, noisy background; one of them fell silent a day ago (its battery), so it shows offline.

Everything goes through the sensors' services: the devices are registered and the rules written
by the flagship's secretary, the readings are posted in batches to the ingestion service (so the
rules fire, a trigger raises a report routed to the area's grid worker and proposes a warning),
and the offline sweep runs at ``until``. Deterministic for a seed and ``until``.
"""

import base64
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import shapely
from shapely.geometry import Polygon, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User, UserScope
from renxing.auth.principal import SYSTEM, Principal
from renxing.auth.service import principal_for
from renxing.db import utcnow
from renxing.demo import geo
from renxing.demo.care import MAX_RUNGS
from renxing.events import sweep
from renxing.events.models import Report
from renxing.events.models import reports as reports_table
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import subtree_clause
from renxing.i18n import bilingual
from renxing.people.models import Resident
from renxing.sensors import ingest, offline
from renxing.sensors.devices import register_device
from renxing.sensors.models import DeviceKind, SensorTrigger
from renxing.sensors.rule_admin import create_rule
from renxing.sensors.schemas import BatchIn, DeviceIn, ReadingIn, RuleIn
from renxing.space.models import HazardZone

WEEK = timedelta(days=7)
# Battery-powered NB-IoT devices sample often and upload their samples in batches: a gauge samples
# every 5 minutes and uploads at least every 30, a smoke detector samples every 10 minutes and
# uploads with its hourly heartbeat. The upload interval is what silence is measured against.
WATER_EVERY, WATER_UPLOADS = timedelta(minutes=5), timedelta(minutes=30)
SMOKE_EVERY, SMOKE_UPLOADS = timedelta(minutes=10), timedelta(hours=1)


# ---- the story's clock -----------------------------------------------------------------------


@dataclass(frozen=True)
class Storm:
    """Rain over the courtyards: the water rises fastest at ``mid`` (a logistic curve of width
    ``tau``) towards ``peak`` cm at the lowest gauge, and drains after ``ends`` (None: still raining)."""

    mid: datetime
    tau: timedelta
    peak: float
    ends: datetime | None = None
    drain: timedelta = timedelta(minutes=40)

    def level(self, at: datetime) -> float:
        x = (at - self.mid) / self.tau
        rise = self.peak / (1 + math.exp(-max(-50.0, min(50.0, x))))
        if self.ends is not None and at > self.ends:
            rise *= math.exp(-((at - self.ends) / self.drain))
        return rise


def storms(now: datetime) -> list[Storm]:
    """A shower four days ago, and the rainstorm of the last hours (the one the warning is about)."""
    return [
        Storm(now - timedelta(days=4, hours=7), timedelta(minutes=25), 9.0, now - timedelta(days=4, hours=5)),
        Storm(now - timedelta(minutes=100), timedelta(minutes=18), 38.0),
    ]


# ---- readings (pure) ---------------------------------------------------------------------------


def moments(end: datetime, every: timedelta, span: timedelta = WEEK) -> list[datetime]:
    """Reporting moments on the ``every`` grid, from ``span`` before ``end`` up to ``end``."""
    step = int(every.total_seconds())
    last = datetime.fromtimestamp(int(end.timestamp()) // step * step, end.tzinfo)
    count = int(span / every)
    return [last - every * k for k in range(count, -1, -1)]


def water_levels(rng: random.Random, times: Sequence[datetime], depth: float, rain: list[Storm]) -> list[float]:
    """Standing water (cm) at a gauge that gets ``depth`` of what the lowest one gets, never below zero."""
    out = []
    for at in times:
        level = depth * sum(s.level(at) for s in rain)
        # A dry gauge reads a few millimetres of noise.
        value = rng.gauss(0.2, 0.15) if level < 0.3 else level + rng.gauss(0.0, 0.25)
        out.append(round(max(0.0, value), 1))
    return out


def smoke_levels(rng: random.Random, times: Sequence[datetime], spike: datetime | None = None) -> list[float]:
    """Obscuration (%/m) of a smoke detector: a flat, noisy background; ``spike`` a short puff
    (cooking on the landing) well under the alarm level."""
    out = []
    for at in times:
        value = rng.gauss(0.3, 0.07)
        if spike is not None and timedelta(0) <= at - spike < timedelta(minutes=30):
            value += 1.4 * math.exp(-((at - spike) / timedelta(minutes=10)))
        out.append(round(max(0.0, value), 2))
    return out


# ---- where the devices stand ------------------------------------------------------------------


@dataclass
class DeviceSpec:
    code: str
    name: str
    kind: str  # water_level, smoke
    building: GridUnit
    lon: float
    lat: float
    every: timedelta  # how often it samples
    interval: timedelta  # how often it uploads (at the latest)
    measure_unit: str
    note: str
    depth: float = 1.0  # a gauge: its share of the lowest gauge's water
    spike: datetime | None = None  # a detector: a puff of smoke then
    silent_since: datetime | None = None  # nothing heard after this

    def series(self, rng: random.Random, now: datetime, rain: list[Storm]) -> tuple[list[datetime], list[float]]:
        times = moments(now, self.every)
        if self.silent_since is not None:
            times = [t for t in times if t <= self.silent_since]
        if self.kind == "water_level":
            return times, water_levels(rng, times, self.depth, rain)
        return times, smoke_levels(rng, times, self.spike)


def flagship(session: Session) -> GridUnit | None:
    """The community with most residents (the old estate the paper calls G community)."""
    communities = list(
        session.scalars(select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.code))
    )
    if not communities:
        return None

    def residents(c: GridUnit) -> int:
        return session.scalar(select(func.count(Resident.id)).where(subtree_clause(Resident.path, c.path))) or 0

    return max(communities, key=residents)


def _local(g: BaseGeometry) -> BaseGeometry:
    """WGS-84 → the demo's local metres (x east, y north)."""
    return shapely.transform(
        g, lambda a: (a - (geo.ORIGIN_LON, geo.ORIGIN_LAT)) * (geo.M_PER_DEG_LON, geo.M_PER_DEG_LAT)
    )


def _lonlat(g: BaseGeometry) -> BaseGeometry:
    return shapely.transform(g, lambda a: a / (geo.M_PER_DEG_LON, geo.M_PER_DEG_LAT) + (geo.ORIGIN_LON, geo.ORIGIN_LAT))


def buildings_of(session: Session, community: GridUnit) -> list[GridUnit]:
    return list(
        session.scalars(
            select(GridUnit)
            .where(GridUnit.level == Level.building.value, subtree_clause(GridUnit.path, community.path))
            .where(GridUnit.geometry.is_not(None))
            .order_by(GridUnit.code)
        )
    )


def _footprint(b: GridUnit) -> BaseGeometry:
    return _local(shape(json.loads(b.geometry or "{}")))


def low_buildings(buildings: list[GridUnit]) -> list[GridUnit]:
    """The buildings of the low corner, lowest first (the space demo's recipe for its zone)."""
    ordered = sorted(buildings, key=lambda b: (_footprint(b).centroid.x + _footprint(b).centroid.y, b.code))
    return ordered[: max(3, len(buildings) // 10)]


def waterlogging_area(session: Session, community: GridUnit) -> Polygon | None:
    """The community's low courtyards that stand in water (WGS-84): the space demo's zone, or at a
    scale too small for it, the same shape drawn round its lowest buildings."""
    zone = session.scalar(
        select(HazardZone.geometry)
        .where(HazardZone.unit_id == community.id, HazardZone.kind == "flood")
        .order_by(HazardZone.level, HazardZone.id)
        .limit(1)
    )
    if zone:
        area = shape(json.loads(zone))
        return area if isinstance(area, Polygon) else None
    low = low_buildings(buildings_of(session, community))
    if not low:
        return None
    hull = shapely.union_all([_footprint(b) for b in low]).convex_hull.buffer(15)
    return shapely.set_precision(_lonlat(hull), 1e-7)


GAUGE_DEPTHS = (1.0, 0.45, 0.25)  # the lowest courtyard takes the storm; the others less
SMOKE_DETECTORS = 4


def _compound_names(session: Session, community: GridUnit) -> dict[int, str]:
    return dict(session.execute(select(GridUnit.id, GridUnit.name).where(GridUnit.parent_id == community.id)).all())


def _where(b: GridUnit, compounds: dict[int, str]) -> str:
    """桂花园一村3栋: a building named with its compound (the path's third id)."""
    ids = [int(p) for p in b.path.strip("/").split("/")]
    return f"{compounds.get(ids[2], '') if len(ids) > 2 else ''}{b.name}"


def _point(x: float, y: float) -> tuple[float, float]:
    return geo.to_lonlat(x, y)


def placements(session: Session, community: GridUnit, now: datetime, rng: random.Random) -> list[DeviceSpec]:
    """Gauges at the low courtyards, lowest first; detectors in the stairwells of the old wiring
    block (the buildings nearest the estate's centre), the last one silent for a day."""
    buildings = buildings_of(session, community)
    if not buildings:
        return []
    compounds = _compound_names(session, community)
    short = community.code.rsplit("-", 1)[-1]
    specs = []
    for n, (b, depth) in enumerate(zip(low_buildings(buildings), GAUGE_DEPTHS, strict=False), start=1):
        # Down in the courtyard, a few metres off the building's lowest corner.
        x, y = min(_footprint(b).exterior.coords, key=lambda p: p[0] + p[1])
        lon, lat = _point(x - 6, y - 6)
        specs.append(
            DeviceSpec(
                code=f"{short}-WL-{n:02d}",
                name=f"{_where(b, compounds)}南侧庭院积水监测",
                kind="water_level",
                building=b,
                lon=lon,
                lat=lat,
                every=WATER_EVERY,
                interval=WATER_UPLOADS,
                measure_unit="cm",
                note="超声波积水深度计，零点为庭院地面",
                depth=depth,
            )
        )
    centre = shapely.union_all([_footprint(b) for b in buildings]).centroid
    block = sorted(buildings, key=lambda b: (_footprint(b).centroid.distance(centre), b.code))[:SMOKE_DETECTORS]
    for n, b in enumerate(block, start=1):
        c = _footprint(b).centroid
        lon, lat = _point(c.x, c.y)
        silent = n == len(block) and n > 1
        specs.append(
            DeviceSpec(
                code=f"{short}-SM-{n:02d}",
                name=f"{_where(b, compounds)}{rng.randint(1, 2)}单元楼道烟感",
                kind="smoke",
                building=b,
                lon=lon,
                lat=lat,
                every=SMOKE_EVERY,
                interval=SMOKE_UPLOADS,
                measure_unit="%/m",
                note="光电感烟探测器（NB-IoT），电池供电",
                spike=now - timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 3)) if n == 1 else None,
                silent_since=now - timedelta(hours=rng.uniform(24, 28)) if silent else None,
            )
        )
    return specs


# ---- the rules ---------------------------------------------------------------------------------

# Standing water of 25 cm floods ground-floor flats of the old walk-ups (orange); it is cleared
# once back under 15 cm, so a level hovering at 25 does not flap. A rise of 0.4 cm a minute (2 cm
# in five) means the drains have given up (yellow). Smoke at 4 %/m is a fire (red).
RULES = [
    RuleIn(
        name="庭院积水超过警戒深度（25 cm）",
        kind=DeviceKind.water_level,
        threshold=25.0,
        clear_at=15.0,
        snooze_minutes=120,
        level="orange",
        category="waterlogging",
    ),
    RuleIn(
        name="积水快速上涨（每分钟 0.4 cm 以上）",
        kind=DeviceKind.water_level,
        rule_type="rate",
        rate_per_minute=0.4,
        clear_at=0.2,
        window_minutes=10,
        snooze_minutes=120,
        level="yellow",
        category="waterlogging",
    ),
    RuleIn(
        name="楼道烟雾浓度超标（4 %/m）",
        kind=DeviceKind.smoke,
        threshold=4.0,
        clear_at=2.0,
        snooze_minutes=30,
        level="red",
        category="fire_hazard",
    ),
]
INSTALLED_BEFORE = timedelta(days=40)  # the devices were put in place weeks before the week shown


@dataclass
class SensorsSummary:
    devices: int = 0
    readings: int = 0
    triggers: int = 0
    offline: int = 0
    community: str = ""


def account(session: Session, role: str, unit: GridUnit) -> Principal | None:
    """The first active account of ``role`` whose scope is ``unit`` (the demo's ``secretary`` for
    the flagship's staff)."""
    user = session.scalar(
        select(User)
        .join(UserScope, UserScope.user_id == User.id)
        .where(User.role == role, User.is_active.is_(True), UserScope.unit_id == unit.id)
        .order_by(User.id)
        .limit(1)
    )
    return principal_for(session, user) if user is not None else None


def add_sensors(session: Session, *, seed: int = 2023, until: datetime | None = None) -> SensorsSummary:
    """Register the flagship's devices and rules and post a week of readings through ingestion,
    in the caller's transaction; then the offline sweep at ``until``."""
    community = flagship(session)
    if community is None:
        return SensorsSummary()
    now = min(until or utcnow(), utcnow()).replace(second=0, microsecond=0)
    rng = random.Random(f"{seed}-sensors")
    actor = account(session, "community_staff", community) or SYSTEM
    installed = now - WEEK - INSTALLED_BEFORE
    for rule in RULES:
        create_rule(session, actor, rule.model_copy(update={"unit_id": community.id}), now=installed)
    rain = storms(now)
    summary = SensorsSummary(community=community.name)
    for spec in placements(session, community, now, rng):
        device, secret = register_device(
            session,
            actor,
            DeviceIn(
                code=spec.code,
                name=spec.name,
                kind=DeviceKind(spec.kind),
                unit_id=spec.building.id,
                lon=spec.lon,
                lat=spec.lat,
                measure_unit=spec.measure_unit,
                interval_seconds=int(spec.interval.total_seconds()),
                note=spec.note,
            ),
            now=installed,
        )
        times, values = spec.series(rng, now, rain)
        summary.devices += 1
        summary.readings += _upload(session, f"Device {device.code}:{secret}", times, values)
    summary.offline = offline.sweep(session, now)
    _settle_reports(session, now, rng)
    summary.triggers = (
        session.scalar(select(func.count(SensorTrigger.id)).where(SensorTrigger.rule_id.is_not(None))) or 0
    )
    audit.record(
        session,
        SYSTEM,
        "import",
        "sensors.demo",
        community.id,
        summary=bilingual(
            "演示传感器：设备 {devices} 台，读数 {readings} 条", devices=summary.devices, readings=summary.readings
        ),
        after=summary.__dict__,
    )
    return summary


def _settle_reports(session: Session, now: datetime, rng: random.Random) -> None:
    """The reports the triggers and the silent device raised: drawn tokens instead of the
    service's random ones (the same seed gives the same demo), and the chain climbed as far as
    their deadlines say by now, as a live system sweeping every minute would have."""
    raised = session.scalars(select(Report.id).where(Report.external_ref.like("sensor-%")).order_by(Report.id))
    for report_id in list(raised):
        token = base64.urlsafe_b64encode(rng.randbytes(9)).decode()
        session.execute(reports_table.update().where(reports_table.c.id == report_id).values(token=token))
    for _ in range(MAX_RUNGS):
        if not sweep.sweep(session, now).escalated:
            break


def _upload(session: Session, authorization: str, times: list[datetime], values: list[float]) -> int:
    """Post the readings day by day, as the device uploaded them, each batch received when its last
    reading was taken; how many were stored."""
    stored = 0
    start = 0
    while start < len(times):
        day_end = times[start] + timedelta(days=1)
        end = next((i for i in range(start, len(times)) if times[i] >= day_end), len(times))
        batch = BatchIn(
            readings=[ReadingIn(at=t, value=v) for t, v in zip(times[start:end], values[start:end], strict=True)]
        )
        stored += ingest.receive_batch(session, authorization, batch, now=times[end - 1]).stored
        start = end
    return stored
