"""A warning's live progress, and the households still to reach.

Progress is counts only (no household is named): the totals, deliveries by channel and state,
each building and area with its households by the furthest their copy got — acknowledged, else
the best of their deliveries (delivered, sent, queued, failed) — and the climbs so far. It is a
few grouped queries whatever the number of households, so the page can poll it every few seconds.

The unreached list names households, so it is narrowed to the reader's scope and shown by role
(``auth/policy.CLEAR_FIELDS``): roles that call or visit (staff, grid workers, building leaders)
see the unit number and room, the others a mask; roles that see phones get the household's
number to call, read through the register's directory, and each page of numbers read is one
audit entry naming the households; the vulnerability score only for roles that see health.
The list is ordered by vulnerability, highest first, then by building.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, exists, func, literal_column, select
from sqlalchemy.orm import Session, aliased

from renxing.auth import audit
from renxing.auth.policy import Field, Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.grid import directory as grid
from renxing.grid.models import Level
from renxing.grid.scope import path_ids
from renxing.i18n import bilingual
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.people import directory as people
from renxing.warning import access
from renxing.warning.models import WarningClimb, WarningDelivery, WarningMessage, WarningStatus, WarningTarget

STATES = ("acknowledged", "delivered", "sent", "queued", "failed")  # furthest first
_RANK = {"acknowledged": 4, "delivered": 3, "sent": 2, "queued": 1, "failed": 0}
_STATE_OF_RANK = {rank: state for state, rank in _RANK.items()}
MASKED_UNIT, MASKED_ROOM = "*", "***"

T = WarningTarget
D = WarningDelivery


class Tally:
    """Households counted by the furthest their copy got (``states``), and what follows from it."""

    states: dict[str, int]

    @property
    def households(self) -> int:
        return sum(self.states.values())

    @property
    def acknowledged(self) -> int:
        return self.states["acknowledged"]

    @property
    def unreached(self) -> int:
        return self.households - self.acknowledged

    @property
    def percent(self) -> float:
        return percent(self.acknowledged, self.households)


@dataclass
class Place(Tally):
    """A building or an area of the warning: its households by the furthest their copy got."""

    id: int
    name: str
    states: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    lon: float | None = None
    lat: float | None = None
    area_id: int | None = None


@dataclass
class Progress(Tally):
    warning: WarningMessage
    lifted: bool
    superseded: bool
    states: dict[str, int]
    channels: dict[str, dict[str, int]]
    buildings: list[Place]
    areas: list[Place]
    climbs: list[WarningClimb]


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _followers(warning_id: int) -> tuple[Any, Any]:
    """(a sent Cancel references it, a sent Update or Cancel references it)."""
    newer = aliased(WarningMessage)
    base = (newer.references_id == warning_id, newer.status == WarningStatus.sent.value)
    return exists().where(*base, newer.msg_type == "Cancel"), exists().where(
        *base, newer.msg_type.in_(("Update", "Cancel"))
    )


def _by_building(session: Session, warning_id: int) -> dict[int, dict[str, int]]:
    """Households per building by the furthest their copy got (one grouped query)."""
    rank = case({state: r for state, r in _RANK.items()}, value=D.state, else_=0)
    best = select(D.target_id, func.max(rank).label("best")).where(D.warning_id == warning_id).group_by(D.target_id)
    best = best.subquery()
    bucket = case((T.acknowledged_at.is_not(None), 4), else_=func.coalesce(best.c.best, 1)).label("bucket")
    stmt = (
        select(T.building_id, bucket, func.count())
        .outerjoin(best, best.c.target_id == T.id)
        .where(T.warning_id == warning_id)
        .group_by(T.building_id, literal_column("bucket"))
    )
    out: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    for building_id, r, n in session.execute(stmt):
        out[building_id][_STATE_OF_RANK.get(int(r), "queued")] += n
    return out


def _channels(session: Session, warning_id: int) -> dict[str, dict[str, int]]:
    stmt = select(D.channel, D.state, func.count()).where(D.warning_id == warning_id).group_by(D.channel, D.state)
    out: dict[str, dict[str, int]] = {}
    for channel, state, n in session.execute(stmt):
        out.setdefault(channel, dict.fromkeys(STATES, 0))[state] = n
    return dict(sorted(out.items()))


def _places(session: Session, counts: dict[int, dict[str, int]]) -> tuple[list[Place], list[Place]]:
    """Buildings with their names and points, and the areas they lie in, summed."""
    buildings = grid.units_by_id(session, counts)
    above = grid.units_by_id(session, {a for b in buildings.values() for a in path_ids(b.path)})
    places: list[Place] = []
    areas: dict[int, Place] = {}
    for building_id, states in counts.items():
        unit = buildings.get(building_id)
        ids = path_ids(unit.path) if unit is not None else []
        area = next((above[i] for i in ids if i in above and above[i].level == Level.area), None)
        name = unit.name if unit else str(building_id)
        place = Place(building_id, name, dict(states), area_id=area.id if area else None)
        if unit is not None:
            place.lon, place.lat = unit.lon, unit.lat
        places.append(place)
        if area is not None:
            summed = areas.setdefault(area.id, Place(area.id, area.name, lon=area.lon, lat=area.lat))
            for state, n in states.items():
                summed.states[state] += n
    key = {u.id: (u.path, u.name) for u in (*buildings.values(), *above.values())}
    return sorted(places, key=lambda p: key.get(p.id, ("", ""))), sorted(areas.values(), key=lambda p: key[p.id])


def progress(session: Session, actor: Principal, warning_id: int) -> Progress:
    """The live progress of a sent warning the actor may read (404 otherwise)."""
    warning = access.warning_in_scope(session, actor, warning_id)
    cancelled, superseded = _followers(warning.id)
    lifted, replaced = session.execute(select(cancelled, superseded)).one()
    counts = _by_building(session, warning.id)
    states = dict.fromkeys(STATES, 0)
    for per in counts.values():
        for state, n in per.items():
            states[state] += n
    buildings, areas = _places(session, counts)
    climbs = session.scalars(
        select(WarningClimb).where(WarningClimb.warning_id == warning.id).order_by(WarningClimb.at)
    )
    return Progress(
        warning=warning,
        lifted=warning.msg_type == "Cancel" or bool(lifted),
        superseded=bool(replaced),
        states=states,
        channels=_channels(session, warning.id),
        buildings=buildings,
        areas=areas,
        climbs=list(climbs),
    )


# ---- the unreached ----------------------------------------------------------------------------


def _flag(value: Any) -> bool:
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise ValueError(value)
    return text in ("true", "1")


UNREACHED = ListSpec(
    # Highest vulnerability first, then building by building (the negation sorts without a DESC,
    # so "-priority" reverses the whole order cleanly).
    sorts={
        "priority": (-T.vulnerability, T.building_id, T.household_id),
        "building": (T.building_id, T.household_id),
        "rung": (T.rung, -T.vulnerability),
    },
    default_sort="priority",
    tiebreaker=T.id,
    filters={
        "building_id": Filter(T.building_id, parse=int),
        "door_to_door": Filter(T.door_to_door, parse=_flag),
    },
    scope=T.path,
)


@dataclass(frozen=True)
class Unreached:
    """One household still to reach, as the reader may see it."""

    target_id: int
    household_id: int
    building_id: int
    building: str
    unit_no: str
    room: str
    phone: str | None
    door_to_door: bool
    vulnerability: int | None
    rung: int
    channels: dict[str, str]


def unreached(session: Session, actor: Principal, warning_id: int, query: ListQuery) -> Page[Unreached]:
    """The households of the warning in the actor's scope that have not acknowledged, by role."""
    warning = access.warning_in_scope(session, actor, warning_id)
    stmt = select(T).where(T.warning_id == warning.id, T.acknowledged_at.is_(None))
    page = list_page(session, stmt, UNREACHED, query, actor)
    targets: list[WarningTarget] = page.items
    clear = actor.clear_fields()
    household_ids = [t.household_id for t in targets]
    names = grid.unit_names(session, {t.building_id for t in targets})
    places = grid.household_places(session, household_ids) if clear else {}
    phones: dict[int, str] = {}
    if Field.phone in clear and household_ids:
        today = datetime.now(ZoneInfo(get_settings().timezone)).date()
        phones = people.household_phones(session, household_ids, today)
        if phones:
            audit.record(
                session,
                actor,
                "read_personal",
                "warning",
                warning.id,
                summary=bilingual("查看未确认住户的电话（{n} 户）", n=len(phones)),
                after={"fields": ["phone"], "households": sorted(phones)},
            )
    channels: dict[int, dict[str, str]] = defaultdict(dict)
    if targets:
        rows = session.execute(select(D.target_id, D.channel, D.state).where(D.target_id.in_([t.id for t in targets])))
        for target_id, channel, state in rows:
            channels[target_id][channel] = state
    items = []
    for t in targets:
        unit_no, room = places.get(t.household_id, (None, None))
        items.append(
            Unreached(
                target_id=t.id,
                household_id=t.household_id,
                building_id=t.building_id,
                building=names.get(t.building_id, ""),
                unit_no=str(unit_no) if unit_no is not None else MASKED_UNIT,
                room=room if room is not None else MASKED_ROOM,
                phone=phones.get(t.household_id),
                door_to_door=t.door_to_door,
                vulnerability=t.vulnerability if Field.health in clear else None,
                rung=t.rung,
                channels=dict(sorted(channels[t.id].items())),
            )
        )
    return Page(items=items, total=page.total, page=page.page, size=page.size)


def may_record(actor: Principal) -> bool:
    return actor.can(Perm.warnings_confirm)
