"""Months of the closed loop's history for the demo street, so the dashboard means something.

    add_reports(session, seed=2023, scale=1.0, until=None, password_hash=...) -> ReportsSummary

Called by :func:`renxing.demo.build.build_demo` in its transaction, after the street is written.

**When.** The history runs from the first day of the fifth month before ``until`` (local time)
to ``until`` itself, by default the moment of the build to the minute: five to six months,
ending now, so the dashboard has this week's work and the inboxes hold what a running system
would hold. The same seed and the same ``until`` give the same rows; another ``until`` moves
the calendar, and with it the mix of the seasons (the plum rains of June and July bring
waterlogging, winter brings gas, heaters and the elderly's calls).

**What.** Reports are drawn day by day for each community, in proportion to its residents
and kind (the 1980s estate and the riverside work-unit compounds report more, and ask for
help for their elderly more), with a mix of categories by month and community, a few storm
days, and buildings that are more prone to trouble than others. Each report has a place at a
real building of the demo (a point inside its footprint, a household, the ground of a grid
area, or a compound gate), a reporter (a resident on the app, a caller recorded by the grid
worker, the 12345 hotline through Open311, a grid worker on patrol, or a sensor) and a
description from templates with variety.

**How it is handled** is played out by the rules of the closed loop itself: the place is
found by intake's point-in-polygon index (:mod:`renxing.events.placing`) and routed as intake
routes (:func:`renxing.events.dispatching.route_place`); every step is checked against the transition
table and who may take it; deadlines, next looks and escalations follow
:mod:`renxing.events.deadlines` and the sweep (one rung of the ladder from
:func:`renxing.events.ladders.unit_ladders` per overdue step, a step's length of grace,
auto-closing seven days after resolution). Times are drawn so that most steps meet their
deadline and some do not. The reports, their timelines (whose first two steps are intake's
own, :func:`renxing.events.intake.intake_steps`) and followers are written in one batch by
intake's writer (:func:`renxing.events.intake.write_reports`; filing them one at a time would
take minutes), then the inbox messages those steps sent, and one audit entry.

So that the demo shows each of them, at least one report ends in every state; what a
running sweep would do at ``until`` has been done.

The grid workers of the demo get accounts (``gw-gh03`` for area 3 of 桂花园 …), as do the
residents who report on the app (``jm-<resident id>``); they share the demo password.
"""

import base64
import json
import math
import random
import re
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry import shape
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User, UserScope
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM, Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.demo import report_texts as texts
from renxing.events import access, catalog, deadlines, dispatching, ladders, lookups, placing, routing
from renxing.events.deadlines import Minutes, Rung
from renxing.events.defaults import PRIVATE_CATEGORIES
from renxing.events.intake import ReportRows, intake_steps, routed_state, write_reports
from renxing.events.models import (
    EventCategory,
    Report,
    ReportPublicText,
    ReportTransition,
    RoutingRule,
    SeverityDeadline,
    reports,
)
from renxing.events.policy import (
    OPEN_STATES,
    TERMINAL_STATES,
    Action,
    Channel,
    State,
    actor_kinds,
    parse_actors,
)
from renxing.events.schemas import RuleIn
from renxing.events.scrub import scrub
from renxing.geo.sphere import haversine_m
from renxing.grid.models import Building, Duty, GridUnit, Household, Level, Responsibility
from renxing.i18n import N_, bilingual
from renxing.notify.models import Notification
from renxing.people.models import Resident
from renxing.people.vulnerability import age_on

REPORTS_PER_MONTH = 650  # the whole street at scale 1, in an ordinary month
MIN_REPORTS = 60  # small scales still show every state
HISTORY_MONTHS = 5  # whole months before the month of ``until``
SEVERITIES = ("urgent", "high", "normal", "low")

# Reports per resident, relative, by the kind of community.
COMMUNITY_RATE = {"old_estate": 1.3, "riverside": 1.35, "resettlement": 1.1, "mixed": 0.9, "highrise": 0.75}

APP, PATROL, PHONE, OPEN311, INTERNAL = (
    c.value for c in (Channel.resident_app, Channel.patrol, Channel.phone, Channel.open311, Channel.internal)
)


@dataclass(frozen=True)
class Kind:
    """How one category behaves in the demo's history."""

    weight: float  # share of an ordinary month's reports
    channels: dict[str, float]
    months: dict[int, float] = field(default_factory=dict)  # calendar month → multiplier
    communities: dict[str, float] = field(default_factory=dict)  # community kind → multiplier
    outdoor: float = 0.0  # placed on the ground of an area rather than at a building
    household: float = 0.0  # placed at a household (the reporter's own, or the one concerned)
    resolve: float = 0.3  # median share of the time left before the resolve deadline it takes
    unsolved: float = 0.07  # the reporter says it is not solved
    reject: float = 0.02
    transfer: float = 0.04
    duplicate: float = 0.03  # someone else reports the same thing shortly after


WINTER = {11: 1.4, 12: 2.0, 1: 2.3, 2: 1.9, 3: 1.3}
KINDS: dict[str, Kind] = {
    "fire_hazard": Kind(
        10,
        {APP: 3, PATROL: 5, PHONE: 1, OPEN311: 0.6, INTERNAL: 0.4},
        {11: 1.3, 12: 1.6, 1: 1.7, 2: 1.5, 3: 1.2},
        {"old_estate": 1.4, "riverside": 1.5, "highrise": 0.8},
        outdoor=0.1,
        resolve=0.2,
        transfer=0.03,
    ),
    "waterlogging": Kind(
        3,
        {APP: 4, PATROL: 3, PHONE: 1.5, OPEN311: 1, INTERNAL: 0.8},
        {4: 0.8, 5: 1.2, 6: 5, 7: 6, 8: 2.5, 9: 1.5, 10: 0.6, 11: 0.3, 12: 0.15, 1: 0.15, 2: 0.2, 3: 0.5},
        {"riverside": 2.0, "old_estate": 1.4, "highrise": 0.6},
        outdoor=0.6,
        resolve=0.08,
        transfer=0.06,
        duplicate=0.18,
    ),
    "building_danger": Kind(
        2.5,
        {APP: 3, PATROL: 3, PHONE: 2, OPEN311: 1},
        {6: 1.5, 7: 1.6, 8: 1.3},
        {"old_estate": 2.0, "riverside": 2.2, "highrise": 0.4, "resettlement": 0.8},
        household=0.25,
        resolve=0.5,
        transfer=0.08,
    ),
    "gas": Kind(
        2.5,
        {APP: 2, PHONE: 4, OPEN311: 1, PATROL: 1, INTERNAL: 0.6},
        {11: 1.8, 12: 2.6, 1: 3.0, 2: 2.4, 3: 1.4, 6: 0.7, 7: 0.6, 8: 0.6},
        {"old_estate": 1.3, "riverside": 1.4},
        household=0.5,
        resolve=0.25,
        unsolved=0.04,
        transfer=0.05,
    ),
    "electrical": Kind(
        5,
        {APP: 3, PATROL: 3, PHONE: 2, OPEN311: 1},
        {11: 1.3, 12: 1.6, 1: 1.8, 2: 1.5, 7: 1.4, 8: 1.4},
        {"old_estate": 1.5, "riverside": 1.6, "highrise": 0.8},
        household=0.2,
        transfer=0.06,
    ),
    "falling_objects": Kind(
        3,
        {APP: 4, PATROL: 3, PHONE: 1, OPEN311: 1},
        {3: 1.2, 8: 1.5, 9: 1.4},
        {"highrise": 2.2, "old_estate": 0.7},
        outdoor=0.3,
        duplicate=0.1,
    ),
    "public_health": Kind(
        4,
        {APP: 4, PATROL: 3, PHONE: 1, OPEN311: 1},
        {6: 1.3, 7: 1.6, 8: 1.6, 9: 1.2, 12: 0.6, 1: 0.5, 2: 0.6},
        {"resettlement": 1.3},
        outdoor=0.3,
    ),
    "security": Kind(
        4,
        {APP: 4, PATROL: 3, PHONE: 2, OPEN311: 1},
        communities={"resettlement": 1.3, "riverside": 1.1},
        outdoor=0.2,
        reject=0.04,
        transfer=0.1,
        duplicate=0.06,
    ),
    "dispute": Kind(
        7,
        {APP: 3, PHONE: 4, PATROL: 2, OPEN311: 2},
        communities={"resettlement": 1.4, "highrise": 1.1},
        household=0.4,
        resolve=0.45,
        unsolved=0.15,
        reject=0.06,
        duplicate=0.0,
    ),
    "needs_help": Kind(
        6,
        {PHONE: 5, PATROL: 4, APP: 0.6, INTERNAL: 0.8},
        {12: 1.4, 1: 1.6, 2: 1.3, 7: 1.3, 8: 1.3},
        {"old_estate": 2.4, "riverside": 2.2, "highrise": 0.4, "resettlement": 1.1},
        household=1.0,
        resolve=0.2,
        unsolved=0.04,
        duplicate=0.0,
    ),
    "sanitation": Kind(
        22,
        {APP: 4, PATROL: 6, PHONE: 1, OPEN311: 1},
        {6: 1.2, 7: 1.3, 8: 1.3},
        {"resettlement": 1.3, "riverside": 1.1},
        outdoor=0.45,
        resolve=0.15,
        duplicate=0.05,
    ),
    "damaged_facility": Kind(
        18,
        {APP: 4, PATROL: 5, PHONE: 1.5, OPEN311: 1},
        communities={"old_estate": 1.3, "riverside": 1.3},
        outdoor=0.25,
        resolve=0.35,
        unsolved=0.1,
        transfer=0.05,
    ),
    "other": Kind(
        3,
        {APP: 4, PATROL: 1, PHONE: 2, OPEN311: 1.5},
        outdoor=0.3,
        reject=0.15,
    ),
}
# Categories a resident may also report at the compound gate rather than at a building.
AT_THE_GATE = ("sanitation", "damaged_facility", "security", "public_health", "other")

# Local hour weights of when reports come in, by channel.
HOURS = {
    APP: (1, 0.5, 0.3, 0.2, 0.2, 0.5, 2, 5, 7, 7, 6, 5, 5, 4, 4, 4, 5, 6, 7, 8, 7, 5, 3, 2),
    PATROL: (0, 0, 0, 0, 0, 0, 0, 0.5, 6, 9, 9, 7, 2, 1, 7, 8, 7, 4, 0.5, 0, 0, 0, 0, 0),
    PHONE: (0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 1, 3, 8, 9, 8, 6, 4, 5, 7, 7, 6, 4, 3, 2, 1.5, 1, 0.5, 0.3),
    OPEN311: (0, 0, 0, 0, 0, 0, 0, 0, 3, 8, 9, 8, 3, 4, 8, 9, 8, 6, 2, 0, 0, 0, 0, 0),
    INTERNAL: tuple([1] * 24),
}

