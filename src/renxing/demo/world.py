"""The whole demo street in memory: grid tree, buildings, households, residents, the
responsibility chain and the demo accounts. Pure: nothing here touches the database.

Each community draws from a random generator of its own (seeded by the seed and its code),
so changing one community's plan leaves the people of the others as they were.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from renxing.auth.policy import Role
from renxing.demo import geo, names
from renxing.demo.plan import (
    COMMUNITIES,
    HOUSEHOLDS_PER_AREA,
    STREET_CODE,
    STREET_NAME,
    CommunityPlan,
    CompoundPlan,
)
from renxing.demo.population import REFERENCE_DATE, IdRegistry, residents_of
from renxing.grid.models import Duty, Level
from renxing.people.vulnerability import age_on

Row = dict[str, Any]


@dataclass
class DutySpec:
    duty: Duty
    person_name: str
    phone: str | None
    start: date
    resident: Row | None = None  # the resident row when the person lives here
    account: str | None = None  # the demo account that is this person


@dataclass
class HouseholdSpec:
    unit_no: int
    room: str
    address: str
    residents: list[Row]
    duties: list[DutySpec] = field(default_factory=list)


@dataclass
class Node:
    level: Level
    code: str
    name: str
    geometry: dict
    kind: str | None = None
    children: list["Node"] = field(default_factory=list)
    building: Row | None = None  # Building columns for a building node
    households: list[HouseholdSpec] = field(default_factory=list)
    duties: list[DutySpec] = field(default_factory=list)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def walk_households(self):
        for n in self.walk():
            yield from n.households

    def residents(self):
        for hh in self.walk_households():
            yield from hh.residents


@dataclass
class AccountSpec:
    username: str
    role: Role
    display_name: str
    scope: list[Node]
    resident: Row | None = None
    phone: str | None = None


@dataclass
class World:
    street: Node
    accounts: list[AccountSpec]


def _staff(rng: random.Random, registry: IdRegistry, born: tuple[int, int]) -> tuple[str, str]:
    year = rng.randint(*born)
    return names.full_name(rng, year, rng.choice("MF")), registry.phone(rng)


def _start(rng: random.Random) -> date:
    return date(2019, 1, 1) + timedelta(days=rng.randrange(6 * 365))


def _age(row: Row) -> int:
    return age_on(row["birth_date"], REFERENCE_DATE)


def _households_for(rng: random.Random, plan: CompoundPlan, target: int, registry: IdRegistry) -> list[list[Row]]:
    """Households, each a list of resident rows, until the compound houses ``target`` people."""
    kinds = list(plan.people.households)
    weights = [plan.people.households[k] for k in kinds]
    out: list[list[Row]] = []
    count = 0
    while count < target:
        rows = residents_of(rng, rng.choices(kinds, weights=weights)[0], plan.people, registry)
        out.append(rows)
        count += len(rows)
    return out


def _buildings(rng: random.Random, plan: CompoundPlan, rooms_needed: int) -> list[tuple[int, int, int, str]]:
    """(units, floors, year, structure) of buildings until they hold ``rooms_needed`` flats."""
    h = plan.housing
    out = []
    capacity = 0
    while capacity < rooms_needed:
        units = rng.randint(*h.units)
        floors = rng.randint(*h.floors)
        out.append((units, floors, rng.randint(*h.years), rng.choice(h.structures)))
        capacity += units * floors * h.per_floor
    return out


def _community(rng: random.Random, plan: CommunityPlan, scale: float, registry: IdRegistry) -> Node:
    community = Node(
        Level.community, f"{STREET_CODE}-{plan.code}", plan.name, geo.polygon(plan.block.corners()), kind=plan.kind
    )
    compound_rects = geo.split(plan.block.inset(14), [c.share for c in plan.compounds], 18)
    area_no = 0
    for ci, (cplan, crect) in enumerate(zip(plan.compounds, compound_rects, strict=True), start=1):
        compound = Node(
            Level.compound, f"{community.code}-{ci}", cplan.name, geo.polygon(crect.corners()), kind=cplan.housing.code
        )
        community.children.append(compound)
        target = max(1, round(plan.residents * cplan.share * scale))
        households = _households_for(rng, cplan, target, registry)
        n_areas = max(1, round(len(households) / HOUSEHOLDS_PER_AREA))
        # Contiguous, nearly equal slices of the compound's households per area.
        bounds = [round(i * len(households) / n_areas) for i in range(n_areas + 1)]
        area_rects = geo.split(crect.inset(6), [bounds[i + 1] - bounds[i] for i in range(n_areas)], 8)
        building_no = 0
        for ai in range(n_areas):
            area_no += 1
            area = Node(
                Level.area, f"{compound.code}-{area_no:02d}", f"第{area_no}网格", geo.polygon(area_rects[ai].corners())
            )
            compound.children.append(area)
            area_households = households[bounds[ai] : bounds[ai + 1]]
            h = cplan.housing
            specs = _buildings(rng, cplan, math.ceil(len(area_households) / h.occupancy))
            cells = geo.grid_cells(
                area_rects[ai].inset(4), len(specs), h.unit_width * h.units[1] + 14, h.depth + h.spacing
            )
            rooms: list[tuple[int, int, str]] = []  # (building index, unit, room)
            for bi, ((units, floors, year, structure), cell) in enumerate(zip(specs, cells, strict=True)):
                building_no += 1
                pts = geo.footprint(cell, units * h.unit_width, h.depth, plan.angle + rng.uniform(-3, 3), rng)
                address = f"{cplan.road}{cplan.gate_no}号{building_no}栋"
                node = Node(
                    Level.building,
                    f"{compound.code}-B{building_no:03d}",
                    f"{building_no}栋",
                    geo.polygon(pts),
                    kind=h.code,
                    building={
                        "address": address,
                        "units": units,
                        "floors": floors,
                        "year_built": year,
                        "structure": structure,
                        "has_elevator": h.elevator,
                    },
                )
                area.children.append(node)
                for u in range(1, units + 1):
                    for f in range(1, floors + 1):
                        for k in range(1, h.per_floor + 1):
                            rooms.append((bi, u, f"{f}{k:02d}"))
            # Some flats stand empty; which ones is part of the draw.
            taken = sorted(rng.sample(range(len(rooms)), len(area_households)))
            for rows, room_index in zip(area_households, taken, strict=True):
                bi, unit_no, room = rooms[room_index]
                node = area.children[bi]
                assert node.building is not None
                address = f"{node.building['address']}{unit_no}单元{room}室"
                for r in rows:
                    if r["registered_address"] is None:
                        r["registered_address"] = address
                node.households.append(HouseholdSpec(unit_no, room, address, rows))
    return community


# ---- the five-level chain ---------------------------------------------------------------


def _party_pool(node: Node, lo: int = 18, hi: int = 120) -> list[Row]:
    """Party members living here who can be phoned: those the chain can rely on."""
    return [r for r in node.residents() if r["party_member"] and r["lives_here"] and r["phone"] and lo <= _age(r) <= hi]


def _promote(rng: random.Random, node: Node) -> Row:
    """Where no party member lives, the branch has sent one: mark a working-age resident."""
    adults = [r for r in node.residents() if 30 <= _age(r) <= 70 and r["lives_here"] and r["phone"]]
    adults = adults or list(node.residents())
    row = rng.choice(adults)
    row["party_member"] = True
    return row


def _choose(rng: random.Random, pools: list[list[Row]], used: set[int]) -> Row | None:
    for pool in pools:
        free = [r for r in pool if id(r) not in used]
        if free:
            row = rng.choice(free)
            used.add(id(row))
            return row
    return None


def _chain(rng: random.Random, community: Node, registry: IdRegistry) -> None:
    name, phone = _staff(rng, registry, (1968, 1985))
    community.duties.append(DutySpec(Duty.secretary, name, phone, _start(rng)))
    used: set[int] = set()
    for compound in community.children:
        row = _choose(rng, [_party_pool(compound, 45, 75), _party_pool(compound)], used) or _promote(rng, compound)
        compound.duties.append(DutySpec(Duty.branch_secretary, row["name"], row["phone"], _start(rng), row))
        for area in compound.children:
            row = _choose(rng, [_party_pool(area, 35, 75), _party_pool(area)], used) or _promote(rng, area)
            area.duties.append(DutySpec(Duty.branch_committee, row["name"], row["phone"], _start(rng), row))
            name, phone = _staff(rng, registry, (1985, 1999))
            area.duties.append(DutySpec(Duty.grid_worker, name, phone, _start(rng)))
            for building in area.children:
                if not building.households:
                    continue
                leader = _choose(
                    rng, [_party_pool(building, 40, 75), _party_pool(building), _party_pool(area, 40, 75)], used
                ) or _promote(rng, building)
                building.duties.append(
                    DutySpec(Duty.party_group_leader, leader["name"], leader["phone"], _start(rng), leader)
                )
                members = _party_pool(building, 18, 80) or [leader]
                rng.shuffle(members)
                # Each party member answers for ten to fifteen neighbouring households.
                size = rng.randint(10, 15)
                for i, hh in enumerate(building.households):
                    m = members[(i // size) % len(members)]
                    hh.duties.append(DutySpec(Duty.party_member, m["name"], m["phone"], _start(rng), m))


# ---- accounts ---------------------------------------------------------------------------


def _accounts(rng: random.Random, street: Node) -> list[AccountSpec]:
    flagship, other = street.children[0], street.children[1]
    areas = [a for c in flagship.children for a in c.children]
    area1 = areas[0]
    area2 = areas[1] if len(areas) > 1 else areas[0]
    building = next(b for b in area1.children if b.households)
    director = street.duties[0]
    secretary = flagship.duties[0]
    staff2 = other.duties[0]
    gw1 = next(d for d in area1.duties if d.duty is Duty.grid_worker)
    gw2 = next(d for d in area2.duties if d.duty is Duty.grid_worker)
    leader = building.duties[0]
    # A grown-up with a phone from another household than the leader's, in the same building if possible.
    candidates = [*building.households, *area1.walk_households()]
    resident = next(
        r
        for hh in candidates
        if not any(r is leader.resident for r in hh.residents)
        for r in hh.residents
        if r["phone"] and 25 <= _age(r) <= 70 and r["lives_here"]
    )
    for duty, username in (
        (director, "street"),
        (secretary, "secretary"),
        (staff2, "staff2"),
        (gw1, "gridworker1"),
        (gw2, "gridworker2"),
        (leader, "leader1"),
    ):
        duty.account = username
    volunteer_name = names.full_name(rng, rng.randint(1955, 1965), rng.choice("MF"))
    return [
        AccountSpec("admin", Role.sysadmin, "系统管理员", []),
        AccountSpec("street", Role.street_admin, director.person_name, [street], phone=director.phone),
        AccountSpec("secretary", Role.community_staff, secretary.person_name, [flagship], phone=secretary.phone),
        AccountSpec("staff2", Role.community_staff, staff2.person_name, [other], phone=staff2.phone),
        AccountSpec("gridworker1", Role.grid_worker, gw1.person_name, [area1], phone=gw1.phone),
        AccountSpec("gridworker2", Role.grid_worker, gw2.person_name, [area2], phone=gw2.phone),
        AccountSpec(
            "leader1",
            Role.building_leader,
            leader.person_name,
            [building],
            resident=leader.resident,
            phone=leader.phone,
        ),
        AccountSpec("resident1", Role.resident, resident["name"], [], resident=resident, phone=resident["phone"]),
        AccountSpec("volunteer1", Role.volunteer, volunteer_name, [flagship]),
        AccountSpec("partner1", Role.partner, "邻家乐超市（桂花园店）", [flagship]),
    ]


def generate(seed: int, scale: float, on_community=None) -> World:
    """Build the street in memory. ``on_community(name)`` is called as each community is done."""
    registry = IdRegistry()
    x0, y0, x1, y1 = geo.STREET_BOUNDS
    street = Node(Level.street, STREET_CODE, STREET_NAME, geo.polygon(geo.Rect(x0, y0, x1, y1).corners()))
    rng = random.Random(f"{seed}-street")
    name, phone = _staff(rng, registry, (1966, 1978))
    street.duties.append(DutySpec(Duty.street_director, name, phone, _start(rng)))
    for plan in COMMUNITIES:
        crng = random.Random(f"{seed}-{plan.code}")
        community = _community(crng, plan, scale, registry)
        _chain(crng, community, registry)
        street.children.append(community)
        if on_community is not None:
            on_community(plan.name)
    return World(street=street, accounts=_accounts(rng, street))
