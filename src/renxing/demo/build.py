"""Writes the demo street into an empty database: one transaction, bulk inserts, one audit entry.

The street is generated in memory first (:mod:`renxing.demo.world`), then written level by
level so that each unit's materialized path can be built from its parent's.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from renxing.apikeys import service as apikeys
from renxing.auth import audit
from renxing.auth.models import User, UserScope
from renxing.auth.passwords import hash_password
from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.demo import care as demo_care
from renxing.demo import drills as demo_drills
from renxing.demo import evacuation as demo_evacuation
from renxing.demo import geo, reports
from renxing.demo import riskmap as demo_riskmap
from renxing.demo import sensors as demo_sensors
from renxing.demo import space as demo_space
from renxing.demo import supplies as demo_supplies
from renxing.demo import warning as demo_warning
from renxing.demo.plan import COMMUNITIES, KIND_LABELS, STREET_NAME
from renxing.demo.population import REFERENCE_DATE
from renxing.demo.world import DutySpec, Node, World, generate
from renxing.errors import Conflict, FieldError, Invalid
from renxing.grid.models import TREE_LEVELS, Building, GridUnit, Household, Level, Responsibility
from renxing.i18n import _, _l, bilingual
from renxing.people.models import Resident
from renxing.people.vulnerability import age_on

Progress = Callable[[str, int, int], None]

DEMO_PASSWORD = "renxing-demo"
DEMO_API_KEY = "renxing-demo-key"  # the Open311 key of the demo (README)
# (username, role, what the account shows in Chinese, and in English)
DEMO_ACCOUNTS: list[tuple[str, str, str, str]] = [
    ("admin", "sysadmin", "系统管理员：账号与审计", "system administrator: accounts and audit"),
    ("street", "street_admin", "街道管理员：全街道五个社区", "street administrator: all five communities"),
    ("secretary", "community_staff", "桂花园社区书记（老旧小区）", "secretary of 桂花园, the 1980s old estate"),
    ("staff2", "community_staff", "锦绣华庭社区书记（高层商品房）", "secretary of 锦绣华庭, the high-rise community"),
    ("gridworker1", "grid_worker", "桂花园社区第1网格网格员", "grid worker of area 1 of 桂花园"),
    ("gridworker2", "grid_worker", "桂花园社区第2网格网格员", "grid worker of area 2 of 桂花园"),
    ("leader1", "building_leader", "第1网格一栋楼的党小组长", "party group leader of a building in area 1"),
    ("resident1", "resident", "住在第1网格的一位居民", "a resident living in area 1"),
    ("volunteer1", "volunteer", "桂花园社区志愿者", "volunteer of 桂花园"),
    ("partner1", "partner", "合作单位：社区超市", "partner organization: the neighbourhood supermarket"),
]

_STAGES = (
    _l("写入网格"),
    _l("写入楼栋"),
    _l("写入住户"),
    _l("写入居民"),
    _l("写入账号"),
    _l("写入责任链"),
)
_WARNING_STAGES = (_l("写入传感器与一周读数"), _l("写入预警与确认进度"))


@dataclass
class CommunitySummary:
    unit_id: int
    code: str
    name: str
    kind: str
    kind_label: str
    compounds: int
    areas: int
    buildings: int
    households: int
    residents: int
    aged60: int
    aged80: int
    living_alone: int
    disabled: int
    bedridden: int
    chronic: int
    pregnant: int
    infants: int
    special_needs: int
    party_members: int

    @property
    def aged60_share(self) -> float:
        return self.aged60 / self.residents if self.residents else 0.0

    @property
    def household_size(self) -> float:
        return self.residents / self.households if self.households else 0.0


@dataclass
class DemoSummary:
    seed: int
    scale: float
    street: str
    street_id: int
    communities: list[CommunitySummary]
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, display name
    seconds: float = 0.0

    @property
    def residents(self) -> int:
        return sum(c.residents for c in self.communities)

    @property
    def households(self) -> int:
        return sum(c.households for c in self.communities)

    @property
    def buildings(self) -> int:
        return sum(c.buildings for c in self.communities)


def build_demo(
    engine: Engine,
    *,
    seed: int = 2023,
    scale: float = 1.0,
    progress: Progress | None = None,
    until: datetime | None = None,
) -> DemoSummary:
    """Generate the demo street for ``seed`` and write it into a migrated, empty database,
    with months of reports ending at ``until`` (default: now; see :mod:`renxing.demo.reports`)."""
    if not 0 < scale <= 10:
        raise Invalid(_("比例应在 0 到 10 之间"), [FieldError("scale", "0 < scale ≤ 10")])
    report = progress or (lambda _label, _done, _total: None)
    total = len(COMMUNITIES) + len(_STAGES) + len(_WARNING_STAGES)
    started = time.perf_counter()
    with transaction(engine) as session:
        _require_empty(session)
    done = 0

    def community_done(name: str) -> None:
        nonlocal done
        done += 1
        report(_("生成 {name}").format(name=name), done, total)

    world = generate(seed, scale, on_community=community_done)
    # Argon2 is slow on purpose: hash once, every demo account shares the password.
    password_hash = hash_password(DEMO_PASSWORD)
    with transaction(engine) as session:
        _require_empty(session)
        writer = _Writer(session, world, lambda label: report(label, done + writer.step, total))
        writer.write_all(password_hash)
        demo_space.add_space(session, seed=seed)  # roads, hazard zones, shelters ... (space layers)
        demo_riskmap.add_resources(session, seed=seed)  # clinics, supply points, fire stations (risk map)
        demo_evacuation.add_scenarios(session)  # saved evacuation scenarios (flood, fire, earthquake)
        reports.add_reports(session, seed=seed, scale=scale, until=until, password_hash=password_hash)
        demo_care.add_care(session, seed=seed, until=until)  # volunteer teams, care plans and visits
        # Partners, a year of drills with attendance, ratings; after the care step, so that residents
        # visited by a team can rate it.
        demo_drills.add_drills(session, seed=seed, until=until)
        demo_supplies.add_supplies(session, seed=seed, until=until)  # the cloud warehouse, on the partners above
        demo_sensors.add_sensors(session, seed=seed, until=until)  # the flagship's sensors and a week of readings
        report(str(_WARNING_STAGES[0]), total - 1, total)
        summary = _summarise(world, writer, seed, scale)
        audit.record(
            session,
            SYSTEM,
            "import",
            "demo",
            writer.unit_ids[id(world.street)],
            summary=(
                bilingual(
                    "演示数据：种子 {seed}，规模 {scale}，居民 {residents} 人，{households} 户，楼栋 {buildings} 栋",
                    seed=seed,
                    scale=scale,
                    residents=summary.residents,
                    households=summary.households,
                    buildings=summary.buildings,
                )
            ),
            after={
                "seed": seed,
                "scale": scale,
                "residents": summary.residents,
                "households": summary.households,
                "buildings": summary.buildings,
                "communities": {c.code: c.residents for c in summary.communities},
            },
        )
        apikeys.create_key(session, SYSTEM, "demo", key=DEMO_API_KEY)
    # The rainstorm warned in and out; its deliveries are sent outside any transaction, so after the street's.
    demo_warning.add_warning(engine, seed=seed, until=until)
    report(str(_WARNING_STAGES[1]), total, total)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _require_empty(session: Session) -> None:
    if session.scalar(select(GridUnit.id).limit(1)) is not None:
        raise Conflict(_("数据库非空"))


def _centre(geometry: dict) -> tuple[float, float]:
    ring = geometry["coordinates"][0][:-1]
    return round(sum(p[0] for p in ring) / len(ring), 6), round(sum(p[1] for p in ring) / len(ring), 6)


class _Writer:
    """Inserts the in-memory street and remembers the database id of each piece."""

    def __init__(self, session: Session, world: World, tick: Callable[[str], None]):
        self.session = session
        self.world = world
        self.tick = tick
        self.step = 0
        self.unit_ids: dict[int, int] = {}  # id(Node) → grid unit id
        self.paths: dict[int, str] = {}
        self.household_ids: dict[int, int] = {}  # id(HouseholdSpec) → id
        self.resident_ids: dict[int, int] = {}  # id(resident row) → id
        self.user_ids: dict[str, int] = {}

    def _done(self, label: str) -> None:
        self.step += 1
        self.tick(str(label))

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        # Core rather than ORM bulk insert: the ORM splits rows by which values are None,
        # which turns one batched statement into thousands.
        table = model.__table__
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(self.session.connection().execute(stmt, rows).scalars())

    def write_all(self, password_hash: str) -> None:
        self.units()
        self._done(_STAGES[0])
        self.buildings()
        self._done(_STAGES[1])
        self.households()
        self._done(_STAGES[2])
        self.residents()
        self._done(_STAGES[3])
        self.accounts(password_hash)
        self._done(_STAGES[4])
        self.responsibilities()
        self._done(_STAGES[5])

    def units(self) -> None:
        by_level: dict[Level, list[tuple[Node, Node | None]]] = {lv: [] for lv in TREE_LEVELS}

        def collect(node: Node, parent: Node | None) -> None:
            by_level[node.level].append((node, parent))
            for child in node.children:
                collect(child, node)

        collect(self.world.street, None)
        # Level by level: a unit's path needs its parent's id and path, and its own id.
        for level in TREE_LEVELS:
            pairs = by_level[level]
            rows = []
            for node, parent in pairs:
                lon, lat = _centre(node.geometry)
                rows.append(
                    {
                        "parent_id": self.unit_ids[id(parent)] if parent is not None else None,
                        "level": node.level.value,
                        "code": node.code,
                        "name": node.name,
                        "kind": node.kind,
                        "geometry": geo.dumps(node.geometry),
                        "lon": lon,
                        "lat": lat,
                        "path": "",
                    }
                )
            ids = self._insert(GridUnit, rows)
            updates = []
            for (node, parent), unit_id in zip(pairs, ids, strict=True):
                path = f"{self.paths[id(parent)] if parent is not None else '/'}{unit_id}/"
                self.unit_ids[id(node)] = unit_id
                self.paths[id(node)] = path
                updates.append({"id": unit_id, "path": path})
            if updates:
                self.session.execute(update(GridUnit), updates)

    def _buildings(self):
        return [n for n in self.world.street.walk() if n.level is Level.building]

    def buildings(self) -> None:
        rows = [{"id": self.unit_ids[id(b)], **(b.building or {})} for b in self._buildings()]
        if rows:
            self.session.connection().execute(insert(Building.__table__), rows)

    def households(self) -> None:
        specs, rows = [], []
        for b in self._buildings():
            for hh in b.households:
                specs.append(hh)
                rows.append(
                    {
                        "building_id": self.unit_ids[id(b)],
                        "path": self.paths[id(b)],
                        "unit_no": hh.unit_no,
                        "room": hh.room,
                        "address": hh.address,
                    }
                )
        for hh, hh_id in zip(specs, self._insert(Household, rows), strict=True):
            self.household_ids[id(hh)] = hh_id

    def residents(self) -> None:
        originals, rows = [], []
        for b in self._buildings():
            path = self.paths[id(b)]
            for hh in b.households:
                hh_id = self.household_ids[id(hh)]
                for r in hh.residents:
                    originals.append(r)
                    rows.append({**r, "household_id": hh_id, "path": path})
        for r, rid in zip(originals, self._insert(Resident, rows), strict=True):
            self.resident_ids[id(r)] = rid

    def accounts(self, password_hash: str) -> None:
        rows = [
            {
                "username": a.username,
                "password_hash": password_hash,
                "display_name": a.display_name,
                "role": a.role.value,
                "resident_id": self.resident_ids[id(a.resident)] if a.resident is not None else None,
                "phone": a.phone,
                "locale": "zh",
                "is_active": True,
            }
            for a in self.world.accounts
        ]
        ids = self._insert(User, rows)
        scopes = []
        for a, user_id in zip(self.world.accounts, ids, strict=True):
            self.user_ids[a.username] = user_id
            scopes.extend({"user_id": user_id, "unit_id": self.unit_ids[id(n)]} for n in a.scope)
        if scopes:
            self.session.connection().execute(insert(UserScope.__table__), scopes)

    def _duty_row(self, d: DutySpec, unit_id: int | None, household_id: int | None) -> dict[str, Any]:
        return {
            "duty": d.duty.value,
            "unit_id": unit_id,
            "household_id": household_id,
            "person_name": d.person_name,
            "phone": d.phone,
            "user_id": self.user_ids.get(d.account) if d.account else None,
            "resident_id": self.resident_ids[id(d.resident)] if d.resident is not None else None,
            "start_date": d.start,
            "end_date": None,
        }

    def responsibilities(self) -> None:
        rows = []
        for node in self.world.street.walk():
            rows.extend(self._duty_row(d, self.unit_ids[id(node)], None) for d in node.duties)
            for hh in node.households:
                rows.extend(self._duty_row(d, None, self.household_ids[id(hh)]) for d in hh.duties)
        if rows:
            self.session.connection().execute(insert(Responsibility.__table__), rows)


def _summarise(world: World, writer: _Writer, seed: int, scale: float) -> DemoSummary:
    out = []
    for community in world.street.children:
        residents = list(community.residents())
        ages = [age_on(r["birth_date"], REFERENCE_DATE) for r in residents]
        levels = [n.level for n in community.walk()]
        out.append(
            CommunitySummary(
                unit_id=writer.unit_ids[id(community)],
                code=community.code,
                name=community.name,
                kind=community.kind or "",
                kind_label=str(KIND_LABELS.get(community.kind or "", "")),
                compounds=levels.count(Level.compound),
                areas=levels.count(Level.area),
                buildings=levels.count(Level.building),
                households=sum(1 for _ in community.walk_households()),
                residents=len(residents),
                aged60=sum(a >= 60 for a in ages),
                aged80=sum(a >= 80 for a in ages),
                living_alone=sum(r["living_alone"] for r in residents),
                disabled=sum(r["disability_kind"] is not None for r in residents),
                bedridden=sum(r["bedridden"] for r in residents),
                chronic=sum(r["chronic_illness"] is not None for r in residents),
                pregnant=sum(r["pregnant"] for r in residents),
                infants=sum(a < 3 for a in ages),
                special_needs=sum(r["special_needs"] is not None for r in residents),
                party_members=sum(r["party_member"] for r in residents),
            )
        )
    return DemoSummary(
        seed=seed,
        scale=scale,
        street=STREET_NAME,
        street_id=writer.unit_ids[id(world.street)],
        communities=out,
        accounts=[(a.username, a.role.value, a.display_name) for a in world.accounts],
    )