# In the order the demo makes sure of them: those that take longest to reach first, so that
# they may use reports a few days old and leave the newest to the others.
REQUIRED_STATES = (
    State.closed,
    State.merged,
    State.reopened,
    State.resolved,
    State.rejected,
    State.transferred,
    State.on_site,
    State.accepted,
    State.submitted,
    State.assigned,
)
_REF = re.compile(r"⟨(\d+)⟩")  # a report of the history by index, until it has an id


def _ref(idx: int) -> str:
    return f"⟨{idx}⟩"


@dataclass
class ReportsSummary:
    reports: int
    by_state: dict[str, int]
    events: int
    accounts: int  # accounts created for grid workers and app users
    since: datetime
    until: datetime
    seconds: float = 0.0


# ---- the street as the database holds it ------------------------------------------------


@dataclass
class _Building:
    id: int
    name: str  # with the compound: 桂花园一村3栋
    short: str  # 3栋
    path: str
    address: str
    units: int
    floors: int
    lift: bool
    area_id: int
    compound_id: int
    community_id: int
    corners: list[tuple[float, float]]  # footprint, lon/lat
    households: list[int] = field(default_factory=list)
    prone: float = 1.0  # some buildings have more trouble than others


@dataclass
class _Area:
    id: int
    no: int
    name: str
    path: str
    compound_id: int
    community_id: int
    bbox: tuple[float, float, float, float]
    buildings: list[int] = field(default_factory=list)
    worker: Principal | None = None


@dataclass
class _Community:
    id: int
    code: str
    name: str
    kind: str
    path: str
    residents: int = 0
    areas: list[int] = field(default_factory=list)
    compounds: list[int] = field(default_factory=list)
    staff: Principal | None = None  # a community staff account covering it
    low_spots: list[tuple[int, float, float]] = field(default_factory=list)  # (area id, lon, lat)


@dataclass(frozen=True)
class _Person:
    id: int
    household_id: int
    name: str
    gender: str
    age: int
    phone: str | None
    vulnerable: float  # weight as the subject of a call for help


@dataclass
class _Street:
    street_path: str
    communities: dict[int, _Community]
    compounds: dict[int, tuple[str, str, int]]  # id → (name, path, community id)
    areas: dict[int, _Area]
    buildings: dict[int, _Building]
    households: dict[int, tuple[int, int, str, str, str]]  # id → (building, unit no, room, address, path)
    people: dict[int, list[_Person]]  # household → residents
    principals: dict[int, Principal]
    phones: dict[int, str | None]  # user id → the account's phone
    street_admin: Principal | None
    resident1: Principal | None


def _local_rng(seed: int, *parts: object) -> random.Random:
    return random.Random("-".join(str(p) for p in (seed, "reports", *parts)))


def _principal(user: User, scope: tuple[str, ...], household_id: int | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        scope_paths=scope,
        household_id=household_id,
        resident_id=user.resident_id,
        display_name=user.display_name,
    )


def _load(session: Session, until: date, rng: random.Random) -> _Street:
    units = session.execute(
        select(
            GridUnit.id,
            GridUnit.parent_id,
            GridUnit.level,
            GridUnit.code,
            GridUnit.name,
            GridUnit.kind,
            GridUnit.path,
            GridUnit.geometry,
        ).order_by(GridUnit.id)
    ).all()
    by_id = {u.id: u for u in units}
    street_path = next(u.path for u in units if u.level == Level.street.value)
    communities = {
        u.id: _Community(u.id, u.code.split("-")[-1], u.name, u.kind or "mixed", u.path)
        for u in units
        if u.level == Level.community.value
    }
    compounds = {u.id: (u.name, u.path, u.parent_id) for u in units if u.level == Level.compound.value}
    for cid, (_, _, community_id) in compounds.items():
        communities[community_id].compounds.append(cid)
    areas: dict[int, _Area] = {}
    for u in units:
        if u.level != Level.area.value:
            continue
        ring = shape(_json(u.geometry)).bounds
        community_id = compounds[u.parent_id][2]
        areas[u.id] = _Area(u.id, int(u.code.split("-")[-1]), u.name, u.path, u.parent_id, community_id, ring)
        communities[community_id].areas.append(u.id)
    details = {b.id: b for b in session.scalars(select(Building))}
    buildings: dict[int, _Building] = {}
    for u in units:
        if u.level != Level.building.value:
            continue
        area = areas[u.parent_id]
        ring = _json(u.geometry)["coordinates"][0][:-1]
        d = details.get(u.id)
        compound_name = compounds[area.compound_id][0]
        buildings[u.id] = _Building(
            u.id,
            f"{compound_name}{u.name}",
            u.name,
            u.path,
            (d.address if d else None) or f"{compound_name}{u.name}",
            (d.units if d else None) or 2,
            (d.floors if d else None) or 6,
            bool(d.has_elevator) if d else False,
            area.id,
            area.compound_id,
            area.community_id,
            [(float(x), float(y)) for x, y in ring],
            prone=rng.gammavariate(1.2, 1.0) + 0.05,
        )
        area.buildings.append(u.id)
    households = {
        h.id: (h.building_id, h.unit_no, h.room, h.address or "", h.path)
        for h in session.execute(
            select(
                Household.id,
                Household.building_id,
                Household.unit_no,
                Household.room,
                Household.address,
                Household.path,
            ).order_by(Household.id)
        )
    }
    for hh_id, (b_id, *_rest) in households.items():
        buildings[b_id].households.append(hh_id)
    people: dict[int, list[_Person]] = defaultdict(list)
    rows = session.execute(
        select(
            Resident.id,
            Resident.household_id,
            Resident.name,
            Resident.gender,
            Resident.birth_date,
            Resident.phone,
            Resident.lives_here,
            Resident.living_alone,
            Resident.disability_kind,
            Resident.bedridden,
        )
        .where(Resident.deleted_at.is_(None))
        .order_by(Resident.id)
    )
    for r in rows:
        if not r.lives_here:
            continue
        age = age_on(r.birth_date, until) if r.birth_date else 40
        weight = 0.0
        if r.bedridden:
            weight += 3
        if r.living_alone and age >= 65:
            weight += 2.5
        if age >= 80:
            weight += 2
        if r.disability_kind:
            weight += 1.5
        people[r.household_id].append(_Person(r.id, r.household_id, r.name, r.gender or "F", age, r.phone, weight))
        communities[_community_of(by_id, households[r.household_id][4])].residents += 1
    users = {u.id: u for u in session.scalars(select(User).order_by(User.id))}
    scopes: dict[int, list[str]] = defaultdict(list)
    for user_id, path in session.execute(
        select(UserScope.user_id, GridUnit.path).join(GridUnit, GridUnit.id == UserScope.unit_id)
    ):
        scopes[user_id].append(path)
    hh_of_resident = {p.id: p.household_id for ps in people.values() for p in ps}
    principals = {}
    for u in users.values():
        hh = hh_of_resident.get(u.resident_id) if u.role == Role.resident.value else None
        scope = (households[hh][4],) if hh else tuple(sorted(scopes[u.id]))
        principals[u.id] = _principal(u, scope, hh)
    for c in communities.values():
        staff = [p for p in principals.values() if p.role is Role.community_staff and c.path in p.scope_paths]
        c.staff = staff[0] if staff else None
    street_admin = next((p for p in principals.values() if p.role is Role.street_admin), None)
    resident1 = next((p for p in principals.values() if p.username == "resident1"), None)
    phones = {u.id: u.phone for u in users.values()}
    return _Street(
        street_path,
        communities,
        compounds,
        areas,
        buildings,
        households,
        people,
        principals,
        phones,
        street_admin,
        resident1,
    )


def _json(text: str) -> dict:
    return json.loads(text)


def _community_of(units_by_id: dict, path: str) -> int:
    return int(path.strip("/").split("/")[1])


# ---- accounts and routing rules the demo adds ------------------------------------------


def _grid_worker_accounts(session: Session, street: _Street, password_hash: str) -> int:
    """An account for every area's grid worker who has none, linked to their duty."""
    duties = session.execute(
        select(
            Responsibility.id,
            Responsibility.unit_id,
            Responsibility.person_name,
            Responsibility.phone,
            Responsibility.user_id,
        )
        .where(Responsibility.duty == Duty.grid_worker.value, Responsibility.unit_id.in_(list(street.areas)))
        .order_by(Responsibility.id)
    ).all()
    first = {}
    for d in duties:
        first.setdefault(d.unit_id, d)
    new = []
    for area_id in sorted(first):
        d = first[area_id]
        area = street.areas[area_id]
        if d.user_id is not None:
            area.worker = street.principals.get(d.user_id)
            continue
        code = street.communities[area.community_id].code.lower()
        new.append((area, d, f"gw-{code}{area.no:02d}"))
    if not new:
        return 0
    rows = [
        {
            "username": username,
            "password_hash": password_hash,
            "display_name": d.person_name,
            "role": Role.grid_worker.value,
            "phone": d.phone,
            "locale": "zh",
            "is_active": True,
        }
        for _, d, username in new
    ]
    ids = _insert(session, User, rows)
    session.connection().execute(
        insert(UserScope.__table__),
        [{"user_id": uid, "unit_id": a.id} for (a, _, _), uid in zip(new, ids, strict=True)],
    )
    session.execute(
        update(Responsibility.__table__)
        .where(Responsibility.id == bindparam("b_id"))
        .values(user_id=bindparam("b_uid")),
        [{"b_id": d.id, "b_uid": uid} for (_, d, _), uid in zip(new, ids, strict=True)],
    )
    for (area, d, username), uid in zip(new, ids, strict=True):
        street.phones[uid] = d.phone
        p = Principal(
            user_id=uid, username=username, role=Role.grid_worker, scope_paths=(area.path,), display_name=d.person_name
        )
        street.principals[uid] = p
        area.worker = p
    return len(new)


def _routing_rules(session: Session, street: _Street) -> None:
    """Two contacts like a real street's: the gas company, and the high-rise's property company."""
    rules = [
        RuleIn(
            category_code="gas",
            handler_kind="partner",
            org_name="港华燃气（96333）",
            priority=50,
            note=bilingual("燃气问题由燃气公司处置，网格员协调"),
        )
    ]
    highrise = next((c for c in street.communities.values() if c.kind == "highrise"), None)
    if highrise is not None:
        rules.append(
            RuleIn(
                category_code="damaged_facility",
                unit_id=highrise.id,
                handler_kind="partner",
                org_name=f"{highrise.name.removesuffix('社区')}物业服务中心",
                priority=50,
                note=bilingual("商品房小区设施由物业维修"),
            )
        )
    for rule in rules:
        catalog.create_rule(session, SYSTEM, rule)


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    table = model.__table__
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.connection().execute(stmt, rows).scalars())


