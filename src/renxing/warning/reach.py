"""Reaching every household of a warning as it is sent: its targets and their queued deliveries.

Called by the sending service inside its transaction (:func:`start`), so a warning is sent with
all of its targets and deliveries or not at all. The warned area is the drawn polygon, else the
warned unit's outline, else simply the unit's subtree; a household is inside when its building's
point is (``targeting``). An Update or Cancel reaches the households of the warning it references.

Each target carries the register's vulnerability score of its household (counts of vulnerable
residents, never who) and is marked door-to-door when anyone in it is vulnerable; the building
leaders of those buildings and the carers of residents in the warned buildings are returned, for
the sender to tell. Then one delivery per household × channel is queued for ``dispatch``.

A warning to 50,000 households is a handful of statements: the buildings and households read as
plain rows, the targets written in one ``INSERT … SELECT FROM unnest(…)`` on PostgreSQL (one
executemany on SQLite), and the deliveries in one ``INSERT … SELECT`` per channel from the targets.
"""

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, literal, select, text
from sqlalchemy.orm import Session

from renxing.care import directory as care
from renxing.config import get_settings
from renxing.errors import Conflict, FieldError, Invalid
from renxing.grid import directory as grid
from renxing.grid.models import Duty
from renxing.i18n import _
from renxing.people import directory as people
from renxing.warning import targeting
from renxing.warning.channels import NAMES as CHANNEL_NAMES
from renxing.warning.models import DeliveryState, WarningDelivery, WarningLevel, WarningMessage, WarningTarget

DEFAULT_STEP_MINUTES = 30
FOLLOWS = ("Update", "Cancel")  # message types that reach the households of the warning they reference
_t = WarningTarget.__table__
_d = WarningDelivery.__table__
_PG_TARGETS = text(
    "INSERT INTO warning_targets (warning_id, household_id, building_id, path, vulnerability, door_to_door, rung) "
    "SELECT :warning_id, h, b, p, v, v > 0, 0 FROM unnest("
    "CAST(:households AS integer[]), CAST(:buildings AS integer[]), CAST(:paths AS varchar[]), "
    "CAST(:scores AS integer[])) AS x(h, b, p, v)"
)

_SQLITE_TARGETS = (
    "INSERT INTO warning_targets (warning_id, household_id, building_id, path, vulnerability, door_to_door, rung) "
    "VALUES (?, ?, ?, ?, ?, ?, 0)"
)


@dataclass(frozen=True)
class Reach:
    """What sending a warning set in motion: the households targeted, and the accounts to tell
    for a door-to-door check (building leaders and carers)."""

    households: int
    door_to_door: tuple[int, ...]


@dataclass(frozen=True)
class _Households:
    """The households reached, column by column (50,000 objects would cost more than the query)."""

    ids: list[int]
    buildings: list[int]
    paths: list[str]

    @classmethod
    def of(cls, rows: Sequence[Sequence[Any]]) -> "_Households":
        ids, buildings, paths = (list(col) for col in zip(*rows, strict=True)) if rows else ([], [], [])
        return cls(ids, buildings, paths)

    def __len__(self) -> int:
        return len(self.ids)


def start(session: Session, warning: WarningMessage, now: datetime) -> Reach:
    """Target the households of a warning being sent and queue a delivery to each on each of its
    channels; sets ``households`` and ``next_climb_at`` (now + the level's step). The caller has
    checked permission and scope and sends in this transaction."""
    session.flush()  # the warning has its id
    if session.scalar(select(_t.c.id).where(_t.c.warning_id == warning.id).limit(1)) is not None:
        raise Conflict(_("预警 {identifier} 已经发出").format(identifier=warning.identifier))
    names = channels_of(warning)
    today = now.astimezone(ZoneInfo(get_settings().timezone)).date()
    households = _followed(session, warning) if warning.msg_type in FOLLOWS else None
    if households is None:
        households = _inside_area(session, warning)
    scores = _scores(session, households, today)
    _insert_targets(session, warning.id, households, scores)
    for name in names:
        _queue(session, warning.id, name, now)
    warning.households = len(households)
    warning.acknowledged = 0
    warning.next_climb_at = now + timedelta(minutes=_step_minutes(session, warning.level))
    return Reach(households=len(households), door_to_door=_door_to_door(session, households, scores, today))


def channels_of(warning: WarningMessage) -> list[str]:
    """The warning's channels (the installation's defaults when it names none), each once, all
    known; else a 422 naming ``channels``."""
    wanted = list(warning.channels or []) or [
        c.strip() for c in get_settings().warning_channels.split(",") if c.strip()
    ]
    unknown = [c for c in wanted if c not in CHANNEL_NAMES]
    if unknown:
        why = _("未知的发送渠道：{names}").format(names="、".join(map(str, unknown)))
        raise Invalid(why, [FieldError("channels", why, value=",".join(map(str, unknown)))])
    return list(dict.fromkeys(wanted))


