"""Demo stock of the cloud warehouse (云仓储): storage points, agreements and a year of ledger.

Every community gets its store (社区应急物资储备点, where the risk map shows it), a store at each
open shelter and the emergency kits of a sample of buildings, counted by survey. The flagship (the
community with most residents) is the W-style warehouse of the paper: its school, supermarket,
property company and clinic each hold part of the stock under a signed agreement (one ending within
30 days), and a second property company's agreement has lapsed.

Quantities follow the people a community would have to keep in its shelters: the evacuees of its
flood scenario, else of its fire scenario, else everyone. The flagship holds about two days of
water for them and more of everything else, so water binds; the others hold about a day.

The year is played in time order on an in-memory copy of the ledger (:class:`Book`), which takes
the earliest-expiring usable lot first and never goes below zero, then written through
:func:`renxing.supplies.ledger.post`, one call per occasion (a delivery, an issue, a count), each
with many lines. Deterministic for a seed and ``until``.
"""

import json
import math
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User
from renxing.auth.principal import SYSTEM
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.demo import names
from renxing.demo.supplies_book import Book, Line
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import subtree_clause
from renxing.i18n import bilingual
from renxing.partners.models import Organization
from renxing.people.models import Resident
from renxing.space.models import EvacScenario, MapFeature, Shelter, ShelterStatus
from renxing.space.planning.inputs import load_inputs
from renxing.space.planning.spec import spec_of
from renxing.supplies.models import Agreement, AgreementLine, MinLevel, PointKind, StoragePoint, SupplyItem

SIZING_SCENARIOS = ("暴雨内涝", "老旧线路火灾", "地震全员疏散")  # the first with evacuees sizes the stock
# Stock each kind of point holds per person of the sizing population / the least it holds ("-": none).
# Water: the store ~0.55 of a day at 15 L, the supermarket 1.3 days (half of it may be drawn), the
# school 0.35, shelters 0.25 in all: about two days, where everything else lasts four or more.
STOCK_TABLE = """
item            store      supermarket  school     property   clinic     lapsed     shelters
water           8.3/240    19.5/480     5.25/120   1.5/48     0.3/24     -          3.75/48
food            6/96       12/240       1.8/48     -          -          -          1.5/48
mask            2.5/200    1.5/500      -          -          2.5/200    -          0.5/100
medicine        0.9/20     -            -          -          1.8/30     -          0.15/5
blanket         0.55/20    0.1/10       0.35/20    0.15/10    -          0.1/10     0.2/10
tent            0.12/4     -            -          0.08/3     -          0.03/2     0.04/2
first_aid       0.02/5     -            0.01/3     -          0.02/5     -          0.005/2
torch           0.15/10    0.05/10      0.05/5     0.06/6     -          0.04/5     0.04/4
battery         1/40       2/100        -          0.3/20     -          -          -
generator       0.0035/1   -            0/1        0/1        -          -          -
life_jacket     0.04/10    -            -          0.03/10    -          0.05/10    -
stretcher       0.01/2     -            0/1        -          0.01/2     -          -
infant_formula  0.012/6    0.05/12      -          -          -          -          0.005/2
adult_diaper    0.3/40     0.5/60       -          -          0.2/20     -          0.05/10
"""


def _rows(text: str) -> list[dict[str, str]]:
    """A table written as text: columns apart by two spaces or more, the first line naming them."""
    head, *rows = [re.split(r"\s{2,}", line.strip()) for line in text.strip().splitlines()]
    return [dict(zip(head, row, strict=True)) for row in rows]


def _stock_table(text: str) -> dict[str, list[tuple[str, float, int]]]:
    out: dict[str, list[tuple[str, float, int]]] = {}
    for row in _rows(text):
        code = row.pop("item")
        for column, cell in row.items():
            per, least = cell.split("/") if cell != "-" else ("", "")
            out.setdefault(column, []).extend([(code, float(per), int(least))] if per else [])
    return out


STOCK = _stock_table(STOCK_TABLE)
KIT = [("water", 2), ("food", 2), ("torch", 1), ("battery", 4), ("first_aid", 1), ("mask", 5)]  # per family kit