# ---- drawing the reports ----------------------------------------------------------------


@dataclass
class _Spec:
    """One report as it came in."""

    at: datetime
    category: str
    channel: str
    community_id: int
    severity: str = "normal"
    unit_id: int = 0
    household_id: int | None = None
    area_id: int | None = None
    path: str = ""
    level: str = "building"
    place_source: str = "unit"
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    description: str = ""
    reporter: Principal | None = None  # a user who reported (app, patrol)
    reporter_name: str | None = None
    reporter_phone: str | None = None
    resident_id: int | None = None  # the resident behind an app account still to create
    recorder: Principal | None = None  # who typed in a phone call
    show_name: bool = False
    attributes: dict[str, Any] | None = None
    external_ref: str | None = None
    original: "_Spec | None" = None  # the earlier report this one repeats …
    duplicate_of: int | None = None  # … and its index once the history is in time order
    token: str = ""
    decision: routing.Decision | None = None
    explanation: dict[str, Any] | None = None


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class _Drawer:
    """Draws the reports of the history from the street, in time order."""

    def __init__(
        self,
        street: _Street,
        seed: int,
        since: datetime,
        until: datetime,
        tz: ZoneInfo,
        scale: float,
        severities: dict[str, str],
    ):
        self.s = street
        self.since, self.until, self.tz = since, until, tz
        self.rng = _local_rng(seed, "draw")
        self.scale = scale
        self.severities = severities
        self.app_pool: dict[int, list[_Person]] = defaultdict(list)  # building → residents already on the app
        self.internal_seq = 0
        self.hotline_seq = 0
        self.footprints = {
            a.id: [shapely.Polygon(street.buildings[b].corners) for b in a.buildings] for a in street.areas.values()
        }
        # Who a call for help may be about, per community, and the buildings people live in.
        self.subjects: dict[int, list[_Person]] = {}
        self.lived_in: dict[int, list[_Building]] = {}
        for c in street.communities.values():
            buildings = [street.buildings[b] for a in c.areas for b in street.areas[a].buildings]
            self.lived_in[c.id] = [b for b in buildings if b.households]
            self.subjects[c.id] = [
                p for b in buildings for h in b.households for p in street.people.get(h, ()) if p.vulnerable > 0
            ]
        for c in sorted(street.communities.values(), key=lambda c: c.id):
            self._low_spots(c)

    def _low_spots(self, c: _Community) -> None:
        """Where water gathers after rain: two or three places per community, more by the river."""
        areas = [self.s.areas[a] for a in c.areas]
        for _ in range(3 if c.kind == "riverside" else 2):
            area = self.rng.choice(areas)
            lon, lat = self._ground(area)
            c.low_spots.append((area.id, lon, lat))

    def _ground(self, area: _Area) -> tuple[float, float]:
        """A point of the area not inside a building (the ground between them)."""
        w, s, e, n = area.bbox
        dx, dy = (e - w) * 0.05, (n - s) * 0.05
        polys = self.footprints[area.id]
        lon = lat = 0.0
        for _ in range(12):
            lon, lat = self.rng.uniform(w + dx, e - dx), self.rng.uniform(s + dy, n - dy)
            pt = shapely.Point(lon, lat)
            if not any(p.contains(pt) for p in polys):
                break
        return round(lon, 6), round(lat, 6)

    def _inside(self, b: _Building) -> tuple[float, float]:
        """A point well inside a building's (convex, four-cornered) footprint."""
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = b.corners[:4]
        u, v = self.rng.uniform(0.15, 0.85), self.rng.uniform(0.15, 0.85)
        lon = (1 - u) * (1 - v) * x0 + u * (1 - v) * x1 + u * v * x2 + (1 - u) * v * x3
        lat = (1 - u) * (1 - v) * y0 + u * (1 - v) * y1 + u * v * y2 + (1 - u) * v * y3
        return round(lon, 6), round(lat, 6)

    # -- when and what --

    def days(self) -> list[date]:
        first = self.since.astimezone(self.tz).date()
        last = self.until.astimezone(self.tz).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def special_days(self, days: list[date]) -> dict[date, dict[str, float]]:
        """A few days that stand out: downpours of the plum rains, a typhoon, a cold wave."""
        out: dict[date, dict[str, float]] = {}
        plum = [d for d in days if (d.month == 6 and d.day >= 10) or (d.month == 7 and d.day <= 20)]
        for d in sorted(self.rng.sample(plum, min(3, len(plum)))):
            out[d] = {"waterlogging": 12.0, "building_danger": 2.0}
        typhoon = [d for d in days if d.month in (8, 9)]
        if typhoon:
            out[self.rng.choice(typhoon)] = {"waterlogging": 8.0, "falling_objects": 6.0, "damaged_facility": 1.5}
        cold = [d for d in days if d.month in (12, 1, 2)]
        if cold:
            out[self.rng.choice(cold)] = {"gas": 2.5, "needs_help": 2.5, "electrical": 2.0}
        return out

    def draw(self) -> list[_Spec]:
        days = self.days()
        special = self.special_days(days)
        comms = sorted(self.s.communities.values(), key=lambda c: c.id)
        share = {c.id: c.residents * COMMUNITY_RATE.get(c.kind, 1.0) for c in comms}
        total_share = sum(share.values()) or 1.0
        total_weight = sum(k.weight for k in KINDS.values())
        wanted = max(MIN_REPORTS, REPORTS_PER_MONTH * self.scale * len(days) / 30.44)
        # Expected reports per (day, community, category) before normalising to ``wanted``.
        plan: list[tuple[date, _Community, dict[str, float]]] = []
        for d in days:
            weekend = d.weekday() >= 5
            for c in comms:
                weights = {
                    code: share[c.id]
                    / total_share
                    * k.weight
                    / total_weight
                    * k.months.get(d.month, 1.0)
                    * k.communities.get(c.kind, 1.0)
                    * special.get(d, {}).get(code, 1.0)
                    * (0.8 if weekend else 1.0)
                    for code, k in KINDS.items()
                }
                plan.append((d, c, weights))
        norm = wanted / sum(sum(w.values()) for _, _, w in plan)
        specs: list[_Spec] = []
        for d, c, weights in plan:
            n = _poisson(self.rng, sum(weights.values()) * norm)
            for _ in range(n):
                spec = self.one(d, c, _pick(self.rng, weights), storm=d in special)
                if spec is not None:
                    specs.append(spec)
        specs = [s for s in specs if self.since <= s.at <= self.until]
        self.at_a_gate(specs)
        specs += self.duplicates(specs)
        specs.sort(key=lambda s: (s.at, s.unit_id))
        position = {id(s): i for i, s in enumerate(specs)}
        for s in specs:
            if s.original is not None:
                s.duplicate_of = position[id(s.original)]
        return specs

    def at_a_gate(self, specs: list[_Spec]) -> None:
        """One recent report at a compound gate of a community without staff accounts, so that
        the demo has a report nobody is routed to (it waits for the street to assign it)."""
        unstaffed = {c.id for c in self.s.communities.values() if c.staff is None}
        recent = [s for s in specs if s.community_id in unstaffed and s.at > self.until - timedelta(days=30)]
        if not recent or any(s.level == Level.compound.value for s in recent):
            return
        fits = [s for s in recent if s.channel != INTERNAL and s.household_id is None and s.category != "needs_help"]
        if not fits:
            return
        spec = max(fits, key=lambda s: s.at)
        anchor = self.anchor_building(spec) if spec.unit_id == 0 else self.s.buildings.get(spec.unit_id)
        compound = anchor.compound_id if anchor else self.s.communities[spec.community_id].compounds[0]
        name, path, _ = self.s.compounds[compound]
        spec.unit_id, spec.path, spec.level, spec.place_source = compound, path, Level.compound.value, "unit"
        spec.lon = spec.lat = spec.area_id = None
        spec.address = f"{name}大门口"
        if anchor is not None:
            spec.description = self.describe(spec, anchor, None)

    def duplicates(self, specs: list[_Spec]) -> list[_Spec]:
        """Someone else reports the same problem at the same place a little later."""
        out = []
        for spec in specs:
            k = KINDS[spec.category]
            if spec.channel == INTERNAL or spec.level == Level.compound.value or spec.household_id is not None:
                continue
            if self.rng.random() < k.duplicate:
                dup = self.repeat(spec)
                if dup is not None:
                    out.append(dup)
        if len(out) < 3:  # the demo shows merging even when small
            recent = [
                s
                for s in specs
                if s.channel != INTERNAL
                and s.household_id is None
                and s.level == Level.building.value
                and s.at > self.until - timedelta(days=20)
            ]
            for s in recent[::-4]:
                if len(out) >= 3:
                    break
                dup = self.repeat(s)
                if dup is not None:
                    out.append(dup)
        return out

    def repeat(self, spec: _Spec) -> _Spec | None:
        at = spec.at + timedelta(minutes=self.rng.uniform(10, 240))
        if at > self.until - timedelta(minutes=30):
            return None
        b = self.s.buildings.get(spec.unit_id) if spec.level == Level.building.value else None
        area = self.s.areas[spec.area_id] if spec.area_id else None
        channel = self.rng.choice((APP, APP, PHONE, OPEN311))
        dup = _Spec(at, spec.category, channel, spec.community_id, severity=spec.severity)
        dup.original = spec
        dup.unit_id, dup.path, dup.level, dup.area_id = spec.unit_id, spec.path, spec.level, spec.area_id
        dup.place_source = spec.place_source
        if spec.lon is not None and spec.lat is not None:
            dup.lon = round(spec.lon + self.rng.uniform(-0.00008, 0.00008), 6)
            dup.lat = round(spec.lat + self.rng.uniform(-0.00006, 0.00006), 6)
        dup.address = spec.address
        anchor = b or (self.s.buildings[self.rng.choice(area.buildings)] if area and area.buildings else None)
        if anchor is None:
            return None
        self.reporter(dup, anchor, None)
        if dup.reporter is None and dup.reporter_name is None and dup.resident_id is None:
            return None
        dup.description = self.describe(dup, anchor, None)
        return dup

    def one(self, d: date, c: _Community, category: str, storm: bool) -> _Spec | None:
        k = KINDS[category]
        weekend = d.weekday() >= 5
        channels = dict(k.channels)
        if weekend:
            channels[PATROL] = channels.get(PATROL, 0) * 0.3
            channels[PHONE] = channels.get(PHONE, 0) * 0.6
        if category not in texts.SENSOR_TEXTS:
            channels.pop(INTERNAL, None)
        if storm and category == "waterlogging":
            channels[INTERNAL] = channels.get(INTERNAL, 0) * 3
        channel = _pick(self.rng, channels)
        hours = HOURS[channel] if category != "gas" else tuple(max(1.0, h) for h in HOURS[channel])
        hour = self.rng.choices(range(24), weights=hours)[0]
        local = datetime(d.year, d.month, d.day, hour, self.rng.randrange(60), self.rng.randrange(60), tzinfo=self.tz)
        spec = _Spec(local.astimezone(UTC), category, channel, c.id, severity=self.severities.get(category, "normal"))
        subject = self.place(spec, c, k)
        if subject is False:
            return None
        b = self.s.buildings.get(spec.unit_id) if spec.level in (Level.building.value, "household") else None
        anchor = b or self.anchor_building(spec)
        if anchor is None:
            return None
        self.reporter(spec, anchor, subject if isinstance(subject, _Person) else None)
        if (
            channel in (APP, PHONE, OPEN311)
            and spec.reporter is None
            and spec.reporter_name is None
            and spec.resident_id is None
        ):
            return None
        spec.description = self.describe(spec, anchor, subject if isinstance(subject, _Person) else None)
        if channel in (PATROL, PHONE) and self.rng.random() < 0.12:  # staff grade what they record
            i = SEVERITIES.index(spec.severity)
            spec.severity = SEVERITIES[max(0, min(3, i + (1 if self.rng.random() < 0.65 else -1)))]
        if channel == INTERNAL and category == "gas":
            spec.severity = "urgent"
        return spec

    def anchor_building(self, spec: _Spec) -> _Building | None:
        """The building a report off the buildings refers to: the nearest one, or one of its compound."""
        if spec.area_id is not None and self.s.areas[spec.area_id].buildings:
            here = [self.s.buildings[b] for b in self.s.areas[spec.area_id].buildings]
            if spec.lon is None or spec.lat is None:
                return self.rng.choice(here)
            lon, lat = spec.lon, spec.lat

            def distance(b: _Building) -> float:
                x = sum(p[0] for p in b.corners) / len(b.corners) - lon
                y = sum(p[1] for p in b.corners) / len(b.corners) - lat
                return x * x + y * y

            return min(here, key=distance)
        areas = [a for a in self.s.communities[spec.community_id].areas if self.s.areas[a].buildings]
        compound_areas = [a for a in areas if self.s.areas[a].compound_id == spec.unit_id] or areas
        if not compound_areas:
            return None
        return self.s.buildings[self.rng.choice(self.s.areas[self.rng.choice(compound_areas)].buildings)]

    def place(self, spec: _Spec, c: _Community, k: Kind) -> _Person | bool | None:
        """Fill in the place; returns the person concerned for a call for help, False if none."""
        rng = self.rng
        if spec.category == "needs_help":
            subjects = self.subjects[c.id]
            if not subjects:
                return False
            person = rng.choices(subjects, weights=[p.vulnerable for p in subjects])[0]
            self.at_household(spec, person.household_id)
            return person
        if spec.channel in (PHONE, OPEN311, PATROL) and spec.category in AT_THE_GATE and rng.random() < 0.04:
            compound = rng.choice(c.compounds)
            name, path, _ = self.s.compounds[compound]
            spec.unit_id, spec.path, spec.level, spec.place_source = compound, path, Level.compound.value, "unit"
            spec.address = f"{name}大门口"
            return None
        if spec.category == "waterlogging" and c.low_spots and (spec.channel == INTERNAL or rng.random() < 0.6):
            area_id, lon, lat = rng.choice(c.low_spots)
            spec.lon = round(lon + rng.uniform(-0.00012, 0.00012), 6)
            spec.lat = round(lat + rng.uniform(-0.0001, 0.0001), 6)
            spec.area_id = area_id
            spec.place_source = "point"
            return None
        areas = [self.s.areas[a] for a in c.areas if self.s.areas[a].buildings]
        if spec.channel != INTERNAL and rng.random() < k.outdoor:
            area = rng.choices(areas, weights=[len(a.buildings) for a in areas])[0]
            spec.lon, spec.lat = self._ground(area)
            spec.area_id, spec.place_source = area.id, "point"
            return None
        buildings = self.lived_in[c.id]
        if not buildings:
            return False
        b = rng.choices(buildings, weights=[len(x.households) * x.prone for x in buildings])[0]
        if spec.channel != PATROL and rng.random() < k.household:
            self.at_household(spec, rng.choice(b.households))
            return None
        spec.lon, spec.lat = self._inside(b)
        spec.unit_id, spec.area_id, spec.place_source = b.id, b.area_id, "point"
        return None

    def at_household(self, spec: _Spec, hh: int) -> None:
        b_id, _unit, _room, address, path = self.s.households[hh]
        spec.household_id, spec.unit_id, spec.path = hh, b_id, path
        spec.level, spec.place_source, spec.address = "household", "household", address
        spec.area_id = self.s.buildings[b_id].area_id

    def reporter(self, spec: _Spec, b: _Building, subject: _Person | None) -> None:
        rng = self.rng
        area = self.s.areas[spec.area_id] if spec.area_id else self.s.areas[b.area_id]
        worker = area.worker
        c = self.s.communities[spec.community_id]
        if spec.channel == PATROL:
            spec.reporter = worker
            if worker is None:
                spec.channel = PHONE
            else:
                return
        if spec.channel == INTERNAL:
            source, _ = texts.SENSOR_TEXTS[spec.category]
            self.internal_seq += 1
            spec.reporter_name = source.format(n=self.internal_seq % 40 + 1)[:60]
            spec.external_ref = f"IOT-{self.internal_seq:05d}"
            return
        households = [spec.household_id] if spec.household_id is not None else b.households
        adults = [p for h in households for p in self.s.people.get(h, ()) if p.phone and 18 <= p.age <= 80] or [
            p for h in b.households for p in self.s.people.get(h, ()) if p.phone and p.age >= 18
        ]
        if subject is not None and spec.channel in (PHONE, INTERNAL):
            family = [p for p in self.s.people.get(subject.household_id, ()) if p.phone]
            adults = family or adults
        if not adults:
            return
        if spec.channel == APP:
            r1 = self.s.resident1
            if (
                r1 is not None
                and r1.household_id is not None
                and self.s.households[r1.household_id][0] == b.id
                and rng.random() < 0.4
            ):
                spec.reporter, spec.reporter_name = r1, r1.display_name
                if spec.household_id is not None:
                    self.at_household(spec, r1.household_id)
                return
            pool = [p for p in self.app_pool[b.id] if spec.household_id in (None, p.household_id)]
            person = rng.choice(pool) if pool and rng.random() < 0.5 else rng.choice(adults)
            if person not in self.app_pool[b.id]:
                self.app_pool[b.id].append(person)
            spec.resident_id, spec.reporter_name, spec.reporter_phone = person.id, person.name, person.phone
            if spec.household_id is not None:
                spec.household_id = person.household_id
                self.at_household(spec, person.household_id)
            spec.show_name = rng.random() < 0.2
            return
        person = rng.choice(adults)
        spec.reporter_name, spec.reporter_phone = person.name, person.phone
        if spec.channel == PHONE:
            spec.recorder = c.staff if c.staff is not None and rng.random() < 0.35 else worker or c.staff
            if spec.recorder is None:
                spec.channel = OPEN311
        if spec.channel == OPEN311:
            self.hotline_seq += 1
            local = spec.at.astimezone(self.tz)
            spec.external_ref = f"12345-{local:%Y%m%d}{self.hotline_seq:05d}"
            spec.attributes = {"source": texts.HOTLINE}

    def describe(self, spec: _Spec, b: _Building, subject: _Person | None) -> str:
        rng = self.rng
        month = spec.at.astimezone(self.tz).month
        ok = {
            "lift": b.lift,
            "walkup": not b.lift,
            "winter": month in (11, 12, 1, 2, 3),
            "summer": month in (6, 7, 8, 9),
        }
        if spec.channel == INTERNAL:
            template = texts.SENSOR_TEXTS[spec.category][1]
        else:
            options = []
            for t in texts.DESCRIPTIONS[spec.category]:
                cond, _, text = t.rpartition("|")
                if not cond or ok.get(cond, False):
                    options.append(text)
            if spec.unit_id != b.id and spec.household_id is None:
                # Out on the ground or at the gate: rather what one sees outdoors than in a stairwell.
                options = [t for t in options if "{u}" not in t and "{room}" not in t] or options
            template = rng.choice(options)
        floor = rng.randint(2, max(2, b.floors))
        unit_no, room = rng.randint(1, max(1, b.units)), f"{floor}{rng.randint(1, 2):02d}"
        if spec.household_id is not None:
            _, unit_no, room, _, _ = self.s.households[spec.household_id]
            floor = int(room[:-2] or 1) if room[:-2].isdigit() else floor
        others = [x for x in self.s.areas[b.area_id].buildings if x != b.id] or [b.id]
        who = age = ""
        if subject is not None:
            elder = subject.age >= 60
            who = subject.name[:1] + (
                ("奶奶" if subject.gender == "F" else "大爷")
                if elder
                else ("阿姨" if subject.gender == "F" else "师傅")
            )
            age = str(subject.age)
        return template.format(
            b=b.name if rng.random() < 0.6 else b.short,
            b2=self.s.buildings[rng.choice(others)].short,
            u=unit_no,
            room=room,
            floor=floor,
            who=who,
            age=age,
            n=self.internal_seq % 40 + 1,
        )


