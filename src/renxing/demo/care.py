"""Volunteer teams and 定点关怀 for the demo street.

    add_care(session, seed=2023, until=None) -> CareSummary

Called by :func:`renxing.demo.build.build_demo` in its transaction, after the residents are written.

**Teams.** The flagship community 桂花园 gets the 14 teams of the paper's G community, led by the
party branch: a party vanguard team, a silver-age mutual-aid team per compound, a security patrol,
文体益家, a medical team with the community clinic's nurses, youth, repairs, counselling, sign
language, neighbourhood watch, meals and greening. The other communities get three teams each.
Members are drawn from the register by age and party membership (silver-age teams 55–70, youth
18–35), with a few people from outside (the clinic's nurses, a sign-language teacher); skills carry
certificates, some of them expired; availability is a few half-days a week; service hours run over
the last year.

**Care.** 桂花园's vulnerable residents get care plans; carers are placed by the exact optimiser
(:mod:`renxing.care.assignment`) and about a fifth of the plans are then left without a carer, so
that the secretary's "propose carers" has work to do. A few residents are visited by two teams
(the over-served). Visits run over the last four months at each plan's frequency, most on time,
some overdue; a few found problems, and the latest of those were raised into the closed loop.
The demo account ``volunteer1`` is a member of the first silver-age team with a care list.
"""

import base64
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User
from renxing.auth.principal import SYSTEM
from renxing.care import assignment as opt
from renxing.care import rules
from renxing.care.models import CareAssignment, CarePlan, CareVisit
from renxing.db import utcnow
from renxing.events import intake, sweep
from renxing.events.models import reports as reports_table
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import path_ids, subtree_clause
from renxing.i18n import bilingual
from renxing.people.models import Resident
from renxing.people.vulnerability import age_on
from renxing.volunteers.models import MemberSkill, ServiceHours, TeamKind, TeamMember, VolunteerTeam

FLAGSHIP = "桂花园社区"
UNCOVERED_SHARE = 0.12
HISTORY_DAYS = 120
MAX_RUNGS = 6  # the five-level chain and the secretary above it

