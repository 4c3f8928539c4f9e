"""Demo partners, a year of drills and trainings with attendance, and public ratings.

The flagship community keeps the paper's pace (about 140 activities a year, close to 90 % of
residents reached, a few buildings lagging); the others hold fewer. Ratings come only from
residents who received the service (took part in an activity the organization ran or joined,
had a report handled by it, or had care visits from the team), in realistic proportions.
Everything is drawn from the seed; the step takes a few seconds.
"""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from renxing.auth.models import User
from renxing.care.models import CarePlan, CareVisit
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.drills.models import Activity, ActivityPartner, ActivityTarget, Attendance
from renxing.evaluation.models import Rating
from renxing.evaluation.periods import period_of
from renxing.events.models import Report
from renxing.grid.models import GridUnit, Level
from renxing.partners.models import Organization
from renxing.people.models import Resident
from renxing.volunteers.models import TeamMember, VolunteerTeam

FLAGSHIP_ACTIVITIES = 140  # a year, the paper's figure
OTHER_ACTIVITIES = (36, 60)
# Kind → (share of activities, hazards, partner kinds that usually join)
KINDS: dict[str, tuple[float, tuple[str, ...], tuple[str, ...]]] = {
    "lecture": (0.38, ("fire", "flood", "gas", "earthquake", "epidemic", "heat"), ("social_org", "police")),
    "first_aid_training": (0.2, ("general",), ("clinic", "social_org")),
    "fire_drill": (0.17, ("fire", "gas"), ("fire_brigade", "property_company")),
    "evacuation_drill": (0.15, ("earthquake", "fire", "flood"), ("police", "property_company", "fire_brigade")),
    "tabletop": (0.1, ("flood", "typhoon", "gas"), ("police", "fire_brigade")),
}
TITLES = {
    "lecture": ["{h}安全知识宣讲", "{h}风险防范讲座", "社区{h}安全宣传进楼栋", "{h}应急常识课堂"],
    "first_aid_training": ["心肺复苏与AED培训", "家庭急救技能培训", "老年人跌倒急救培训", "止血包扎培训"],
    "fire_drill": ["楼栋消防演练", "灭火器使用演练", "燃气泄漏处置演练", "电动车火灾处置演练"],
    "evacuation_drill": ["{h}应急疏散演练", "全社区{h}疏散演练", "楼栋{h}疏散演练"],
    "tabletop": ["{h}应急预案桌面推演", "防汛防台桌面推演", "燃气事故桌面推演"],
}
HAZARD_ZH = {
    "fire": "消防",
    "flood": "防汛",
    "gas": "燃气",
    "earthquake": "地震",
    "epidemic": "传染病防控",
    "heat": "防暑",
    "typhoon": "防台",
    "general": "综合",
}
PLACES = ["社区党群服务中心", "社区广场", "小区中心花园", "社区活动室", "{b}楼前空地", "社区卫生服务站"]
GOOD = ["服务很及时，谢谢", "讲解清楚，很实用", "工作人员很耐心", "希望多组织几次", "老人也学会了"]
MIDDLE = ["总体还行", "时间安排可以再合理些", "内容有点多，记不住", "通知晚了一点"]
BAD = ["响应太慢", "电话打了好几次才来", "活动流于形式", "没有解决问题"]


@dataclass
class DrillsSummary:
    organizations: int
    activities: int
    attendance: int
    ratings: int
    flagship_reach: float


def _communities(session: Session) -> list[GridUnit]:
    return list(
        session.scalars(select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.code))
    )


def _org_specs(community: GridUnit, compounds: list[GridUnit], flagship: bool) -> list[tuple[str, str, str]]:
    short = community.name.removesuffix("社区")
    specs = [
        ("清溪路派出所" + short + "警务室", "police", "社区民警驻点、治安宣传、反诈宣传"),
        ("鼓楼区消防救援站清溪路站", "fire_brigade", "消防演练、灭火器培训、隐患检查"),
        (f"{short}社区卫生服务站", "clinic", "急救培训、慢病随访、上门巡诊"),
    ]
    for c in compounds[:2]:
        specs.append((f"{c.name}物业服务中心", "property_company", "设施维修、楼道清理、疏散通道管理"))
    # The high-rise's property company is the one the closed loop routes repairs to.
    specs.append((f"{short}物业服务中心", "property_company", "小区设施维修、消防设施维护"))
    specs.append((f"{short}益邻社工服务站", "social_org", "独居老人关爱、心理疏导、邻里互助"))
    if flagship:
        specs += [
            ("红十字应急救护服务队", "social_org", "急救培训、应急救护"),
            ("金陵防灾减灾志愿者协会", "social_org", "防灾宣传、演练策划"),
            ("桂花小学", "school", "应急避难场所、学生安全教育"),
            ("苏果社区超市", "enterprise", "应急物资储备、生活保障"),
        ]
    seen: set[str] = set()
    return [s for s in specs if not (s[0] in seen or seen.add(s[0]))]