# ---- living the reports through --------------------------------------------------------


@dataclass
class _Event:
    at: datetime
    actor_user_id: int | None
    actor_label: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None = None
    lon: float | None = None
    lat: float | None = None
    escalation_level: int | None = None
    data: dict[str, Any] | None = None


@dataclass
class _Message:
    at: datetime
    users: frozenset[int]
    followers: bool  # and the report's followers at that moment
    title: str
    topic: str
    skip: int | None  # the actor, who is not told of their own step


@dataclass
class _Fate:
    reject: bool = False
    transfer: str | None = None  # user | org
    unsolved: int = 0  # rounds the reporter says "not solved"
    respond: bool = True  # the reporter (or staff, by phone) answers after resolution
    freeze: str | None = None  # nobody acts any more once the report is in this state


@dataclass
class _Context:
    street: _Street
    until: datetime
    tz: ZoneInfo
    transitions: dict[tuple[str, str], tuple[str, frozenset]]
    minutes: dict[str, Minutes]
    category_names: dict[str, str]
    ladders: dict[int, list[Rung]]
    household_rungs: dict[int, Rung]
    speed: dict[int, float]
    seed: int


class _Life:
    """One report from intake to where it stands at ``until``, by the rules of the closed loop."""

    def __init__(self, ctx: _Context, idx: int, spec: _Spec, fate: _Fate):
        self.ctx, self.idx, self.spec, self.fate = ctx, idx, spec, fate
        self.rng = _local_rng(ctx.seed, "life", idx)
        self.m = ctx.minutes.get(spec.severity, Minutes(120, 1440, 4320))
        rungs = list(ctx.ladders.get(spec.unit_id, []))
        if spec.household_id is not None and spec.household_id in ctx.household_rungs:
            rungs.append(ctx.household_rungs[spec.household_id])
        self.ladder = sorted(rungs, key=lambda r: r.level)
        self.events: list[_Event] = []
        self.messages: list[_Message] = []
        self.followers: dict[int, tuple[datetime, str]] = {}
        self.state = State.submitted.value
        self.handler_id: int | None = None
        self.handler_label: str | None = None
        self.handler_kind: str | None = None
        self.level = 0
        self.escalated_to_id: int | None = None
        self.escalated_to_label: str | None = None
        self.escalated_at: datetime | None = None
        self.due_accept, self.due_on_site, self.due_resolve = deadlines.due_times(spec.at, self.m)
        self.next_due: datetime | None = None
        self.assigned_at = self.accepted_at = self.on_site_at = self.resolved_at = self.closed_at = None
        self.updated_at = spec.at
        self.close_reason: str | None = None
        self.resolution_note: str | None = None
        self.reject_reason: str | None = None
        self.merged_into: int | None = None
        self.reopen_count = 0
        self.feedback: tuple[bool | None, int | None, str | None, datetime | None] = (None, None, None, None)
        self.done = False
        self._allowed: tuple[str, str] | None = None  # (action, to state) checked by _ready

    # -- helpers --

    def _lognorm(self, median: float, sigma: float) -> float:
        return max(0.5, median * math.exp(self.rng.gauss(0, sigma)))

    def _daytime(self, t: datetime, chance: float = 1.0, exempt: tuple[str, ...] = ("urgent", "high")) -> datetime:
        """People act by day: a step that falls in the night waits for the morning, unless the
        report's severity is ``exempt`` (grid workers answer urgent and high ones at any hour)."""
        if self.spec.severity in exempt or (exempt and self.spec.category == "gas"):
            return t
        local = t.astimezone(self.ctx.tz)
        if (local.hour >= 21 or local.hour < 7) and self.rng.random() < chance:
            day = local.date() if local.hour < 7 else local.date() + timedelta(days=1)
            morning = datetime(day.year, day.month, day.day, 7, 30, tzinfo=self.ctx.tz)
            return (morning + timedelta(minutes=self.rng.uniform(0, 100))).astimezone(UTC)
        return t

    def _speed(self, actor: Principal) -> float:
        return self.ctx.speed.get(actor.user_id or 0, 1.0)

    def state_at(self, t: datetime) -> str:
        """The state at ``t`` (merged-in notes, appended later and out of order, change nothing)."""
        state = State.submitted.value
        for e in self.events:
            if e.action == Action.merged_in.value:
                continue
            if e.at > t:
                break
            if e.to_state:
                state = e.to_state
        return state

    def _staff(self) -> Principal:
        """Who acts for the community on this report: its staff, else the street's administrator."""
        c = self.ctx.street.communities[self.spec.community_id]
        staff = c.staff or self.ctx.street.street_admin
        assert staff is not None
        return staff

    def _handler(self) -> Principal:
        p = self.ctx.street.principals.get(self.handler_id or -1)
        return p if p is not None else self._staff()

    def _kinds(self, actor: Principal) -> frozenset:
        return actor_kinds(
            user_id=actor.user_id,
            role=actor.role,
            is_system=actor.is_system,
            in_scope=actor.covers_path(self.spec.path) and not actor.is_global,
            reporter_user_id=self.spec.reporter.user_id if self.spec.reporter else None,
            handler_ids=(self.handler_id, self.escalated_to_id),
        )

    def _tell(
        self,
        at: datetime,
        actor: Principal,
        title: str,
        topic: str,
        *,
        followers: bool = True,
        handlers: bool = True,
        extra: tuple[int | None, ...] = (),
    ) -> None:
        users = {u for u in extra if u is not None}
        if handlers:
            users |= {u for u in (self.handler_id, self.escalated_to_id) if u is not None}
        name = self.ctx.category_names.get(self.spec.category, self.spec.category)
        self.messages.append(
            _Message(at, frozenset(users), followers, f"{title}：{name} #{_ref(self.idx)}", topic, actor.user_id)
        )

    def _sweeps(self, before: datetime) -> None:
        """What the sweep (every minute) did before ``before``: escalations and the auto-close."""
        until = self.ctx.until
        while self.next_due is not None and self.next_due <= until and State(self.state) not in TERMINAL_STATES:
            tick = min(self.next_due + timedelta(seconds=self.rng.randint(1, 59)), until)
            if tick >= before:
                return
            if self.state == State.resolved.value:
                self._auto_close(tick)
                return
            rung = deadlines.next_rung(self.ladder, self.level)
            if rung is None:
                self.next_due = None
                return
            reason = {State.accepted.value: N_("超时未到场"), State.on_site.value: N_("超时未办结")}
            self._climb(tick, rung, f"{rung.label}（{bilingual(reason.get(self.state, N_('超时未受理')))}）")
            n = 1
            if rung.user_id is not None:
                self.messages.append(
                    _Message(
                        tick,
                        frozenset({rung.user_id}),
                        False,
                        bilingual("{n} 件事件超时，升级至您督办", n=n),
                        "report.escalate",
                        None,
                    )
                )
            if self.handler_id is not None:
                self.messages.append(
                    _Message(
                        tick,
                        frozenset({self.handler_id}),
                        False,
                        bilingual("您有 {n} 件事件超时，已升级督办", n=n),
                        "report.overdue",
                        None,
                    )
                )
            self.next_due = deadlines.grace_after_escalation(State(self.state), tick, self.m)

    def _climb(self, at: datetime, rung: Rung, note: str) -> None:
        self.level = rung.level
        self.escalated_to_id, self.escalated_to_label, self.escalated_at = rung.user_id, rung.label, at
        self.updated_at = at
        self.events.append(
            _Event(at, None, "系统", Action.escalate.value, self.state, self.state, note, escalation_level=rung.level)
        )

    def _auto_close(self, at: datetime) -> None:
        self.events.append(
            _Event(
                at,
                None,
                "系统",
                Action.auto_close.value,
                State.resolved.value,
                State.closed.value,
                bilingual("办结后7天未评价，自动关闭"),
            )
        )
        self.state, self.closed_at, self.close_reason, self.next_due = State.closed.value, at, "no_feedback", None
        self.updated_at = at
        self.messages.append(
            _Message(
                at,
                frozenset(),
                True,
                bilingual("事件已自动关闭 #{report_id}", report_id=_ref(self.idx)),
                "report.auto_close",
                None,
            )
        )

    def _ready(self, t: datetime, actor: Principal, action: Action) -> bool:
        """Bring the report up to ``t``; False when nobody acts on it any more. Checks, before
        anything changes, that the transition table lets this actor take this action now."""
        if self.done or t > self.ctx.until or (self.fate.freeze is not None and self.state == self.fate.freeze):
            self.finish()
            return False
        self._sweeps(t)
        if State(self.state) in TERMINAL_STATES:
            self.finish()
            return False
        row = self.ctx.transitions.get((self.state, action.value))
        if row is None or not (self._kinds(actor) & row[1]):
            raise RuntimeError(f"demo history broke the rules: {actor.username} may not {action} in {self.state}")
        self._allowed = (action.value, row[0])
        return True

    def finish(self) -> None:
        if not self.done:
            self._sweeps(self.ctx.until + timedelta(seconds=1))
            self.done = True

    def _step(
        self,
        t: datetime,
        actor: Principal,
        action: Action,
        *,
        note: str | None = None,
        lon: float | None = None,
        lat: float | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Take the transition :meth:`_ready` allowed, as :func:`renxing.events.transitions.apply_step` does."""
        assert self._allowed is not None and self._allowed[0] == action.value
        before, self.state = self.state, self._allowed[1]
        self._allowed = None
        self.updated_at = t
        self.next_due = deadlines.next_due(
            State(self.state),
            t,
            self.m,
            due_accept=self.due_accept,
            due_on_site=self.due_on_site,
            due_resolve=self.due_resolve,
            resolved_at=self.resolved_at,
        )
        self.events.append(
            _Event(
                t,
                actor.user_id,
                lookups.actor_label(actor),
                action.value,
                before,
                self.state,
                note,
                lon,
                lat,
                data=data,
            )
        )

    # -- the steps --

    def submit(self) -> None:
        s, d = self.spec, self.spec.decision
        assert d is not None
        actor = s.reporter or s.recorder or SYSTEM
        # The first two steps are the ones intake writes: filed through the channel, then routed.
        self.events.extend(_Event(**step) for step in intake_steps(s.at, actor, Channel(s.channel), s.reporter_name, d))
        self.state = routed_state(d).value
        self.handler_id, self.handler_label, self.handler_kind = d.user_id, d.label, d.kind
        self.assigned_at = s.at if self.state == State.assigned.value else None
        self.next_due = deadlines.next_due(
            State(self.state),
            s.at,
            self.m,
            due_accept=self.due_accept,
            due_on_site=self.due_on_site,
            due_resolve=self.due_resolve,
        )
        if s.reporter is not None:
            self.followers[s.reporter.user_id] = (s.at, "reporter")  # type: ignore[index]
        if d.user_id is not None:
            name = self.ctx.category_names.get(s.category, s.category)
            self.messages.append(
                _Message(
                    s.at,
                    frozenset({d.user_id}),
                    False,
                    bilingual("新事件待受理：{name} #{ref}", name=name, ref=_ref(self.idx)),
                    "report.assign",
                    None,
                )
            )

    def assign(self, t: datetime, actor: Principal, to: Principal) -> bool:
        if not self._ready(t, actor, Action.assign):
            return False
        self.handler_id, self.handler_label, self.handler_kind = to.user_id, lookups.actor_label(to), "user"
        self.assigned_at = t
        self._step(t, actor, Action.assign, data={"to": self.handler_label})
        self._tell(t, actor, bilingual("新事件待受理"), "report.assign", followers=False)
        return True

    def transfer(self, t: datetime, actor: Principal, reason: str, to: Principal | None, org: str | None) -> bool:
        if not self._ready(t, actor, Action.transfer):
            return False
        previous = self.handler_id
        if to is not None:
            self.handler_id, self.handler_label, self.handler_kind = to.user_id, lookups.actor_label(to), "user"
        else:
            self.handler_id, self.handler_label, self.handler_kind = None, org, "partner"
        self.assigned_at = t
        self._step(t, actor, Action.transfer, note=reason, data={"to": self.handler_label, "from_user_id": previous})
        self._tell(t, actor, bilingual("事件转办给您"), "report.transfer", followers=False)
        self._tell(t, actor, bilingual("事件已转办"), "report.transfer", handlers=False, extra=(previous,))
        return True

    def accept(self, t: datetime, actor: Principal, note: str | None = None) -> bool:
        if not self._ready(t, actor, Action.accept):
            return False
        self.accepted_at = t
        if self.handler_id is None and actor.user_id is not None:
            self.handler_id, self.handler_label = actor.user_id, lookups.actor_label(actor)
        self._step(t, actor, Action.accept, note=note)
        self._tell(t, actor, bilingual("事件已受理"), "report.accept", handlers=False)
        return True

    def check_in(self, t: datetime, actor: Principal) -> bool:
        if not self._ready(t, actor, Action.check_in):
            return False
        s = self.spec
        base_lon = s.lon if s.lon is not None else self._unit_point()[0]
        base_lat = s.lat if s.lat is not None else self._unit_point()[1]
        lon = round(base_lon + self.rng.uniform(-0.00012, 0.00012), 6)
        lat = round(base_lat + self.rng.uniform(-0.0001, 0.0001), 6)
        distance = round(haversine_m(lon, lat, s.lon, s.lat), 1) if s.lon is not None and s.lat is not None else None
        self.on_site_at = t
        note = self.rng.choice(texts.CHECK_IN_NOTES) if self.rng.random() < 0.5 else None
        self._step(t, actor, Action.check_in, note=note, lon=lon, lat=lat, data={"distance_m": distance})
        self._tell(t, actor, bilingual("处置人员已到场"), "report.check_in", handlers=False)
        return True

    def _unit_point(self) -> tuple[float, float]:
        b = self.ctx.street.buildings.get(self.spec.unit_id)
        if b is not None:
            xs, ys = zip(*b.corners, strict=True)
            return sum(xs) / len(xs), sum(ys) / len(ys)
        area = next(iter(self.ctx.street.areas.values()))
        w, s, e, n = area.bbox
        return (w + e) / 2, (s + n) / 2

    def resolve(self, t: datetime, actor: Principal, note: str) -> bool:
        if not self._ready(t, actor, Action.resolve):
            return False
        self.resolved_at, self.resolution_note = t, note
        self._step(t, actor, Action.resolve, note=note)
        self._tell(t, actor, bilingual("事件已办结，请评价"), "report.resolve", handlers=False)
        return True

    def close(self, t: datetime, actor: Principal, note: str) -> bool:
        if not self._ready(t, actor, Action.close):
            return False
        self.closed_at, self.close_reason = t, "staff"
        self._step(t, actor, Action.close, note=note)
        self._tell(t, actor, bilingual("事件已关闭"), "report.close")
        return True

    def reject(self, t: datetime, actor: Principal, reason: str) -> bool:
        if not self._ready(t, actor, Action.reject):
            return False
        self.reject_reason, self.closed_at = reason, t
        self._step(t, actor, Action.reject, note=reason)
        self._tell(t, actor, bilingual("事件被退回"), "report.reject", handlers=False)
        return True

    def give_feedback(
        self, t: datetime, actor: Principal, solved: bool, rating: int | None, comment: str | None
    ) -> bool:
        if not self._ready(t, actor, Action.feedback if solved else Action.reopen):
            return False
        if not self._may_give_feedback(actor):
            raise RuntimeError(f"demo history broke the rules: {actor.username} may not rate report {self.idx}")
        self.feedback = (solved, rating, comment, t)
        data = {"solved": solved, "rating": rating}
        if solved:
            self.closed_at, self.close_reason = t, "feedback"
            self._step(t, actor, Action.feedback, note=comment, data=data)
            stars = f"，{rating}星" if rating else ""
            self._tell(t, actor, bilingual("居民评价：已解决{stars}", stars=stars), "report.feedback", followers=False)
            return True
        # Not solved: reopened with a new round of deadlines, and one rung up the ladder.
        self.reopen_count += 1
        self.closed_at = self.close_reason = None
        self.due_accept, self.due_on_site, self.due_resolve = deadlines.due_times(t, self.m)
        self._step(t, actor, Action.reopen, note=comment or bilingual("居民反馈未解决"))
        self._tell(t, actor, bilingual("事件被重新打开"), "report.reopen", followers=False)
        rung = deadlines.next_rung(self.ladder, self.level)
        if rung is not None:
            self._climb(t, rung, f"{rung.label}（{bilingual(N_('居民反馈未解决'))}）")
            self._tell(t, SYSTEM, bilingual("事件升级督办"), "report.escalate", followers=False)
        return True

    def merge_into(self, t: datetime, actor: Principal, target: "_Life") -> bool:
        if not self._ready(t, actor, Action.merge):
            return False
        self.merged_into, self.closed_at = target.idx, t
        self._step(t, actor, Action.merge, data={"into": _ref(target.idx)})
        for uid in self.followers:
            target.followers.setdefault(uid, (t, "merged"))
        target.events.append(
            _Event(
                t,
                actor.user_id,
                lookups.actor_label(actor),
                Action.merged_in.value,
                target.state_at(t),
                target.state_at(t),
                bilingual("#{ref} 并入", ref=_ref(self.idx)),
                data={"from": _ref(self.idx)},
            )
        )
        target.updated_at = max(target.updated_at, t)
        self._tell(
            t,
            actor,
            bilingual("您的上报与 #{ref} 合并处理", ref=_ref(target.idx)),
            "report.merge",
            handlers=False,
        )
        target._tell(t, actor, bilingual("重复事件 #{ref} 已并入", ref=_ref(self.idx)), "report.merge", followers=False)
        return True

    # -- the story --

    def play(self, lives: list["_Life"]) -> None:
        s, m = self.spec, self.m
        self.submit()
        if s.duplicate_of is not None:
            target = lives[s.duplicate_of]
            actor = self._handler()
            t = self._daytime(s.at + timedelta(minutes=self._lognorm(0.15 * m.accept, 0.7)), 0.6)
            mergeable = {st.value for st in OPEN_STATES} | {State.resolved.value}
            if t <= self.ctx.until and target.state_at(t) in mergeable:
                self.merge_into(t, actor, target)
            else:
                self.reject(t, actor, texts.DUPLICATE_DONE.format(target=_ref(target.idx)))
            self.finish()
            return
        if self.state == State.submitted.value:
            staff = self._staff()
            area = self._nearest_area()
            t = self._daytime(s.at + timedelta(minutes=self._lognorm(40, 0.8)))
            if area is None or area.worker is None or not self.assign(t, staff, area.worker):
                self.finish()
                return
        wait = self.assigned_at or s.at
        if self.fate.reject:
            t = self._daytime(wait + timedelta(minutes=self._lognorm(0.3 * m.accept, 0.8)), 0.6)
            self.reject(t, self._handler(), self.rng.choice(texts.REJECT_REASONS))
            self.finish()
            return
        if self.fate.transfer:
            t = self._daytime(wait + timedelta(minutes=self._lognorm(0.3 * m.accept, 0.8)), 0.6)
            if not self._transfer(t):
                return
            wait = t
        for round_ in range(self.fate.unsolved + 1):
            actor = self._handler()
            t = wait + timedelta(minutes=self._accept_minutes(actor))
            note = None
            if self.handler_id is None and self.handler_label:
                note = texts.ACCEPT_FOR_ORG.format(org=self.handler_label)
            if not self.accept(self._daytime(t, 0.35), actor, note):
                return
            actor = self._handler()
            t = self._on_site_time(self.accepted_at, actor)  # type: ignore[arg-type]
            if not self.check_in(t, actor):
                return
            t = self._resolve_time(t, actor)
            fix = self.rng.choice(texts.FIXES[s.category])
            if self.fate.transfer == "org":
                fix = f"{texts.ORGS[s.category]}已处理：{fix}"
            if not self.resolve(t, actor, fix):
                return
            if round_ < self.fate.unsolved:
                t, who = self._feedback_time(t)
                if who is None:
                    break
                rating = self.rng.choices((1, 2, 3, None), weights=(40, 35, 12, 13))[0]
                comment = self.rng.choice(texts.BAD_COMMENTS) if self.rng.random() < 0.8 else None
                if not self.give_feedback(t, who, False, rating, self._phone_note(who, comment)):
                    return
                wait = t
                continue
            if not self.fate.respond:
                break
            if s.channel in (PATROL, INTERNAL):
                t = self._daytime(t + timedelta(minutes=self._lognorm(16 * 60, 0.8)), exempt=())
                self.close(t, self._staff(), self.rng.choice(texts.CLOSE_NOTES))
            else:
                t, who = self._feedback_time(t)
                if who is None:
                    break
                rating = self.rng.choices((5, 4, 3, 2, None), weights=(60, 27, 7, 2, 4))[0]
                comment = None
                if self.rng.random() < 0.45:
                    comment = self.rng.choice(texts.GOOD_COMMENTS if (rating or 5) >= 4 else texts.FAIR_COMMENTS)
                self.give_feedback(t, who, True, rating, self._phone_note(who, comment))
        self.finish()

    def _phone_note(self, who: Principal, comment: str | None) -> str | None:
        if who.role is Role.resident or comment is None:
            return comment
        return texts.PHONE_FEEDBACK + comment

    def _nearest_area(self) -> _Area | None:
        s = self.spec
        if s.area_id is not None:
            return self.ctx.street.areas[s.area_id]
        areas = [a for a in self.ctx.street.areas.values() if s.path.startswith(a.path) or a.path.startswith(s.path)]
        return min(areas, key=lambda a: a.id) if areas else None

    def _transfer(self, t: datetime) -> bool:
        s = self.spec
        actor = self._handler()
        if self.fate.transfer == "org":
            org = texts.ORGS[s.category]
            reason = self.rng.choice(texts.TRANSFER_TO_ORG).format(org=org)
            return self.transfer(t, actor, reason, None, org)
        c = self.ctx.street.communities[s.community_id]
        if c.staff is not None and c.staff.user_id != self.handler_id and self.rng.random() < 0.3:
            return self.transfer(t, actor, self.rng.choice(texts.TRANSFER_TO_COMMUNITY), c.staff, None)
        here = s.area_id
        others = [
            self.ctx.street.areas[a]
            for a in c.areas
            if a != here
            and self.ctx.street.areas[a].worker is not None
            and self.ctx.street.areas[a].worker.user_id != self.handler_id  # type: ignore[union-attr]
        ]
        if not others:
            org = texts.ORGS[s.category]
            self.fate = replace(self.fate, transfer="org")
            return self.transfer(t, actor, self.rng.choice(texts.TRANSFER_TO_ORG).format(org=org), None, org)
        to = self.rng.choice(others).worker
        assert to is not None
        reason = self.rng.choice(texts.TRANSFER_TO_USER).format(to=lookups.actor_label(to))
        return self.transfer(t, actor, reason, to, None)

    def _self_found(self, actor: Principal) -> bool:
        return (
            self.spec.channel == PATROL
            and self.spec.reporter is not None
            and self.spec.reporter.user_id == actor.user_id
        )

    def _accept_minutes(self, actor: Principal) -> float:
        if self._self_found(actor):
            return self.rng.uniform(1, 8)
        return self._lognorm(0.18 * self.m.accept * self._speed(actor), 0.85)

    def _on_site_time(self, accepted: datetime, actor: Principal) -> datetime:
        if self._self_found(actor):
            return accepted + timedelta(minutes=self.rng.uniform(0, 6))
        left = (self.due_on_site - accepted).total_seconds() / 60
        base = max(left, 0.5 * self.m.step("on_site"))
        return self._daytime(accepted + timedelta(minutes=self._lognorm(0.3 * base * self._speed(actor), 0.7)))

    def _resolve_time(self, on_site: datetime, actor: Principal) -> datetime:
        left = (self.due_resolve - on_site).total_seconds() / 60
        base = max(left, 0.5 * self.m.step("resolve"))
        share = KINDS[self.spec.category].resolve * self._speed(actor)
        minutes = min(self._lognorm(share * base, 0.7), 45 * 24 * 60)
        return self._daytime(on_site + timedelta(minutes=minutes), exempt=("urgent",))

    def _feedback_time(self, resolved: datetime) -> tuple[datetime, Principal | None]:
        """When the reporter answers, and who records it: the reporter on the app; for a caller,
        someone of the community who calls back and is not the one who handled it (None: nobody)."""
        s = self.spec
        if s.reporter is not None and s.reporter.role is Role.resident:
            return self._daytime(resolved + timedelta(minutes=self._lognorm(8 * 60, 1.3)), 0.9, ()), s.reporter
        at = self._daytime(resolved + timedelta(minutes=self._lognorm(20 * 60, 0.6)), exempt=())
        community = self.ctx.street.communities[s.community_id].staff
        for who in (community, self.ctx.street.street_admin, s.recorder):
            if who is not None and self._may_give_feedback(who):
                return at, who
        return at, None

    def _may_give_feedback(self, actor: Principal) -> bool:
        kinds = self._kinds(actor)
        reported = Report(reporter_user_id=self.spec.reporter.user_id if self.spec.reporter else None)
        return bool(kinds & parse_actors("reporter,staff")) and access.may_give_feedback(reported, kinds)


def _fate(rng: random.Random, spec: _Spec) -> _Fate:
    k = KINDS[spec.category]
    fate = _Fate()
    found_by_staff = spec.channel in (PATROL, INTERNAL)
    if not found_by_staff and rng.random() < k.reject * (1.5 if spec.channel == OPEN311 else 1.0):
        fate.reject = True
    elif rng.random() < k.transfer:
        fate.transfer = "org" if rng.random() < 0.45 else "user"
    if not found_by_staff and rng.random() < k.unsolved:
        fate.unsolved = 2 if rng.random() < 0.1 else 1
    respond = {APP: 0.78, PHONE: 0.88, OPEN311: 0.85, PATROL: 0.75, INTERNAL: 0.6}[spec.channel]
    fate.respond = rng.random() < respond
    return fate


# ---- the whole history ------------------------------------------------------------------


def _route(session: Session, specs: list[_Spec], street: _Street) -> None:
    """Place each report as the service would (its point-in-polygon index) and route it with
    the service's routing, once per distinct place and set of rules that may match."""
    index = placing.geo_index(session)
    rules = session.execute(
        select(RoutingRule.category_code, RoutingRule.level, RoutingRule.duty).where(RoutingRule.active.is_(True))
    ).all()
    rule_cats = {c for c, _, _ in rules}
    # Only a rule for households, or one naming the household's party member, tells two
    # households of a building apart; for other categories one answer serves the building.
    by_household = {
        code
        for code in KINDS
        if any(c in (None, code) and (lv == "household" or d == "party_member") for c, lv, d in rules)
    }
    cache: dict[tuple, routing.Decision] = {}
    for spec in specs:
        if spec.place_source == "point":
            hit = index.locate(spec.lon, spec.lat, nearest_m=placing.NEAREST_BUILDING_M)  # type: ignore[arg-type]
            if hit is None:
                raise RuntimeError(f"demo point outside the street: {spec.lon}, {spec.lat}")
            spec.unit_id, spec.path, spec.level, spec.place_source = hit.unit_id, hit.path, hit.level, hit.source
            b = street.buildings.get(hit.unit_id)
            if b is not None:
                spec.area_id = b.area_id
                spec.address = spec.address or (b.address if hit.source == "polygon" else f"{b.address}旁")
            else:
                spec.area_id = hit.unit_id if hit.level == Level.area.value else spec.area_id
                near = index.nearest_building(spec.lon, spec.lat, 1000.0)  # type: ignore[arg-type]
                if spec.address is None and near is not None and near[0].unit_id in street.buildings:
                    spec.address = f"{street.buildings[near[0].unit_id].address}附近"
        elif not spec.path:
            b = street.buildings[spec.unit_id]
            spec.path, spec.level = b.path, Level.building.value
        household = spec.household_id if spec.category in by_household else None
        key = (spec.category if spec.category in rule_cats else None, spec.level, spec.unit_id, household)
        place = routing.Place(spec.category, spec.level, spec.path, spec.unit_id, spec.household_id)
        if key not in cache:
            cache[key] = dispatching.route_place(session, place)
        spec.decision = cache[key]
        spec.explanation = spec.decision.explanation(place)


def _app_accounts(session: Session, specs: list[_Spec], street: _Street, password_hash: str) -> int:
    """Accounts for the residents who report on the app (in order of their first report)."""
    wanted: dict[int, _Spec] = {}
    for spec in specs:
        if spec.resident_id is not None and spec.resident_id not in wanted:
            wanted[spec.resident_id] = spec
    have = {p.resident_id: p for p in street.principals.values() if p.role is Role.resident and p.resident_id}
    new = [rid for rid in wanted if rid not in have]
    people = {p.id: p for ps in street.people.values() for p in ps}
    rows = [
        {
            "username": f"jm-{rid}",
            "password_hash": password_hash,
            "display_name": people[rid].name,
            "role": Role.resident.value,
            "resident_id": rid,
            "phone": people[rid].phone,
            "locale": "zh",
            "is_active": True,
        }
        for rid in new
    ]
    for rid, uid in zip(new, _insert(session, User, rows), strict=True):
        hh = people[rid].household_id
        have[rid] = Principal(
            user_id=uid,
            username=f"jm-{rid}",
            role=Role.resident,
            scope_paths=(street.households[hh][4],),
            household_id=hh,
            resident_id=rid,
            display_name=people[rid].name,
        )
        street.principals[uid] = have[rid]
        street.phones[uid] = people[rid].phone
    for spec in specs:
        if spec.resident_id is not None:
            spec.reporter = have[spec.resident_id]
            spec.reporter_name = spec.reporter.display_name
    return len(new)


def _context(session: Session, seed: int, street: _Street, until: datetime, tz: ZoneInfo) -> _Context:
    transitions = {
        (t.from_state, t.action): (t.to_state, parse_actors(t.actors))
        for t in session.scalars(select(ReportTransition))
    }
    minutes = {
        d.severity: Minutes(d.accept_minutes, d.on_site_minutes, d.resolve_minutes)
        for d in session.scalars(select(SeverityDeadline))
    }
    names = {c.code: c.name_zh for c in session.scalars(select(EventCategory))}
    on = until.date()
    unit_rungs = ladders.unit_ladders(session, list(street.buildings) + list(street.areas) + list(street.compounds), on)
    rungs = ladders.household_rungs(session, list(street.households), on)
    rng = _local_rng(seed, "speed")
    speed = {uid: math.exp(rng.gauss(0, 0.3)) for uid in sorted(street.principals)}
    return _Context(street, until, tz, transitions, minutes, names, unit_rungs, rungs, speed, seed)


def _involved(lives: list[_Life]) -> set[int]:
    out = set()
    for life in lives:
        if life.spec.duplicate_of is not None:
            out |= {life.idx, life.spec.duplicate_of}
    return out


def _forced(state: State, fate: _Fate) -> _Fate:
    if state is State.transferred:
        return _Fate(transfer="org", freeze=state.value)
    if state is State.rejected:
        return _Fate(reject=True)
    if state is State.reopened:
        return _Fate(unsolved=1, freeze=state.value)
    if state is State.closed:
        return _Fate()
    return replace(fate, reject=False, transfer=None, unsolved=0, freeze=state.value)


def _cover(session: Session, ctx: _Context, specs: list[_Spec], lives: list[_Life], fates: list[_Fate]) -> None:
    """Make sure every state shows at least once, by steering a few recent reports."""
    involved = _involved(lives)
    # Reports nobody is routed to are kept for the one state only they can show.
    spare = {i for i, s in _unrouted(list(enumerate(specs)))}
    for state in REQUIRED_STATES:
        counts = Counter(life.state for life in lives if life.idx not in spare)
        if counts[state.value] or state is State.merged:
            continue
        recent = [  # never the only report of another state
            (i, specs[i])
            for i in range(len(specs) - 1, -1, -1)
            if i not in involved
            and specs[i].at > ctx.until - timedelta(days=30)
            and (i in spare if state is State.submitted else i not in spare and counts[lives[i].state] > 1)
        ]
        for i, spec in recent[:400]:
            fate = _forced(state, fates[i])
            life = _Life(ctx, i, spec, fate)
            life.play(lives)
            if life.state == state.value:
                specs[i], lives[i], fates[i] = spec, life, fate
                involved.add(i)
                break


def _unrouted(recent: list[tuple[int, _Spec]]) -> list[tuple[int, _Spec]]:
    """Reports that nobody is routed to (see :meth:`_Drawer.at_a_gate`)."""
    return [(i, s) for i, s in recent if s.decision is not None and s.decision.user_id is None and not s.decision.label]


def history_window(until: datetime, tz: ZoneInfo) -> datetime:
    """The first moment of the history: the first day of the fifth month before ``until``'s."""
    local = until.astimezone(tz)
    month = local.month - HISTORY_MONTHS
    year = local.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=tz).astimezone(UTC)


