"""Households unreached at a deadline climb the responsibility chain, rung by rung, until 100 %.

At each deadline (``next_climb_at``, then every ``step_minutes`` of the warning's level) the
households of a sent warning that have not acknowledged climb one rung, and the holders of that
rung are told how many of theirs to call or visit (``HouseholdsUnreached``, heard by notify):

    rung 1  the party member linked to the household (联系户党员) and the building's 党小组长 (楼栋长)
    rung 2  the area's grid worker (网格员) and branch committee member (支委委员)
    rung 3  the compound's branch secretary (支部书记)
    rung 4  the community's secretary (社区书记) and its staff — the top: told again at each deadline

A rung with nobody holding an account for a household is passed over at once (a household is
never left with no one told), so it may climb two rungs in one step. Warnings stop climbing when
every household has acknowledged, when an Update or a Cancel supersedes them (the newer message
climbs instead; a Cancel itself does not), and when they expire. Each step is one
``WarningClimb`` row: the households, the accounts told with how many each, per building.

Two schedulers cannot climb the same step twice: each warning's deadline is moved with a guarded
``UPDATE … WHERE next_climb_at = <the one read>`` before anything else, and only the process
whose update changed the row goes on.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from renxing.auth import directory as accounts
from renxing.config import get_settings
from renxing.db import transaction, utcnow
from renxing.grid import directory as grid
from renxing.grid.models import Duty, Level
from renxing.grid.scope import path_ids
from renxing.i18n import _l
from renxing.signals.bus import publish
from renxing.signals.catalog import HouseholdsUnreached
from renxing.warning.models import WarningClimb, WarningLevel, WarningMessage, WarningStatus, WarningTarget

TOP = 4
DEFAULT_STEP_MINUTES = 30
RUNG_LABELS = {
    0: _l("未上溯"),
    1: _l("联系户党员、楼栋长"),
    2: _l("网格员、支委委员"),
    3: _l("支部书记"),
    4: _l("社区书记、社区工作者"),
}
SUPERSEDING = ("Update", "Cancel")
TARGETS = WarningTarget.__table__
WARNINGS = WarningMessage.__table__


@dataclass
class ClimbCounts:
    """What one run did: warnings that climbed, households handed up, accounts told."""

    warnings: int = 0
    households: int = 0
    recipients: int = 0


@dataclass
class _Holders:
    """Who holds each rung above the unreached households of one warning."""

    households: dict[int, list[int]] = field(default_factory=dict)  # rung 1, party members
    units: dict[tuple[int, str], list[int]] = field(default_factory=dict)  # (unit id, duty) → accounts
    staff: dict[int, list[int]] = field(default_factory=dict)  # community id → its staff
    above: dict[str, dict[str, int]] = field(default_factory=dict)  # building path → level → unit id

    def of(self, rung: int, household_id: int, building_id: int, path: str) -> list[int]:
        up = self.above.get(path, {})
        found: list[int] = []
        if rung == 1:
            found += self.households.get(household_id, [])
            found += self.units.get((building_id, Duty.party_group_leader), [])
        elif rung == 2:
            area = up.get(Level.area)
            found += self.units.get((area, Duty.grid_worker), []) if area else []
            found += self.units.get((area, Duty.branch_committee), []) if area else []
        elif rung == 3:
            compound = up.get(Level.compound)
            found += self.units.get((compound, Duty.branch_secretary), []) if compound else []
        else:
            community = up.get(Level.community)
            found += self.units.get((community, Duty.secretary), []) if community else []
            found += self.staff.get(community, []) if community else []
        return list(dict.fromkeys(found))


def _superseded():
    newer = aliased(WarningMessage)
    return exists().where(
        newer.references_id == WarningMessage.id,
        newer.msg_type.in_(SUPERSEDING),
        newer.status == WarningStatus.sent.value,
    )


def due(session: Session, now: datetime) -> list[tuple[int, str, str, datetime]]:
    """Sent warnings whose deadline has passed and that still have someone to reach, as
    (id, level, headline, deadline), the earliest deadline first."""
    stmt = (
        select(WarningMessage.id, WarningMessage.level, WarningMessage.headline, WarningMessage.next_climb_at)
        .where(
            WarningMessage.status == WarningStatus.sent.value,
            WarningMessage.next_climb_at <= now,
            WarningMessage.msg_type != "Cancel",
            WarningMessage.acknowledged < WarningMessage.households,
            or_(WarningMessage.expires.is_(None), WarningMessage.expires > now),
            ~_superseded(),
        )
        .order_by(WarningMessage.next_climb_at, WarningMessage.id)
    )
    return [(i, level, headline, at) for i, level, headline, at in session.execute(stmt)]


def _step(session: Session, level: str) -> timedelta:
    minutes = session.scalar(select(WarningLevel.step_minutes).where(WarningLevel.code == level))
    return timedelta(minutes=minutes or DEFAULT_STEP_MINUTES)


def _holders(session: Session, rows: list, today) -> _Holders:
    """Every rung's holders above these targets, in a few queries whatever their number."""
    paths = {r.path for r in rows}
    units = grid.units_by_id(session, {i for p in paths for i in path_ids(p)})
    above = {p: {units[i].level: i for i in path_ids(p) if i in units} for p in paths}
    by_level: dict[str, set[int]] = defaultdict(set)
    for levels in above.values():
        for level, unit_id in levels.items():
            by_level[level].add(unit_id)
    duties = {
        Level.building: (Duty.party_group_leader,),
        Level.area: (Duty.grid_worker, Duty.branch_committee),
        Level.compound: (Duty.branch_secretary,),
        Level.community: (Duty.secretary,),
    }
    held: dict[tuple[int, str], list[int]] = {}
    for level, wanted in duties.items():
        held.update(grid.duty_accounts(session, by_level.get(level, set()), wanted, today))
    staff = {c: accounts.staff_covering(session, units[c].path) for c in by_level.get(Level.community, set())}
    return _Holders(
        households=grid.household_party_members(session, {r.household_id for r in rows}, today),
        units=held,
        staff=staff,
        above=above,
    )