# The flagship's partner sites and agreements: the agreement began ``ran`` days ago and ends in
# ``runs`` days (negative: ended that long ago); its contact chain takes two or three of ``roles``.
PARTNERS_TABLE = """
key          share  when       ran  runs  title                       roles
supermarket  0.5    emergency  200  165   应急物资代储协议            店长/仓库主管/值班经理
school       1.0    alert      250  115   应急避难场所及物资储备协议  校长/总务主任/安全干事
property     1.0    any        320  45    应急物资储备与保障协议      项目经理/工程主管/值班保安队长
clinic       0.6    emergency  347  18    应急药品器械储备协议        站长/药房负责人/值班医生
lapsed       1.0    any        400  -35   应急物资储备与保障协议      项目经理/仓库管理员/值班保安队长
"""
SITES = {  # the site's name after its partner's, and its access hours
    "supermarket": ("应急储备仓", "每日 7:00–22:00"),
    "school": ("应急物资储备室", "工作日 7:30–17:00，寒暑假有值班"),
    "property": ("应急仓库", "24 小时值班"),
    "clinic": ("应急药械库", "每日 8:00–20:00"),
    "lapsed": ("应急仓库", "24 小时值班"),
}
TRIGGERS = {
    "any": "平时经社区书记签批、应急时接社区通知即可动用",
    "alert": "发布暴雨、台风等预警或社区启动应急响应后",
    "emergency": "社区启动Ⅲ级及以上应急响应后",
}
ACTIVATION = (
    "{trigger}，由社区书记或值班人员按联系链逐级电话通知{org}；{org}接通知后 30 分钟内开启储备点，"
    "凭社区调拨单出库，双方现场清点签字；动用数量不超过协议储备量的{share}；"
    "事后 3 个工作日内由社区按协议价结算或组织补货。"
)
NUMBER_PREFIXES = {"桂花园社区": "GHY"}  # agreement numbers start with the community's initials


@dataclass
class SuppliesSummary:
    points: int = 0
    agreements: int = 0
    movements: int = 0
    flagship: str = ""
    sizing_scenario: str = ""
    evacuees: int = 0  # the flagship's sizing population


@dataclass
class _Community:
    unit: GridUnit
    people: int  # the sizing population
    scenario: str
    flagship: bool
    store: StoragePoint | None = None
    shelters: list[StoragePoint] = field(default_factory=list)
    kits: list[StoragePoint] = field(default_factory=list)
    sites: dict[str, tuple[StoragePoint, Agreement]] = field(default_factory=dict)
    targets: dict[int, dict[str, int]] = field(default_factory=dict)  # point id → item code → stock aimed at


class _Demo:
    """One run: the clock, the catalogue, the seeded draws and the book the year is played on."""

    def __init__(self, session: Session, seed: int, until: datetime | None):
        self.session = session
        self.rng = random.Random(f"{seed}-supplies")
        self.tz = ZoneInfo(get_settings().timezone)
        self.now = min(until or utcnow(), utcnow()).replace(second=0, microsecond=0)
        self.today = self.now.astimezone(self.tz).date()
        self.items = {i.code: i for i in session.scalars(select(SupplyItem).order_by(SupplyItem.id))}
        self.book = Book(self.items, self.tz)

    def ago(self, days: float) -> datetime:
        """A working-hours moment ``days`` before now (never later than an hour ago)."""
        local = (self.now - timedelta(days=days)).astimezone(self.tz)
        at = local.replace(hour=self.rng.choice([9, 10, 10, 14, 15, 16]), minute=self.rng.choice([0, 15, 30, 45]))
        return min(at.astimezone(self.now.tzinfo), self.now - timedelta(hours=1))

    def amount(self, code: str, per_person: float, least: int, people: int, *, packs: bool = True) -> int:
        item = self.items[code]
        q = max(least, math.ceil(per_person * people * self.rng.uniform(0.95, 1.05)))
        return math.ceil(q / item.pack_size) * item.pack_size if packs and item.pack_size else q

    def expiry(self, code: str, received: datetime, made_days_before: int | None = None) -> date | None:
        """The expiry of goods received then, made a few weeks earlier (or ``made_days_before``)."""
        item = self.items[code]
        if not item.lot_tracked or not item.shelf_life_days:
            return None
        made = received.astimezone(self.tz).date() - timedelta(days=made_days_before or self.rng.randint(7, 30))
        return made + timedelta(days=item.shelf_life_days)

    def person(self) -> str:
        return names.full_name(self.rng, self.rng.randint(1965, 1995), self.rng.choice("MF"))