def add_reports(
    session: Session,
    *,
    seed: int = 2023,
    scale: float = 1.0,
    until: datetime | None = None,
    password_hash: str,
) -> ReportsSummary:
    """Write some months of reports for the demo street in the caller's transaction."""
    started = time.perf_counter()
    tz = ZoneInfo(get_settings().timezone)
    until = (until or utcnow()).astimezone(UTC).replace(second=0, microsecond=0)
    since = history_window(until, tz)
    street = _load(session, until.date(), _local_rng(seed, "street"))
    accounts = _grid_worker_accounts(session, street, password_hash)
    _routing_rules(session, street)
    severities = {c.code: c.default_severity for c in session.scalars(select(EventCategory))}
    specs = _Drawer(street, seed, since, until, tz, scale, severities).draw()
    _ensure_resident1(specs, street)
    accounts += _app_accounts(session, specs, street, password_hash)
    _route(session, specs, street)
    token_rng = _local_rng(seed, "tokens")
    for spec in specs:
        spec.token = base64.urlsafe_b64encode(token_rng.randbytes(9)).decode()
    ctx = _context(session, seed, street, until, tz)
    fates = [_fate(_local_rng(seed, "fate", i), s) for i, s in enumerate(specs)]
    lives: list[_Life] = []
    for i, (spec, fate) in enumerate(zip(specs, fates, strict=True)):
        life = _Life(ctx, i, spec, fate)
        lives.append(life)
        life.play(lives)
    _cover(session, ctx, specs, lives, fates)
    events = _write(session, lives, until, street.phones)
    by_state: dict[str, int] = defaultdict(int)
    for life in lives:
        by_state[life.state] += 1
    summary = ReportsSummary(len(lives), dict(sorted(by_state.items())), events, accounts, since, until)
    audit.record(
        session,
        SYSTEM,
        "import",
        "report",
        None,
        summary=bilingual("演示事件", reports=summary.reports, events=events, since=since, until=until),
        after={
            "seed": seed,
            "scale": scale,
            "reports": summary.reports,
            "by_state": summary.by_state,
            "until": until.isoformat(),
            "accounts": accounts,
        },
    )
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _ensure_resident1(specs: list[_Spec], street: _Street) -> None:
    """resident1, the demo's resident account, has a few reports of their own to follow."""
    r1 = street.resident1
    if r1 is None or r1.household_id is None:
        return
    mine = [s for s in specs if s.reporter is not None and s.reporter.user_id == r1.user_id]
    if len(mine) >= 4:
        return
    b_id = street.households[r1.household_id][0]
    area_id = street.buildings[b_id].area_id
    for s in reversed(specs):
        if len(mine) >= 4:
            break
        if (
            s.channel == APP
            and s.area_id == area_id
            and s.household_id is None
            and s.duplicate_of is None
            and s.resident_id is not None
        ):
            s.reporter, s.reporter_name, s.reporter_phone, s.resident_id = r1, r1.display_name, None, None
            mine.append(s)