# name, kind, members (low, high), who joins, max care (low, high), skills [(skill, share)], service note
TeamSpec = tuple[str, TeamKind, tuple[int, int], str, tuple[int, int], list[tuple[str, float]], str]
FLAGSHIP_TEAMS: list[TeamSpec] = [
    ("党员先锋队", TeamKind.party, (60, 70), "party", (3, 5), [("first_aid", 0.2), ("driver", 0.15)], "党员联户走访"),
    (
        "银发互助队（一村）",
        TeamKind.silver_mutual_aid,
        (45, 55),
        "silver:0",
        (3, 5),
        [("first_aid", 0.2), ("nursing", 0.06), ("sign_language", 0.05)],
        "结对探访",
    ),
    (
        "银发互助队（二村）",
        TeamKind.silver_mutual_aid,
        (45, 55),
        "silver:1",
        (3, 5),
        [("first_aid", 0.2), ("nursing", 0.06), ("sign_language", 0.05)],
        "结对探访",
    ),
    (
        "银发互助队（三村）",
        TeamKind.silver_mutual_aid,
        (45, 55),
        "silver:2",
        (3, 5),
        [("first_aid", 0.2), ("nursing", 0.06), ("sign_language", 0.05)],
        "结对探访",
    ),
    ("治安巡逻队", TeamKind.security_patrol, (24, 30), "adult", (0, 1), [("first_aid", 0.1)], "夜间巡逻"),
    ("文体益家", TeamKind.culture_sports, (20, 26), "silver", (0, 1), [], "广场舞与合唱排练"),
    ("医疗服务队", TeamKind.medical, (24, 28), "adult", (5, 7), [("nursing", 0.8), ("first_aid", 0.6)], "上门测血压"),
    ("青年志愿队", TeamKind.youth, (20, 26), "youth", (1, 2), [("driver", 0.3), ("first_aid", 0.2)], "代购送药"),
    (
        "专业维修队",
        TeamKind.professional,
        (12, 16),
        "adult",
        (1, 3),
        [("electrician", 0.5), ("plumber", 0.5)],
        "上门维修",
    ),
    ("心理疏导队", TeamKind.professional, (10, 14), "adult", (3, 5), [("counselling", 0.9)], "谈心疏导"),
    ("手语助残队", TeamKind.other, (20, 26), "adult", (5, 7), [("sign_language", 0.9)], "助残陪伴"),
    ("邻里守望队", TeamKind.other, (50, 60), "silver", (2, 4), [], "邻里守望"),
    ("助餐送餐队", TeamKind.other, (16, 20), "adult", (2, 3), [("driver", 0.4)], "送餐上门"),
    ("环境美化队", TeamKind.other, (14, 18), "silver", (0, 1), [], "楼道清理"),
]
OTHER_TEAMS: list[TeamSpec] = [
    ("党员先锋队", TeamKind.party, (14, 20), "party", (2, 3), [("first_aid", 0.2)], "党员联户走访"),
    ("银发互助队", TeamKind.silver_mutual_aid, (14, 20), "silver", (2, 3), [("first_aid", 0.2)], "结对探访"),
    ("治安巡逻队", TeamKind.security_patrol, (10, 14), "adult", (0, 1), [], "夜间巡逻"),
]
OUTSIDERS = {
    "医疗服务队": [("社区卫生服务站护士", "nursing"), ("社区卫生服务站医生", "first_aid")],
    "手语助残队": [("特教学校手语老师", "sign_language")],
    "心理疏导队": [("心理咨询师", "counselling")],
}
CERT_PREFIX = {
    "nursing": "HS",
    "first_aid": "JJ",
    "electrician": "DG",
    "plumber": "SN",
    "driver": "JZ",
    "sign_language": "SY",
    "counselling": "XL",
}
SLOTS = ["08:00-11:30", "09:00-11:00", "14:00-17:00", "15:00-18:00", "19:00-21:00"]
PROBLEM_NOTES = {
    "health": ["血压偏高，头晕", "咳嗽多日未就医", "药快吃完了，需要代购"],
    "living": ["家里水管漏水", "冰箱坏了，饭菜放不住", "行动不便，需要助餐"],
    "safety": ["燃气灶打火困难", "楼道堆物挡住出口", "电线老化有焦味"],
    "mental": ["情绪低落，说很孤单", "子女很久没来，心情不好"],
    "absent": ["连续两次敲门无人应答"],
}


@dataclass
class CareSummary:
    teams: int
    members: int
    hours: int
    plans: int
    covered: int
    visits: int
    reports: int
    seconds: float = 0.0


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    table = model.__table__
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.connection().execute(stmt, rows).scalars())