def add_supplies(session: Session, *, seed: int = 2023, until: datetime | None = None) -> SuppliesSummary:
    """Write the warehouse of every community in the caller's transaction (after the partners)."""
    demo = _Demo(session, seed, until)
    communities = list(
        session.scalars(select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.code))
    )
    if not communities or "water" not in demo.items:
        return SuppliesSummary()
    flagship = max(communities, key=lambda c: _residents(session, c.path))
    plans = [_Community(c, *sizing(session, c), flagship=c.id == flagship.id) for c in communities]
    for plan in plans:
        _points(demo, plan)
    session.flush()
    for plan in plans:
        if plan.flagship:
            _agreements(demo, plan)
        _play(demo, plan)
    demo.book.run()
    minimums = [m for plan in plans for m in _minimums(demo, plan)]
    moved = demo.book.write(session, SYSTEM, minimums_at=demo.now - timedelta(days=7), minimums=minimums)
    top = next(p for p in plans if p.flagship)
    points = sum(1 + len(p.shelters) + len(p.kits) + len(p.sites) for p in plans)
    audit.record(
        session,
        SYSTEM,
        "import",
        "supplies.demo",
        None,
        summary=bilingual("演示应急物资：储备点 {points} 个，流水 {movements} 条", points=points, movements=moved),
        after={"points": points, "movements": moved, "agreements": len(top.sites)},
    )
    return SuppliesSummary(points, len(top.sites), moved, flagship.name, top.scenario, top.people)


def _residents(session: Session, path: str) -> int:
    return session.scalar(select(func.count(Resident.id)).where(subtree_clause(Resident.path, path))) or 0