def _consents(s: _Spec) -> bool:
    """About four in ten residents on the app and hotline callers agree to publication (drawn
    from the token, so the random stream of the rest of the history is untouched)."""
    return s.channel in (APP, OPEN311) and zlib.crc32(s.token.encode()) % 10 < 4


_VULNERABLE = re.compile("轮椅|卧床|行动不便|残疾|独居|病|老人|孕|氧|透析|失智|聋|盲|拐杖")


def _publish(session: Session, lives: list[_Life], ids: list[int]) -> None:
    """Staff have published a text for most consented reports they have worked on: the first
    sentence of the description, scrubbed (public reads scrub it again)."""
    rows = []
    for life, rid in zip(lives, ids, strict=True):
        s = life.spec
        if not _consents(s) or s.category in PRIVATE_CATEGORIES or life.accepted_at is None:
            continue
        if zlib.crc32(s.token.encode()) % 10 == 0:
            continue  # one in four left to moderate
        first = re.split(r"[。！？!?\n]", s.description, maxsplit=1)[0].strip()
        if first and not _VULNERABLE.search(first):  # staff leave out who is ill or frail
            rows.append({"report_id": rid, "text": scrub(first), "moderated_at": life.accepted_at})
    if rows:
        session.execute(insert(ReportPublicText), rows)