def add_drills(session: Session, *, seed: int = 2023, until: datetime | None = None) -> DrillsSummary:
    """Write partners, a year of activities with attendance, and ratings, in the caller's transaction."""
    rng = random.Random(f"{seed}-drills")
    np_rng = np.random.default_rng(abs(hash_seed(seed)))
    tz = ZoneInfo(get_settings().timezone)
    now = (until or utcnow()).replace(second=0, microsecond=0)
    communities = _communities(session)
    if not communities:
        return DrillsSummary(0, 0, 0, 0, 0.0)
    flagship = max(communities, key=lambda c: _count(session, c.path))
    partner_user = session.scalar(select(User.id).where(User.username == "partner1"))

    # Partners.
    orgs_by_comm: dict[int, list[Organization]] = {}
    for c in communities:
        compounds = list(
            session.scalars(
                select(GridUnit)
                .where(GridUnit.parent_id == c.id, GridUnit.level == Level.compound.value)
                .order_by(GridUnit.code)
            )
        )
        orgs = []
        for name, kind, services in _org_specs(c, compounds, c.id == flagship.id):
            o = Organization(
                unit_id=c.id,
                path=c.path,
                name=name,
                kind=kind,
                contact_name=rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(["主任", "经理", "站长", "警官", "老师"]),
                contact_phone=f"025-{rng.randint(5000_0000, 8999_9999)}",
                services=services,
                user_id=partner_user if (c.id == flagship.id and kind == "enterprise") else None,
                active=True,
            )
            session.add(o)
            orgs.append(o)
        orgs_by_comm[c.id] = orgs
    session.flush()

    # Buildings, areas and residents of each community (compact).
    buildings = list(
        session.execute(select(GridUnit.id, GridUnit.path, GridUnit.name).where(GridUnit.level == "building"))
    )
    areas = list(session.execute(select(GridUnit.id, GridUnit.path).where(GridUnit.level == "area")))
    residents = list(
        session.execute(select(Resident.id, Resident.path, Resident.bedridden).where(Resident.deleted_at.is_(None)))
    )
    teams_by_path: dict[str, list[int]] = defaultdict(list)
    for tid, tpath in session.execute(
        select(VolunteerTeam.id, VolunteerTeam.path).where(VolunteerTeam.active.is_(True))
    ):
        teams_by_path[tpath].append(tid)

    activities: list[dict[str, Any]] = []
    partner_rows: list[tuple[int, int]] = []  # (activity index, org id)
    target_rows: list[tuple[int, int]] = []  # (activity index, unit id)
    kinds = list(KINDS)
    weights = [KINDS[k][0] for k in kinds]
    for c in communities:
        n = FLAGSHIP_ACTIVITIES if c.id == flagship.id else rng.randint(*OTHER_ACTIVITIES)
        c_buildings = [b for b in buildings if b.path.startswith(c.path)]
        c_areas = [a for a in areas if a.path.startswith(c.path)]
        orgs = orgs_by_comm[c.id]
        # Spread over the past year, a few planned in the coming six weeks; weekends and evenings favoured.
        for i in range(n + max(2, n // 12)):
            future = i >= n
            day = now - timedelta(days=rng.uniform(1, 364)) if not future else now + timedelta(days=rng.uniform(2, 42))
            local = day.astimezone(tz)
            hour = rng.choice([9, 9, 10, 14, 15, 19])
            starts = local.replace(hour=hour, minute=rng.choice([0, 30]), second=0, microsecond=0).astimezone(
                now.tzinfo
            )
            kind = rng.choices(kinds, weights)[0]
            _, hazards, partner_kinds = KINDS[kind]
            hazard = rng.choice(hazards)
            building = rng.choice(c_buildings) if c_buildings else None
            title = rng.choice(TITLES[kind]).format(h=HAZARD_ZH[hazard])
            status = "planned" if future or starts > now else ("cancelled" if rng.random() < 0.03 else "done")
            team_ids = teams_by_path.get(c.path, [])
            activities.append(
                {
                    "unit_id": c.id,
                    "path": c.path,
                    "kind": kind,
                    "hazard": hazard,
                    "title": title,
                    "starts_at": starts,
                    "ends_at": starts + timedelta(minutes=rng.choice([60, 90, 120, 150])),
                    "place": rng.choice(PLACES).format(b=building.name if building else ""),
                    "place_unit_id": None,
                    "organizer_team_id": rng.choice(team_ids) if team_ids and rng.random() < 0.35 else None,
                    "status": status,
                    "notes": None,
                    "created_at": starts - timedelta(days=rng.randint(5, 20)),
                    "updated_at": starts - timedelta(days=1),
                }
            )
            idx = len(activities) - 1
            candidates = [o for o in orgs if o.kind in partner_kinds]
            for o in rng.sample(candidates, k=min(len(candidates), rng.choice([0, 1, 1, 2]))):
                partner_rows.append((idx, o.id))
            r = rng.random()
            if r < 0.2 and building is not None:
                target_rows.append((idx, building.id))
                activities[idx]["place_unit_id"] = building.id
            elif r < 0.35 and c_areas:
                target_rows.append((idx, rng.choice(c_areas).id))

    rows = activities
    ids = [
        row_id
        for (row_id,) in session.execute(insert(Activity).returning(Activity.id, sort_by_parameter_order=True), rows)
    ]
    if partner_rows:
        session.execute(
            insert(ActivityPartner), [{"activity_id": ids[i], "organization_id": o} for i, o in partner_rows]
        )
    if target_rows:
        session.execute(
            ActivityTarget.__table__.insert(), [{"activity_id": ids[i], "unit_id": u} for i, u in target_rows]
        )

    # Attendance: each building has a reach propensity; the flagship is close to 90 % with a few
    # buildings lagging, the others lower. A reached resident attends one to several activities.
    targets_of: dict[int, list[str]] = defaultdict(list)
    unit_path = {u.id: u.path for u in buildings} | {a.id: a.path for a in areas}
    for i, u in target_rows:
        targets_of[i].append(unit_path[u])
    held = [i for i, a in enumerate(activities) if a["status"] == "done"]
    by_comm_held: dict[str, list[int]] = defaultdict(list)
    for i in held:
        by_comm_held[activities[i]["path"]].append(i)
    propensity: dict[str, float] = {}
    for b in buildings:
        base = 0.985 if b.path.startswith(flagship.path) else rng.uniform(0.35, 0.65)
        lag = rng.random() < (0.12 if b.path.startswith(flagship.path) else 0.2)
        propensity[b.path] = base * (rng.uniform(0.5, 0.75) if lag else rng.uniform(0.93, 1.0))
    attendance: list[dict[str, Any]] = []
    attended_by: dict[int, set[int]] = defaultdict(set)  # resident → activity indexes
    comm_of = {c.path: c for c in communities}
    fitting_at: dict[str, list[int]] = {}  # building path → activities that fit its residents
    for rid, rpath, bedridden in residents:
        if rpath not in fitting_at:
            cpath = next((p for p in comm_of if rpath.startswith(p)), "")
            # Activities aimed at the building, its area, or the whole community.
            fitting_at[rpath] = [
                i
                for i in by_comm_held.get(cpath, [])
                if not targets_of[i] or any(rpath.startswith(t) for t in targets_of[i])
            ]
        fitting = fitting_at[rpath]
        if not fitting:
            continue
        p = propensity.get(rpath, 0.5) * (0.35 if bedridden else 1.0)
        if np_rng.random() >= p:
            continue
        k = min(len(fitting), 1 + int(np_rng.poisson(1.6)))
        for i in rng.sample(fitting, k):
            attended_by[rid].add(i)
    methods = ["qr"] * 6 + ["list"] * 3 + ["staff"]
    for rid, idxs in attended_by.items():
        for i in idxs:
            attendance.append(
                {
                    "activity_id": ids[i],
                    "resident_id": rid,
                    "signed_at": activities[i]["starts_at"] + timedelta(minutes=rng.randint(-20, 40)),
                    "method": rng.choice(methods),
                    "recorded_by": None,
                }
            )
    for start in range(0, len(attendance), 5000):
        session.execute(Attendance.__table__.insert(), attendance[start : start + 5000])

    ratings = _ratings(session, rng, now, activities, ids, partner_rows, attended_by)
    in_flagship = [r for r in residents if r.path.startswith(flagship.path)]
    reached = sum(1 for r in in_flagship if r.id in attended_by)
    return DrillsSummary(
        organizations=sum(len(v) for v in orgs_by_comm.values()),
        activities=len(activities),
        attendance=len(attendance),
        ratings=ratings,
        flagship_reach=round(reached / len(in_flagship), 3) if in_flagship else 0.0,
    )


def hash_seed(seed: int) -> int:
    # A stable seed for numpy (Python's hash() of a str changes between runs).
    return seed * 1_000_003 + 77


def _count(session: Session, path: str) -> int:
    return (
        session.scalar(select(func.count(Resident.id)).where(Resident.path >= path, Resident.path < path + "\uffff"))
        or 0
    )


def _score(rng: random.Random, mu: float) -> int:
    return max(1, min(5, round(rng.gauss(mu, 0.8))))


def _ratings(
    session: Session,
    rng: random.Random,
    now: datetime,
    activities: list[dict[str, Any]],
    ids: list[int],
    partner_rows: list[tuple[int, int]],
    attended_by: dict[int, set[int]],
) -> int:
    """Ratings from residents who were served; most never rate (fewer than one in ten after an
    activity, more after a report or regular care visits)."""
    partners_of: dict[int, list[int]] = defaultdict(list)
    for i, o in partner_rows:
        partners_of[i].append(o)
    team_of = {i: a["organizer_team_id"] for i, a in enumerate(activities) if a["organizer_team_id"]}
    quality: dict[tuple[str, int], float] = {}
    paths = {rid: path for rid, path in session.execute(select(Resident.id, Resident.path))}
    served: dict[tuple[int, str, int], tuple[datetime, str]] = {}  # (resident, kind, target) → when, basis

    def serve(rid: int, kind: str, target: int, when: datetime, basis: str) -> None:
        key = (rid, kind, target)
        if key not in served or served[key][0] < when:
            served[key] = (when, basis)

    for rid, idxs in attended_by.items():
        for i in idxs:
            for o in partners_of.get(i, []):
                serve(rid, "organization", o, activities[i]["ends_at"], "activity")
            if i in team_of:
                serve(rid, "team", team_of[i], activities[i]["ends_at"], "activity")
    # Reports handled by a partner organization (routed or transferred to it by name).
    orgs = {o.name: o.id for o in session.scalars(select(Organization))}
    residents_of_user = {
        uid: rid for uid, rid in session.execute(select(User.id, User.resident_id).where(User.resident_id.is_not(None)))
    }
    since = now - timedelta(days=365)
    for user_id, label, created in session.execute(
        select(Report.reporter_user_id, Report.handler_label, Report.created_at).where(
            Report.handler_kind == "partner", Report.reporter_user_id.is_not(None), Report.created_at >= since
        )
    ):
        name = (label or "").split("（")[0]
        if name in orgs and user_id in residents_of_user:
            serve(residents_of_user[user_id], "organization", orgs[name], created, "report")
    # Care visits by members of a team (when the care demo has run).
    for rid, team_id, visited in session.execute(
        select(CarePlan.resident_id, TeamMember.team_id, CareVisit.visited_at)
        .join(CarePlan, CarePlan.id == CareVisit.plan_id)
        .join(TeamMember, TeamMember.id == CareVisit.member_id)
        .where(CareVisit.visited_at >= since)
    ):
        serve(rid, "team", team_id, visited, "care_visit")

    rows = []
    for (rid, kind, target), (when, basis) in sorted(served.items()):
        chance = {"care_visit": 0.3, "report": 0.4, "activity": 0.08}[basis]
        if rng.random() >= chance or rid not in paths:
            continue
        mu = quality.setdefault((kind, target), rng.uniform(3.1, 4.6))
        at = min(now, when + timedelta(days=rng.uniform(0, 20)))
        v, q, r = _score(rng, mu + 0.1), _score(rng, mu), _score(rng, mu - 0.25)
        mean = (v + q + r) / 3
        comment = None
        if rng.random() < 0.3:
            comment = rng.choice(GOOD if mean >= 4 else MIDDLE if mean >= 3 else BAD)
        rows.append(
            {
                "resident_id": rid,
                "path": paths[rid],
                "target_kind": kind,
                "target_id": target,
                "team_id": target if kind == "team" else None,
                "organization_id": target if kind == "organization" else None,
                "period": period_of(at),
                "variety": v,
                "quality": q,
                "responsiveness": r,
                "comment": comment,
                "basis": basis,
                "created_at": at,
                "updated_at": at,
            }
        )
    if rows:
        session.execute(Rating.__table__.insert(), rows)
    return len(rows)