def sizing(session: Session, community: GridUnit) -> tuple[int, str]:
    """The people the community's stock is sized for: evacuees of its first scenario with any."""
    saved = {
        sc.name: sc
        for sc in session.scalars(
            select(EvacScenario).where(EvacScenario.unit_id == community.id).order_by(EvacScenario.id)
        )
    }
    for name in SIZING_SCENARIOS:
        if name in saved:
            inputs = load_inputs(session, community, spec_of(saved[name]))
            people = sum(sum(b["persons"].values()) for b in inputs.buildings if b["evacuate"])
            if people:
                return people, name
    return max(1, _residents(session, community.path) // 3), ""


def _point_at(session: Session, community: GridUnit, kind: str) -> tuple[float, float] | None:
    """Where the risk-map demo put the community's POI of that kind."""
    where = (MapFeature.unit_id == community.id, MapFeature.kind == kind)
    geometry = session.scalar(select(MapFeature.geometry).where(*where).order_by(MapFeature.id).limit(1))
    return tuple(json.loads(geometry)["coordinates"][:2]) if geometry else None


def _near(demo: _Demo, at: tuple[float | None, float | None], metres: float = 120) -> tuple[float, float] | None:
    lon, lat = at
    if lon is None or lat is None:
        return None
    angle = demo.rng.uniform(0, 2 * math.pi)
    return round(lon + metres * math.cos(angle) / 94_500, 6), round(lat + metres * math.sin(angle) / 110_900, 6)


def _add_point(demo: _Demo, plan: _Community, name: str, kind: PointKind, where: Any, **extra: Any) -> StoragePoint:
    lon, lat = where if where else (None, None)
    if kind is not PointKind.household_kits:
        extra |= {"contact_name": demo.person(), "contact_phone": names.mobile(demo.rng)}
    point = StoragePoint(
        unit_id=plan.unit.id,
        path=extra.pop("path", plan.unit.path),
        name=name,
        kind=kind.value,
        lon=lon,
        lat=lat,
        active=True,
        created_at=demo.now - timedelta(days=360),
        **extra,
    )
    demo.session.add(point)
    return point


def _points(demo: _Demo, plan: _Community) -> None:
    c, short = plan.unit, plan.unit.name.removesuffix("社区")
    plan.store = _add_point(
        demo,
        plan,
        f"{short}社区应急物资储备点",
        PointKind.community_store,
        _point_at(demo.session, c, "supply_point") or _near(demo, (c.lon, c.lat), 40),
        address=f"{c.name}党群服务中心旁",
        access_hours="工作日 8:30–17:30，应急响应期间 24 小时",
    )
    shelters = demo.session.scalars(
        select(Shelter).where(Shelter.unit_id == c.id, Shelter.status == ShelterStatus.open.value).order_by(Shelter.id)
    )
    for s in shelters:
        plan.shelters.append(
            _add_point(
                demo,
                plan,
                f"{s.name}物资库",
                PointKind.shelter_store,
                (s.lon, s.lat) if s.lon is not None else None,
                shelter_id=s.id,
                address=s.name,
                access_hours="应急启用时开放，平时由社区保管钥匙",
            )
        )
    _kit_points(demo, plan, 0.12 if plan.flagship else 0.06)


def _kit_points(demo: _Demo, plan: _Community, share: float) -> None:
    """Household kits of a sample of buildings, aggregated per building."""
    s, c = demo.session, plan.unit
    families = dict(
        s.execute(
            select(Household.building_id, func.count(Household.id))
            .where(subtree_clause(Household.path, c.path))
            .group_by(Household.building_id)
        ).all()
    )
    buildings = [
        b
        for b in s.scalars(
            select(GridUnit)
            .where(GridUnit.level == Level.building.value, subtree_clause(GridUnit.path, c.path))
            .order_by(GridUnit.code)
        )
        if families.get(b.id)
    ]
    compounds = dict(s.execute(select(GridUnit.id, GridUnit.name).where(GridUnit.parent_id == c.id)).all())
    for b in demo.rng.sample(buildings, min(len(buildings), max(2, round(len(buildings) * share)))):
        compound = compounds.get(int(b.path.strip("/").split("/")[2]), "")
        plan.kits.append(
            _add_point(
                demo,
                plan,
                f"{compound}{b.name}家庭应急包",
                PointKind.household_kits,
                (b.lon, b.lat) if b.lon is not None else None,
                path=b.path,
                building_id=b.id,
                households=families[b.id],
            )
        )


def _partner_orgs(session: Session, community: GridUnit) -> dict[str, Organization]:
    """The flagship's partners that hold stock: school, supermarket, clinic, the community's
    property company, and another property company whose agreement has lapsed."""
    orgs = list(
        session.scalars(select(Organization).where(Organization.unit_id == community.id).order_by(Organization.id))
    )
    by_kind: dict[str, list[Organization]] = {}
    for o in orgs:
        by_kind.setdefault(o.kind, []).append(o)
    partner_user = session.scalar(select(User.id).where(User.username == "partner1"))

    def first(kind: str) -> Organization | None:
        return next(iter(by_kind.get(kind, [])), None)

    shops = [o for o in by_kind.get("enterprise", []) if o.user_id is not None and o.user_id == partner_user]
    # The community's own property company first; the next one's agreement has lapsed.
    own = f"{community.name.removesuffix('社区')}物业服务中心"
    property_cos: list[Organization | None] = [
        *sorted(by_kind.get("property_company", []), key=lambda o: o.name != own),
        None,
        None,
    ]
    wanted = {
        "supermarket": shops[0] if shops else first("enterprise"),
        "school": first("school"),
        "property": property_cos[0],
        "clinic": first("clinic"),
        "lapsed": property_cos[1],
    }
    return {key: org for key, org in wanted.items() if org is not None}


def _site_location(demo: _Demo, plan: _Community, key: str, org: Organization) -> tuple[float, float] | None:
    c, s = plan.unit, demo.session
    if key == "clinic":
        return _point_at(s, c, "clinic") or _near(demo, (c.lon, c.lat))
    if key == "school":
        playground = s.scalar(
            select(Shelter).where(Shelter.unit_id == c.id, Shelter.kind == "school_playground").limit(1)
        )
        if playground is not None and playground.lon is not None:
            return _near(demo, (playground.lon, playground.lat), 30)
    if key == "lapsed":
        compound = s.scalar(
            select(GridUnit).where(GridUnit.parent_id == c.id, GridUnit.name == org.name.removesuffix("物业服务中心"))
        )
        if compound is not None:
            return _near(demo, (compound.lon, compound.lat), 30)
    return _near(demo, (c.lon, c.lat), 160 if key == "supermarket" else 90)


def _agreements(demo: _Demo, plan: _Community) -> None:
    """The flagship's partner sites, each with its stock target and its agreement."""
    s, short = demo.session, plan.unit.name.removesuffix("社区")
    prefix = NUMBER_PREFIXES.get(plan.unit.name, plan.unit.code.rsplit("-", 1)[-1])
    table = {row["key"]: row for row in _rows(PARTNERS_TABLE)}
    for n, (key, org) in enumerate(_partner_orgs(s, plan.unit).items(), start=1):
        row = table[key]
        share, when = float(row["share"]), row["when"]
        site = _add_point(
            demo,
            plan,
            f"{org.name}{SITES[key][0]}",
            PointKind.partner_site,
            _site_location(demo, plan, key, org),
            org_id=org.id,
            address=org.name,
            access_hours=SITES[key][1],
        )
        start = demo.today - timedelta(days=int(row["ran"]))
        # The first in the chain answers the unit's landline, the others their mobiles.
        landline = f"025-{demo.rng.randint(5200_0000, 8699_9999)}"
        chain = [
            {"name": demo.person(), "role": role, "phone": names.mobile(demo.rng) if k else landline}
            for k, role in enumerate(row["roles"].split("/")[: demo.rng.choice([2, 3])])
        ]
        agreement = Agreement(
            org_id=org.id,
            unit_id=plan.unit.id,
            path=plan.unit.path,
            number=f"{prefix}-{start.year}-{n:02d}",
            title=f"{short}社区{row['title']}",
            valid_from=start,
            valid_until=demo.today + timedelta(days=int(row["runs"])),
            draw_share=share,
            draw_when=when,
            activation=ACTIVATION.format(trigger=TRIGGERS[when], org=org.name, share=f"{share:.0%}"),
            contact_chain=chain,
            note="上一期协议已到期，尚未续签" if key == "lapsed" else None,
            created_at=datetime.combine(start, datetime.min.time(), demo.now.tzinfo),
        )
        s.add(agreement)
        s.flush()
        targets = {code: demo.amount(code, per, least, plan.people) for code, per, least in STOCK[key]}
        s.add_all(
            AgreementLine(
                agreement_id=agreement.id,
                item_id=demo.items[code].id,
                quantity=max(1, math.floor(q * share)),
                point_id=site.id,
            )
            for code, q in targets.items()
        )
        plan.sites[key] = (site, agreement)
        plan.targets[site.id] = targets


PERISHABLE_DAYS = 540  # food and infant formula: delivered within the last seven months, so still fresh
# Deliveries: (days ago, share of the lasting goods, share of the perishables), then the note.
STORE_DELIVERIES = {
    True: [(330, 0.55, 0.0, "区应急管理局下拨"), (190, 0.3, 0.6, "社区采购入库"), (60, 0.15, 0.4, "汛期前补充储备")],
    False: [(300, 0.7, 0.0, "区应急管理局下拨"), (160, 0.3, 1.0, "社区采购入库")],
}
PARTNER_DELIVERIES = {
    "supermarket": [(300, 0.6, 0.0, "协议储备入库"), (120, 0.4, 1.0, "协议储备补货")],
    "school": [(240, 0.7, 0.5, "协议储备入库"), (80, 0.3, 0.5, "协议储备补货")],
    "property": [(280, 1.0, 1.0, "协议储备入库")],
    "clinic": [(300, 0.5, 0.5, "协议储备入库"), (100, 0.5, 0.5, "协议储备补货")],
    "lapsed": [(340, 1.0, 1.0, "协议储备入库")],
}
MINIMUM_SHARES = [("water", 0.5), ("food", 0.5), ("mask", 0.5), ("blanket", 0.5), ("medicine", 0.5), ("torch", 0.5)]
FLAGSHIP_MASK_MINIMUM = 0.8  # the last issue of masks takes the flagship's store below it: a notice


def _packs(item: SupplyItem, quantity: float) -> int:
    """Whole packs where the item comes in packs (at least one when any is wanted)."""
    if quantity <= 0:
        return 0
    if not item.pack_size:
        return max(1, round(quantity))
    return max(1, round(quantity / item.pack_size)) * item.pack_size


def _deliver(
    demo: _Demo,
    point: StoragePoint,
    targets: dict[str, int],
    schedule: list[tuple[int, float, float, str]],
    *,
    extra: dict[int, list[Line]] | None = None,
    late: timedelta | None = None,
) -> None:
    """Spread each item's target over the deliveries of the schedule; ``extra`` adds lines to the
    n-th delivery; the first was entered ``late`` when given."""
    for n, (days, lasting, perishable, note) in enumerate(schedule):
        at = demo.ago(days + demo.rng.uniform(-3, 3))
        lines = list((extra or {}).get(n, []))
        for code, q in targets.items():
            item = demo.items[code]
            fresh = (item.shelf_life_days or PERISHABLE_DAYS + 1) <= PERISHABLE_DAYS
            if quantity := _packs(item, q * (perishable if fresh else lasting)):
                lines.append(Line(code, quantity, demo.expiry(code, at)))
        demo.book.receive(point, at, lines, note, late if n == 0 else None)


def _aged(demo: _Demo, code: str, q: float, expires_in: int) -> Line:
    """A lot that expires ``expires_in`` days from today (negative: already expired)."""
    return Line(code, _packs(demo.items[code], q), demo.today + timedelta(days=expires_in))


def _play(demo: _Demo, plan: _Community) -> None:
    _store_story(demo, plan)
    _shelter_story(demo, plan)
    _kits_story(demo, plan, surveyed_again=3 if plan.flagship else 0)
    if plan.flagship:
        _partner_story(demo, plan)


def _store_story(demo: _Demo, plan: _Community) -> None:
    store, book, flagship = plan.store, demo.book, plan.flagship
    assert store is not None
    stock = STOCK["store"]
    if not flagship:
        # No partners here: the store holds more (a blanket and a tent place for everyone), and
        # about a day of water.
        water = demo.rng.uniform(0.8, 1.3) * 15 * 0.75
        stock = [(c, water if c == "water" else per * 1.7, least) for c, per, least in STOCK["store"]]
    targets = {code: demo.amount(code, per, least, plan.people) for code, per, least in stock}
    plan.targets[store.id] = targets
    book.issue(store, demo.ago(150), "water", 0.06, "高温天气为独居老人送水")
    if not flagship:
        _deliver(demo, store, targets, STORE_DELIVERIES[False])
        return
    # Donated instant food near the end of its shelf life (expired since, written off) and a lot
    # of infant formula bought cheap, expiring soon.
    aged = {
        0: [_aged(demo, "food", targets["food"] * 0.25, -35)],
        1: [_aged(demo, "infant_formula", targets["infant_formula"] * 0.5, 45)],
    }
    _deliver(demo, store, targets, STORE_DELIVERIES[True], extra=aged)
    if plan.shelters:
        at = demo.ago(120)
        moves = [("blanket", 0.08), ("water", 0.05)]
        book.transfer(store, plan.shelters[-1], at, moves, at + timedelta(hours=3), "充实避难场所库房")
    book.issue(store, demo.ago(95), "blanket", 0.04, "为困难家庭发放棉被")
    book.issue(store, demo.ago(40), "food", 0.05, "防汛值守人员用餐")
    differences = [("torch", -2, "lost"), ("battery", 20, "found"), ("blanket", -1, "damaged")]
    book.count(store, demo.ago(45), differences, "form", "季度盘点")
    book.write_off_expired(store, demo.ago(20), "food", "方便食品过期报废")
    book.issue(store, demo.ago(2), "mask", 0.3, "流感高发期为居民发放口罩")
    if plan.shelters:
        moves = [("water", 0.05), ("food", 0.05)]
        book.transfer(store, plan.shelters[0], demo.ago(1), moves, None, "向避难场所预置物资")


def _shelter_story(demo: _Demo, plan: _Community) -> None:
    if not plan.shelters:
        return
    total = {code: demo.amount(code, per, least, plan.people, packs=False) for code, per, least in STOCK["shelters"]}
    weights = [demo.rng.uniform(0.6, 1.4) for _ in plan.shelters]
    for point, weight in zip(plan.shelters, weights, strict=True):
        share = weight / sum(weights)
        at = demo.ago(demo.rng.uniform(170, 230))
        lines = [Line(code, _packs(demo.items[code], q * share), demo.expiry(code, at)) for code, q in total.items()]
        demo.book.receive(point, at, lines, "街道配发避难场所物资")
    if plan.flagship:
        # Forgotten at the back of a shelter's store: expired, still to be written off.
        point = plan.shelters[1 % len(plan.shelters)]
        demo.book.receive(point, demo.ago(320), [_aged(demo, "food", 48, -20)], "社区采购入库")


def _kits_story(demo: _Demo, plan: _Community, surveyed_again: int) -> None:
    """A survey of the families' kits in each sampled building; a few were surveyed again lately."""
    for k, point in enumerate(plan.kits):
        families = point.households or 1
        with_kit = max(1, round(families * demo.rng.uniform(0.55, 0.85)))
        at = demo.ago(demo.rng.uniform(150, 250))
        lines = [Line(code, per * with_kit, demo.expiry(code, at, demo.rng.randint(3, 20))) for code, per in KIT]
        demo.book.receive(point, at, lines, f"入户调查：{families} 户中 {with_kit} 户备有家庭应急包")
        if k < surveyed_again:
            used = demo.rng.uniform(0.1, 0.3)
            differences = [
                ("water", -round(2 * with_kit * used), "consumed"),
                ("food", -round(2 * with_kit * used), "consumed"),
                ("torch", 1, "found"),
            ]
            demo.book.count(point, demo.ago(demo.rng.uniform(20, 40)), differences, "survey", "入户复查家庭应急包")


def _partner_story(demo: _Demo, plan: _Community) -> None:
    book = demo.book
    for key, (site, agreement) in plan.sites.items():
        targets = plan.targets[site.id]
        first: list[Line] = []
        if key == "supermarket":
            first = [_aged(demo, "food", targets["food"] * 0.4, 20)]
            book.issue(site, demo.ago(90), "food", 0.1, "临期商品轮换出库（转门店销售）", agreement.id)
        elif key == "clinic":
            first = [_aged(demo, "medicine", targets["medicine"] * 0.4, 40)]
            book.issue(site, demo.ago(60), "medicine", 0.05, "为慢病居民应急配药", agreement.id)
        late = timedelta(days=2, hours=3) if key == "school" else None  # entered after a network outage
        _deliver(demo, site, targets, PARTNER_DELIVERIES[key], extra={0: first}, late=late)


def _minimums(demo: _Demo, plan: _Community) -> list[MinLevel]:
    assert plan.store is not None
    targets, shares = plan.targets[plan.store.id], dict(MINIMUM_SHARES)
    if plan.flagship:
        shares["mask"] = FLAGSHIP_MASK_MINIMUM
    return [
        MinLevel(point_id=plan.store.id, item_id=demo.items[code].id, minimum=max(1, round(targets[code] * share)))
        for code, share in shares.items()
    ]