def _write(session: Session, lives: list[_Life], until: datetime, phones: dict[int, str | None]) -> int:
    """Write the reports with their timelines and followers through intake's writer, then their
    public texts, merges and inbox messages; returns how many timeline steps were written."""
    batch = [
        ReportRows(
            _report_values(life, phones),
            [_step_row(e) for e in life.events],
            [
                {"user_id": uid, "reason": reason, "since": since}
                for uid, (since, reason) in sorted(life.followers.items())
            ],
        )
        for life in lives
    ]

    def name_reports(ids: list[int]) -> None:
        # Steps that name another report of the history (a merge) get its id now that it has one.
        for rows in batch:
            for step in rows.timeline:
                step["note"] = _real(step["note"], ids)
                if step["data"] and any(isinstance(v, str) and _REF.search(v) for v in step["data"].values()):
                    step["data"] = {
                        k: int(_real(v, ids)) if isinstance(v, str) and _REF.fullmatch(v) else v  # type: ignore[arg-type]
                        for k, v in step["data"].items()
                    }

    ids = write_reports(session, batch, also=name_reports)
    _publish(session, lives, ids)
    _link_merges(session, lives, ids)
    _inbox(session, lives, ids, until)
    return sum(len(rows.timeline) for rows in batch)


def _real(text: str | None, ids: list[int]) -> str | None:
    """``text`` with the reports of the history it names by index named by id."""
    return None if text is None else _REF.sub(lambda m: str(ids[int(m.group(1))]), text)