def _climb_warning(session: Session, warning_id: int, headline: str, now: datetime) -> ClimbCounts:
    rows = session.execute(
        select(TARGETS.c.id, TARGETS.c.household_id, TARGETS.c.building_id, TARGETS.c.path, TARGETS.c.rung).where(
            TARGETS.c.warning_id == warning_id, TARGETS.c.acknowledged_at.is_(None)
        )
    ).all()
    if not rows:
        return ClimbCounts()
    today = now.astimezone(ZoneInfo(get_settings().timezone)).date()
    holders = _holders(session, rows, today)
    moved: dict[int, list[int]] = defaultdict(list)  # new rung → target ids
    told: Counter[int] = Counter()
    buildings: dict[int, dict] = {}
    unheld = 0
    for r in rows:
        rung = min(r.rung + 1, TOP)
        users = holders.of(rung, r.household_id, r.building_id, r.path)
        while not users and rung < TOP:
            rung += 1
            users = holders.of(rung, r.household_id, r.building_id, r.path)
        moved[rung].append(r.id)
        told.update(users)
        unheld += not users
        b = buildings.setdefault(r.building_id, {"households": 0, "users": {}})
        b["households"] += 1
        for u in users:
            b["users"][str(u)] = b["users"].get(str(u), 0) + 1
    for rung, ids in moved.items():
        for start in range(0, len(ids), 500):
            session.execute(update(TARGETS).where(TARGETS.c.id.in_(ids[start : start + 500])).values(rung=rung))
    top = max(moved)
    session.add(
        WarningClimb(
            warning_id=warning_id,
            rung=top,
            at=now,
            households=len(rows),
            recipients=sorted(told),
            detail={
                "rungs": {str(k): len(v) for k, v in sorted(moved.items())},
                "counts": {str(u): n for u, n in sorted(told.items())},
                "buildings": {str(k): v for k, v in sorted(buildings.items())},
                "unheld": unheld,
            },
        )
    )
    if told:
        publish(
            session,
            HouseholdsUnreached(
                warning_id=warning_id,
                rung=top,
                headline=headline,
                counts=tuple(sorted(told.items())),
                link=f"/warning/{warning_id}/progress",
            ),
        )
    return ClimbCounts(warnings=1, households=len(rows), recipients=len(told))


def climb(session: Session, now: datetime | None = None) -> ClimbCounts:
    """One step up the chain for every warning whose deadline has passed, in the caller's transaction."""
    now = now or utcnow()
    total = ClimbCounts()
    for warning_id, level, headline, deadline in due(session, now):
        step = _step(session, level)
        following = deadline + step
        if following <= now:  # the scheduler was away: the next deadline counts from now, no burst of steps
            following = now + step
        claimed = session.execute(
            update(WARNINGS)
            .where(WARNINGS.c.id == warning_id, WARNINGS.c.next_climb_at == deadline)
            .values(next_climb_at=following)
        ).rowcount
        if not claimed:  # another process climbed this step
            continue
        done = _climb_warning(session, warning_id, headline, now)
        total.warnings += done.warnings
        total.households += done.households
        total.recipients += done.recipients
    return total


def run(engine: Engine, now: datetime | None = None) -> ClimbCounts:
    """One transaction of climbing, for the scheduler and ``renxing warning climb``."""
    with transaction(engine) as session:
        return climb(session, now)