# ---- which households ------------------------------------------------------------------------


def _followed(session: Session, warning: WarningMessage) -> _Households | None:
    """The households the referenced warning reached (None when it reached none: the area decides)."""
    if warning.references_id is None:
        return None
    rows = session.execute(
        select(_t.c.household_id, _t.c.building_id, _t.c.path)
        .where(_t.c.warning_id == warning.references_id)
        .order_by(_t.c.household_id)
    ).all()
    return _Households.of(rows) if rows else None


def _area(session: Session, warning: WarningMessage) -> tuple[Any, bool]:
    """The warned area (None: the whole subtree) and whether unplaced buildings count in it."""
    if warning.polygon:
        try:
            return targeting.area_of(warning.polygon), False
        except targeting.BadArea:
            why = _("预警区域不是有效的多边形")
            raise Invalid(why, [FieldError("polygon", why)]) from None
    unit = grid.unit(session, warning.unit_id)
    if unit is not None and unit.geometry:
        try:
            return targeting.area_of(unit.geometry), True
        except targeting.BadArea:
            pass  # an outline that is no area: the unit's subtree is the area
    return None, True


def _inside_area(session: Session, warning: WarningMessage) -> _Households:
    """The households of the warned unit's subtree whose building lies inside the area."""
    area, keep_unlocated = _area(session, warning)
    places = [targeting.Place(i, lon, lat) for i, lon, lat in grid.building_points(session, warning.path)]
    buildings = set(targeting.chosen(places, area, keep_unlocated=keep_unlocated))
    return _Households.of([row for row in grid.households_under(session, warning.path) if row[1] in buildings])


def _common_path(households: _Households) -> str:
    """The deepest grid path above every household (``/`` at worst)."""
    if not households:
        return "/"
    return posixpath.commonpath(set(households.paths)).rstrip("/") + "/"


def _scores(session: Session, households: _Households, today: date) -> dict[int, int]:
    if not households:
        return {}
    wanted = set(households.ids)
    found = people.household_vulnerability(session, _common_path(households), today)
    return {hid: score for hid, score in found.items() if hid in wanted}


# ---- writing ---------------------------------------------------------------------------------


def _insert_targets(session: Session, warning_id: int, households: _Households, scores: dict[int, int]) -> None:
    if not households:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(
            _PG_TARGETS,
            {
                "warning_id": warning_id,
                "households": households.ids,
                "buildings": households.buildings,
                "paths": households.paths,
                "scores": [scores.get(h, 0) for h in households.ids],
            },
        )
        return
    # SQLite: one executemany through the driver, plain tuples (no per-row parameter processing)
    scored = [scores.get(h, 0) for h in households.ids]
    conn.exec_driver_sql(
        _SQLITE_TARGETS,
        [
            (warning_id, h, b, p, v, v > 0)
            for h, b, p, v in zip(households.ids, households.buildings, households.paths, scored, strict=True)
        ],
    )


def _queue(session: Session, warning_id: int, channel: str, now: datetime) -> None:
    """One queued delivery on ``channel`` for every target of the warning, in one statement."""
    session.connection().execute(
        insert(_d).from_select(
            ["warning_id", "target_id", "channel", "state", "attempts", "updated_at"],
            select(
                _t.c.warning_id,
                _t.c.id,
                literal(channel, _d.c.channel.type),
                literal(DeliveryState.queued.value, _d.c.state.type),
                literal(0),
                literal(now, _d.c.updated_at.type),
            ).where(_t.c.warning_id == warning_id),
        )
    )


def _step_minutes(session: Session, level: str) -> int:
    row = session.get(WarningLevel, level)
    return row.step_minutes if row is not None and row.step_minutes else DEFAULT_STEP_MINUTES


def _door_to_door(session: Session, households: _Households, scores: dict[int, int], today: date) -> tuple[int, ...]:
    """The building leaders of the buildings with a vulnerable household, and the carers of the
    residents of every warned building."""
    vulnerable_buildings = {b for h, b in zip(households.ids, households.buildings, strict=True) if scores.get(h, 0)}
    users: set[int] = set()
    for ids in grid.duty_accounts(session, vulnerable_buildings, [Duty.party_group_leader], today).values():
        users.update(ids)
    users.update(care.carers_at(session, set(households.paths), today))
    return tuple(sorted(users))