def _step_row(e: _Event) -> dict[str, Any]:
    return {
        "at": e.at,
        "actor_user_id": e.actor_user_id,
        "actor_label": e.actor_label[:80],
        "action": e.action,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "note": e.note,
        "lon": e.lon,
        "lat": e.lat,
        "escalation_level": e.escalation_level,
        "data": e.data,
    }


def _report_values(life: _Life, phones: dict[int, str | None]) -> dict[str, Any]:
    """The columns of one report of the history (``reports`` and its schedule) as it stands at the end."""
    s, d = life.spec, life.spec.decision
    assert d is not None
    fb = life.feedback
    return {
        "token": s.token,
        "category_code": s.category,
        "description": s.description,
        "channel": s.channel,
        "reporter_user_id": s.reporter.user_id if s.reporter is not None and s.channel in (APP, PATROL) else None,
        "reporter_name": s.reporter_name if s.reporter is None else s.reporter.display_name or s.reporter.username,
        "reporter_phone": s.reporter_phone if s.reporter is None else phones.get(s.reporter.user_id or 0),
        "reporter_email": None,
        "show_name_publicly": s.show_name,
        "public_consent": _consents(s),
        "recorded_by_user_id": s.recorder.user_id if s.recorder is not None and s.channel == PHONE else None,
        "lon": s.lon,
        "lat": s.lat,
        "unit_id": s.unit_id,
        "household_id": s.household_id,
        "path": s.path,
        "address": s.address,
        "place_source": s.place_source,
        "severity": s.severity,
        "state": life.state,
        "handler_user_id": life.handler_id,
        "handler_label": life.handler_label,
        "handler_kind": life.handler_kind,
        "routing_rule_id": d.rule_id,
        "routing": s.explanation,
        "escalation_level": life.level,
        "escalated_to_user_id": life.escalated_to_id,
        "escalated_to_label": life.escalated_to_label,
        "escalated_at": life.escalated_at,
        "due_accept": life.due_accept,
        "due_on_site": life.due_on_site,
        "due_resolve": life.due_resolve,
        "next_due_at": life.next_due if State(life.state) not in TERMINAL_STATES else None,
        "created_at": s.at,
        "assigned_at": life.assigned_at,
        "accepted_at": life.accepted_at,
        "on_site_at": life.on_site_at,
        "resolved_at": life.resolved_at,
        "closed_at": life.closed_at,
        "updated_at": life.updated_at,
        "close_reason": life.close_reason,
        "resolution_note": life.resolution_note,
        "reject_reason": life.reject_reason,
        "merged_into_id": None,
        "reopen_count": life.reopen_count,
        "feedback_solved": fb[0],
        "feedback_rating": fb[1],
        "feedback_comment": fb[2],
        "feedback_at": fb[3],
        "attributes": s.attributes,
        "external_ref": s.external_ref,
    }


def _link_merges(session: Session, lives: list[_Life], ids: list[int]) -> None:
    """Duplicates point at their originals, and a rejection naming the original names it by id."""
    merged = [
        {"b_id": ids[life.idx], "b_into": ids[life.merged_into]} for life in lives if life.merged_into is not None
    ]
    if merged:
        session.execute(
            update(reports).where(reports.c.id == bindparam("b_id")).values(merged_into_id=bindparam("b_into")),
            merged,
        )
    named = [
        {"b_id": ids[life.idx], "b_reason": _real(life.reject_reason, ids)}
        for life in lives
        if life.reject_reason and _REF.search(life.reject_reason)
    ]
    if named:
        session.execute(
            update(reports).where(reports.c.id == bindparam("b_id")).values(reject_reason=bindparam("b_reason")),
            named,
        )


def _inbox(session: Session, lives: list[_Life], ids: list[int], until: datetime) -> None:
    """The inbox messages the history sent, those older than two days mostly read."""
    read_rng = random.Random(len(lives))
    notes = []
    for life in lives:
        for msg in sorted(life.messages, key=lambda m: m.at):
            users = set(msg.users)
            if msg.followers:
                users |= {uid for uid, (since, _) in life.followers.items() if since <= msg.at}
            users.discard(msg.skip)  # type: ignore[arg-type]
            for uid in sorted(users):
                old = msg.at < until - timedelta(days=2)
                read = msg.at + timedelta(minutes=read_rng.uniform(5, 2 * 24 * 60)) if old else None
                notes.append(
                    (
                        (msg.at, life.idx),
                        {
                            "user_id": uid,
                            "title": _real(msg.title, ids)[:200],  # type: ignore[index]
                            "body": None,
                            "link": f"/reports/{ids[life.idx]}",
                            "topic": msg.topic,
                            "report_id": ids[life.idx],
                            "created_at": msg.at,
                            "read_at": min(read, until) if read else None,
                        },
                    )
                )
    notes.sort(key=lambda x: x[0])
    if notes:
        session.connection().execute(insert(Notification.__table__), [row for _, row in notes])