def _insert_plain(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Many rows whose ids nobody needs: a plain executemany, several times faster."""
    if rows:
        session.connection().execute(insert(model.__table__), rows)


def _at(day: date, rng: random.Random) -> datetime:
    """A daytime moment of a local day (Asia/Shanghai), as UTC."""
    local = datetime.combine(day, time(rng.randint(8, 18), rng.choice((0, 10, 20, 30, 40, 50))))
    return (local - timedelta(hours=8)).replace(tzinfo=UTC)


class _Community:
    def __init__(self, session: Session, unit: GridUnit, today: date):
        self.unit = unit
        # Plain rows, not ORM objects: tens of thousands of residents are read once.
        rows = session.execute(
            select(
                Resident.id,
                Resident.name,
                Resident.path,
                Resident.household_id,
                Resident.birth_date,
                Resident.lives_here,
                Resident.living_alone,
                Resident.bedridden,
                Resident.disability_kind,
                Resident.special_needs,
                Resident.party_member,
                Household.building_id,
            )
            .join(Household, Household.id == Resident.household_id)
            .where(Resident.deleted_at.is_(None), subtree_clause(Resident.path, unit.path))
            .order_by(Resident.id)
        ).all()
        self.residents = rows
        self.building_of = {r.id: r.building_id for r in rows}
        units = session.scalars(select(GridUnit).where(subtree_clause(GridUnit.path, unit.path))).all()
        self.units = {u.id: u for u in units}
        self.compounds = sorted((u for u in units if u.level == Level.compound.value), key=lambda u: u.code)
        self.age = {r.id: age_on(r.birth_date, today) if r.birth_date else 40 for r in self.residents}

    def area_of(self, building_id: int | None) -> int | None:
        b = self.units.get(building_id) if building_id else None
        if b is None:
            return None
        return next(
            (i for i in reversed(path_ids(b.path)) if self.units.get(i) and self.units[i].level == "area"), None
        )

    def pool(self, who: str) -> list[Resident]:
        kind, _, compound = who.partition(":")
        rs = [r for r in self.residents if r.lives_here]
        if compound:
            path = self.compounds[int(compound) % len(self.compounds)].path
            rs = [r for r in rs if r.path.startswith(path)]
        if kind == "party":
            return [r for r in rs if r.party_member and 25 <= self.age[r.id] <= 72]
        if kind == "silver":
            return [r for r in rs if 55 <= self.age[r.id] <= 70 and not r.bedridden]
        if kind == "youth":
            return [r for r in rs if 18 <= self.age[r.id] <= 35]
        return [r for r in rs if 25 <= self.age[r.id] <= 62]


def _teams(
    session: Session, rng: random.Random, c: _Community, specs: list[TeamSpec], today: date, taken: dict[int, int]
) -> list[tuple[VolunteerTeam, TeamSpec, list[dict[str, Any]]]]:
    """Teams and members (rows with ids) of one community; a resident joins at most two teams."""
    out = []
    for spec in specs:
        name, kind, size, who, care, skills, note = spec
        team = VolunteerTeam(
            unit_id=c.unit.id,
            path=c.unit.path,
            name=name,
            kind=kind.value,
            contact=f"社区党群服务中心 {rng.randint(80000000, 89999999)}",
            description=bilingual("{note}等志愿服务，由社区党委统筹", note=note),
            active=True,
        )
        session.add(team)
        session.flush()
        pool = [r for r in c.pool(who) if taken.get(r.id, 0) < 2]
        rng.shuffle(pool)
        chosen = pool[: rng.randint(*size)]
        rows = []
        for i, r in enumerate(chosen):
            b = c.units.get(c.building_of[r.id])
            rows.append(
                {
                    "team_id": team.id,
                    "resident_id": r.id,
                    "user_id": None,
                    "name": r.name,
                    "phone": None,
                    "role": "leader" if i == 0 else ("deputy" if i == 1 else "member"),
                    "joined_on": today - timedelta(days=rng.randint(60, 1500)),
                    "max_care": rng.randint(*care),
                    "availability": _availability(rng),
                    "building_id": b.id if b else None,
                    "lon": b.lon if b else None,
                    "lat": b.lat if b else None,
                    "active": rng.random() > 0.03,
                    "created_at": utcnow(),
                }
            )
            taken[r.id] = taken.get(r.id, 0) + 1
        for label, skill in OUTSIDERS.get(name, []) if c.unit.name == FLAGSHIP else []:
            rows.append(
                {
                    "team_id": team.id,
                    "resident_id": None,
                    "user_id": None,
                    "name": f"{rng.choice('王李张刘陈杨黄赵周吴')}{rng.choice('静敏丽军伟芳娜强磊洋')}（{label}）",
                    "phone": f"139{rng.randint(10000000, 99999999)}",
                    "role": "member",
                    "joined_on": today - timedelta(days=rng.randint(60, 900)),
                    "max_care": 5,
                    "availability": _availability(rng),
                    "building_id": None,
                    "lon": c.unit.lon,
                    "lat": c.unit.lat,
                    "active": True,
                    "created_at": utcnow(),
                    "_skill": skill,
                }
            )
        extra = [row.pop("_skill", None) for row in rows]
        ids = _insert(session, TeamMember, rows)
        for row, mid, forced in zip(rows, ids, extra, strict=True):
            row["id"] = mid
            row["_skills"] = [forced] if forced else []
        if ids:
            team.leader_member_id = ids[0]
        for row in rows:
            for skill, share in skills:
                if rng.random() < share and skill not in row["_skills"]:
                    row["_skills"].append(skill)
        out.append((team, spec, rows))
    return out


def _availability(rng: random.Random) -> dict[str, list[str]]:
    days = rng.sample(range(7), rng.randint(1, 4))
    return {str(d): sorted(rng.sample(SLOTS, rng.randint(1, 2))) for d in sorted(days)}


def _skills(session: Session, rng: random.Random, members: list[dict[str, Any]], today: date) -> None:
    """Certificates: valid three years; some lapsed, some due for renewal. ``_valid`` keeps the skills
    that count today."""
    rows = []
    for m in members:
        m["_valid"] = set()
        for skill in m["_skills"]:
            issued = today - timedelta(days=rng.randint(90, 1000))
            expires = issued + timedelta(days=3 * 365)
            roll = rng.random()
            if roll < 0.12:  # lapsed, not renewed
                expires = today - timedelta(days=rng.randint(1, 200))
            elif roll < 0.2:  # due for renewal soon
                expires = today + timedelta(days=rng.randint(5, 55))
            rows.append(
                {
                    "member_id": m["id"],
                    "skill": skill,
                    "certificate_no": f"{CERT_PREFIX.get(skill, 'QT')}-{issued.year}-{rng.randint(1000, 9999)}",
                    "issued_on": issued,
                    "expires_on": expires,
                }
            )
            if expires >= today:
                m["_valid"].add(skill)
    _insert_plain(session, MemberSkill, rows)


def _hours(session: Session, rng: random.Random, team: VolunteerTeam, note: str, members, today: date) -> int:
    """A year of service: each active member serves a few times a month, some far more than others."""
    rows = []
    for m in members:
        if not m["active"]:
            continue
        per_month = rng.choice((0.5, 1, 2, 2, 3, 4, 6))
        start = max(m["joined_on"], today - timedelta(days=364))
        day = start
        while day <= today:
            day += timedelta(days=max(1, int(rng.expovariate(per_month / 30.0))))
            if day > today:
                break
            rows.append(
                {
                    "member_id": m["id"],
                    "team_id": team.id,
                    "served_on": day,
                    "hours": rng.choice((1.0, 1.5, 2.0, 2.0, 3.0, 4.0)),
                    "activity": note,
                    "created_by": None,
                    "created_at": utcnow(),
                }
            )
    _insert_plain(session, ServiceHours, rows)
    return len(rows)


def _care(
    session: Session,
    rng: random.Random,
    c: _Community,
    teams: list[tuple[VolunteerTeam, TeamSpec, list[dict[str, Any]]]],
    volunteer_user: int | None,
    now: datetime,
) -> tuple[int, int, int, int]:
    """Plans, carers, visits and a few reports for one community; returns (plans, covered, visits, reports)."""
    today = now.date()
    vulnerable = []
    for r in c.residents:
        if not r.lives_here:
            continue
        kinds = rules.care_kinds(
            birth_date=r.birth_date,
            living_alone=r.living_alone,
            bedridden=r.bedridden,
            disability_kind=r.disability_kind,
            special_needs=r.special_needs,
            today=today,
        )
        if kinds:
            vulnerable.append((r, kinds))
    if not vulnerable:
        return 0, 0, 0, 0
    members = {m["id"]: (team, m) for team, _, rows in teams for m in rows if m["active"] and m["lon"] is not None}
    points = [(m["lon"], m["lat"]) for _, m in members.values()]
    plane = opt.plane_for(points or [(c.unit.lon or 0.0, c.unit.lat or 0.0)])
    carers = []
    for mid, (team, m) in members.items():
        if m["max_care"] <= 0:
            continue
        x, y = opt.to_xy(plane, m["lon"], m["lat"])
        kind = "party_member" if team.kind == TeamKind.party else "volunteer"
        area = c.area_of(m["building_id"])
        carers.append(opt.Carer(mid, x, y, m["building_id"], area, frozenset(m["_valid"]), m["max_care"], kind))
    residents = []
    for r, _ in vulnerable:
        b = c.units.get(c.building_of[r.id])
        if b is None or b.lon is None:
            continue
        x, y = opt.to_xy(plane, b.lon, b.lat)
        needs = frozenset(rules.plan_needs(r.special_needs, bedridden=r.bedridden, disability_kind=r.disability_kind))
        residents.append(opt.Vulnerable(r.id, x, y, b.id, c.area_of(b.id), needs))
    result = opt.solve(opt.Problem(residents, carers, max_distance_m=1500.0))
    pairs = {p.resident_id: p for p in result.pairs}
    # The demo volunteer: the member of the first silver-age team with the most residents.
    silver = next((t for t, spec, _ in teams if spec[1] is TeamKind.silver_mutual_aid), None)
    load: dict[Any, list[Any]] = defaultdict(list)
    for p in result.pairs:
        load[p.carer_id].append(p.resident_id)
    mine = None
    if volunteer_user is not None and silver is not None:
        candidates = [mid for mid, (t, _) in members.items() if t.id == silver.id and len(load.get(mid, [])) >= 2]
        if candidates:
            mine = max(candidates, key=lambda mid: (len(load[mid]), -mid))
            members[mine][1]["user_id"] = volunteer_user
            session.execute(TeamMember.__table__.update().where(TeamMember.id == mine).values(user_id=volunteer_user))
    protected = set(load.get(mine, [])) if mine is not None else set()
    # Leave a share uncovered: carers move away, fall ill, or were never found.
    dropped = {rid for rid in pairs if rid not in protected and rng.random() < UNCOVERED_SHARE}
    plan_rows = []
    order = []
    for r, kinds in vulnerable:
        created = today - timedelta(days=rng.randint(HISTORY_DAYS + 10, 400))
        plan_rows.append(
            {
                "resident_id": r.id,
                "path": r.path,
                "frequency_days": rules.default_frequency(kinds, r.special_needs),
                "needs": ",".join(
                    rules.plan_needs(r.special_needs, bedridden=r.bedridden, disability_kind=r.disability_kind)
                )
                or None,
                "emergency": False,
                "status": "active",
                "note": None,
                "created_by": None,
                "created_at": _at(created, rng),
                "closed_at": None,
            }
        )
        order.append(r.id)
    covered = [rid for rid in order if rid in pairs and rid not in dropped]
    # Plans only for the residents with a carer, and for some of the uncovered (the rest were never
    # opened): the overview counts both.
    keep = [i for i, rid in enumerate(order) if (rid in pairs and rid not in dropped) or rng.random() < 0.5]
    plan_rows = [plan_rows[i] for i in keep]
    order = [order[i] for i in keep]
    plan_ids = dict(zip(order, _insert(session, CarePlan, plan_rows), strict=True))
    plan_of = {rid: row for rid, row in zip(order, plan_rows, strict=True)}
    assign_rows = []
    for rid in covered:
        p = pairs[rid]
        team, m = members[p.carer_id]
        since = plan_of[rid]["created_at"].date()
        assign_rows.append(
            {
                "plan_id": plan_ids[rid],
                "carer_kind": "party_member" if team.kind == TeamKind.party else "volunteer",
                "member_id": p.carer_id,
                "user_id": None,
                "since": since,
                "until": None,
                "reason": p.explanation,
                "created_by": None,
                "created_at": plan_of[rid]["created_at"],
            }
        )
    # Over-served: the party team also visits some of the silver-age teams' residents.
    party = [mid for mid, (t, _) in members.items() if t.kind == TeamKind.party]
    spare = {mid: members[mid][1]["max_care"] - len(load.get(mid, [])) for mid in party}
    silver_ids = {t.id for t, spec, _ in teams if spec[1] is TeamKind.silver_mutual_aid}
    doubled = [rid for rid in covered if members[pairs[rid].carer_id][0].id in silver_ids and rid not in protected]
    rng.shuffle(doubled)
    for rid in doubled[:12]:
        mid = next((m for m in party if spare[m] > 0), None)
        if mid is None:
            break
        spare[mid] -= 1
        assign_rows.append(
            {**assign_rows[covered.index(rid)], "carer_kind": "party_member", "member_id": mid, "reason": "党员联户"}
        )
    _insert_plain(session, CareAssignment, assign_rows)
    visits, reports = _visits(session, rng, covered, pairs, plan_ids, plan_of, members, protected, now)
    return len(plan_rows), len(covered), visits, reports


def _visits(session, rng, covered, pairs, plan_ids, plan_of, members, protected, now) -> tuple[int, int]:
    rows = []
    start = now - timedelta(days=HISTORY_DAYS)
    for rid in covered:
        freq = plan_of[rid]["frequency_days"]
        team, m = members[pairs[rid].carer_id]
        # Most carers keep up; some have slipped (overdue now), a few lapse for weeks.
        slip = rng.random()
        stop = now - timedelta(days=freq * rng.uniform(1.3, 4.0)) if slip < 0.1 else now
        if rid in protected:  # the demo volunteer: one visit overdue, the others on time
            stop = now - timedelta(days=freq * 2.0) if rid == min(protected) else now
        # From the last visit backwards: on time means the last one lies within a frequency of now.
        first = max(start, plan_of[rid]["created_at"])
        at = stop - timedelta(days=freq * rng.uniform(0.05, 0.95))
        while at > first:
            found = "problem" if rng.random() < 0.025 else "ok"
            category = rng.choice(list(PROBLEM_NOTES)) if found == "problem" else None
            rows.append(
                {
                    "plan_id": plan_ids[rid],
                    "carer_kind": "party_member" if team.kind == TeamKind.party else "volunteer",
                    "member_id": m["id"],
                    "user_id": None,
                    "visited_at": at,
                    "found": found,
                    "problem_category": category,
                    "note": rng.choice(PROBLEM_NOTES[category])
                    if category
                    else rng.choice((None, None, "身体尚好", "聊天半小时")),
                    "report_id": None,
                    "created_by": None,
                    "created_at": at,
                }
            )
            at -= timedelta(days=freq * rng.uniform(0.75, 1.05))
    _insert_plain(session, CareVisit, rows)
    # The problems of the last two weeks went into the closed loop with one action each.
    recent = session.execute(
        select(CareVisit.id, CareVisit.plan_id, CareVisit.visited_at, CareVisit.note, CareVisit.problem_category)
        .where(
            CareVisit.plan_id.in_(list(plan_ids.values())),
            CareVisit.found == "problem",
            CareVisit.visited_at > now - timedelta(days=14),
        )
        .order_by(CareVisit.visited_at, CareVisit.id)
    ).all()
    raised = 0
    resident_of = {pid: rid for rid, pid in plan_ids.items()}
    for row in recent[:8]:
        household = session.scalar(select(Resident.household_id).where(Resident.id == resident_of[row.plan_id]))
        label = rules.PROBLEM_CATEGORIES[row.problem_category]
        report = intake.submit_internal(
            session,
            category="needs_help",
            description=f"定点关怀走访发现问题（{label[0]} / {label[1]}）：{row.note}",
            source="定点关怀走访",
            household_id=household,
            external_ref=f"care-visit-{row.id}",
            now=row.visited_at,
        )
        # The same seed gives the same demo: a drawn token instead of the service's random one.
        token = base64.urlsafe_b64encode(rng.randbytes(9)).decode()
        session.execute(reports_table.update().where(reports_table.c.id == report.id).values(token=token))
        session.execute(CareVisit.__table__.update().where(CareVisit.id == row.id).values(report_id=report.id))
        raised += 1
    if raised:
        # A live system sweeps every minute: the raised reports have climbed the chain as far as
        # their deadlines say by now, so the demo starts with nothing overdue.
        for _ in range(MAX_RUNGS):
            if not sweep.sweep(session, now).escalated:
                break
    return len(rows), raised


def add_care(session: Session, *, seed: int = 2023, until: datetime | None = None) -> CareSummary:
    started = datetime.now(UTC)
    now = until or utcnow()
    today = now.date()
    rng = random.Random(seed * 31 + 5)
    communities = list(
        session.scalars(select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.code))
    )
    volunteer = session.scalar(select(User.id).where(User.username == "volunteer1"))
    taken: dict[int, int] = {}
    n_teams = n_members = n_hours = plans = covered = visits = reports = 0
    for unit in communities:
        c = _Community(session, unit, today)
        flagship = unit.name == FLAGSHIP
        teams = _teams(session, rng, c, FLAGSHIP_TEAMS if flagship else OTHER_TEAMS, today, taken)
        for team, spec, rows in teams:
            _skills(session, rng, rows, today)
            n_hours += _hours(session, rng, team, spec[6], rows, today)
            n_members += len(rows)
        n_teams += len(teams)
        if flagship:
            plans, covered, visits, reports = _care(session, rng, c, teams, volunteer, now)
    summary = CareSummary(n_teams, n_members, n_hours, plans, covered, visits, reports)
    audit.record(
        session,
        SYSTEM,
        "import",
        "demo_care",
        None,
        summary=(
            bilingual(
                "演示志愿与关怀",
                n_teams=n_teams,
                n_members=n_members,
                plans=plans,
                covered=covered,
                visits=visits,
                reports=reports,
            )
        ),
    )
    summary.seconds = round((datetime.now(UTC) - started).total_seconds(), 2)
    return summary
