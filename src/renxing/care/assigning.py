"""Assigning carers in one action: every pair checked first, all written or nothing."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User, UserScope
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.care import assignment as opt
from renxing.care.carers import CARER_KIND_LABELS, carer_loads, member_kind, parse_carer_key
from renxing.care.matching import covered_ids
from renxing.care.models import CareAssignment, CarerKind
from renxing.care.plans import active_plan, new_plan
from renxing.care.residents import kinds_of, needs_of
from renxing.care.rules import NOTE_MAX
from renxing.config import get_settings
from renxing.errors import Collector, FieldError, Invalid, NotFound
from renxing.grid.models import GridUnit
from renxing.people.models import Resident
from renxing.volunteers.models import TeamMember, VolunteerTeam
from renxing.volunteers.service import skills_of, valid_skills


@dataclass
class PairIn:
    resident_id: int
    carer: str  # "m<member id>" or "u<user id>"
    carer_kind: str | None = None
    reason: str | None = None


def assign(
    session: Session, actor: Principal, pairs: list[PairIn], *, today: date | None = None
) -> list[CareAssignment]:
    """Apply a whole proposal (or a hand-made list) in one action: every pair is checked first
    (scope, already covered, carer in the resident's community, needed skills, the carer's limit);
    any error → 422 naming the pair's field and nothing is written."""
    actor.require(Perm.care_write)
    today = today or date.today()
    settings = get_settings()
    errors = Collector()
    if not pairs:
        raise Invalid("没有要安排的照护 / nothing to assign", [FieldError("pairs", "empty")])
    if len(pairs) > 5000:
        raise Invalid("一次最多 5000 对 / at most 5000 pairs", [FieldError("pairs", "too many")])
    residents = {
        r.id: r for r in session.scalars(select(Resident).where(Resident.id.in_([p.resident_id for p in pairs])))
    }
    for p in pairs:
        r = residents.get(p.resident_id)
        if r is None or r.deleted_at is not None or not actor.covers_path(r.path):
            raise NotFound(f"居民不存在 / resident {p.resident_id} not found")
    covered = covered_ids(session, list(residents), today)
    loads = carer_loads(session, today)
    members: dict[int, tuple[TeamMember, VolunteerTeam]] = {}
    member_ids = [k[1] for p in pairs if (k := parse_carer_key(p.carer)) and k[0] == "m"]
    for m, t in session.execute(
        select(TeamMember, VolunteerTeam)
        .join(VolunteerTeam, VolunteerTeam.id == TeamMember.team_id)
        .where(TeamMember.id.in_(member_ids))
    ):
        members[m.id] = (m, t)
    skills = skills_of(session, list(members))
    member_res = {
        r.id: r
        for r in session.scalars(
            select(Resident).where(Resident.id.in_([m.resident_id for m, _ in members.values() if m.resident_id]))
        )
    }
    user_ids = [k[1] for p in pairs if (k := parse_carer_key(p.carer)) and k[0] == "u"]
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    user_paths: dict[int, list[str]] = defaultdict(list)
    if user_ids:
        for uid, path in session.execute(
            select(UserScope.user_id, GridUnit.path)
            .join(GridUnit, GridUnit.id == UserScope.unit_id)
            .where(UserScope.user_id.in_(user_ids))
        ):
            user_paths[uid].append(path)
    seen: set[int] = set()
    added: dict[str, int] = defaultdict(int)
    plan_kind: list[str] = []
    for i, p in enumerate(pairs):
        r = residents[p.resident_id]
        f = f"pairs[{i}]"
        if p.resident_id in seen:
            errors.add(f"{f}.resident_id", "同一居民出现两次 / the same resident twice", i + 1, p.resident_id)
        seen.add(p.resident_id)
        if p.resident_id in covered:
            errors.add(f"{f}.resident_id", "该居民已有照护人 / the resident already has a carer", i + 1, p.resident_id)
        if not kinds_of(r, today):
            errors.add(
                f"{f}.resident_id",
                "该居民不属于关怀对象 / the resident is not in a vulnerable group",
                i + 1,
                p.resident_id,
            )
        if p.reason and len(p.reason) > NOTE_MAX:
            errors.add(f"{f}.reason", f"说明过长 / reason too long ({NOTE_MAX})", i + 1)
        key = parse_carer_key(p.carer)
        kind = p.carer_kind
        if kind is not None and kind not in CARER_KIND_LABELS:
            errors.add(f"{f}.carer_kind", f"须为 / must be one of {', '.join(CarerKind)}", i + 1, kind)
        if key is None:
            errors.add(
                f"{f}.carer",
                "照护人无效（m队员号 或 u用户号）/ carer must be m<member id> or u<user id>",
                i + 1,
                p.carer,
            )
            plan_kind.append(kind or CarerKind.volunteer)
            continue
        needs = set(needs_of(r))
        if key[0] == "m":
            mt = members.get(key[1])
            if mt is None or not mt[0].active or not mt[1].active or not r.path.startswith(mt[1].path):
                errors.add(
                    f"{f}.carer",
                    "照护人不存在或不属于该居民所在社区 / no such carer in the resident's community",
                    i + 1,
                    p.carer,
                )
                plan_kind.append(kind or CarerKind.volunteer)
                continue
            m, team = mt
            have = valid_skills(skills.get(m.id, []), today)
            limit = m.max_care
            kind = kind or member_kind(m, team, member_res.get(m.resident_id) if m.resident_id else None)
            name = m.name
        else:
            u = users.get(key[1])
            if (
                u is None
                or Role(u.role) is not Role.grid_worker
                or not any(r.path.startswith(path) for path in user_paths[u.id])
            ):
                errors.add(
                    f"{f}.carer",
                    "该居民所在网格没有这位网格员 / no such grid worker for the resident's area",
                    i + 1,
                    p.carer,
                )
                plan_kind.append(kind or CarerKind.grid_worker)
                continue
            have = frozenset()
            limit = settings.care_grid_worker_max
            kind = kind or CarerKind.grid_worker
            name = u.display_name or u.username
        missing = sorted(needs - have)
        if missing:
            labels = "、".join(opt.skill_label(s)[0] for s in missing)
            errors.add(
                f"{f}.carer",
                f"{name} 缺少所需技能：{labels} / {name} lacks the needed skill: {', '.join(missing)}",
                i + 1,
                p.carer,
            )
        added[p.carer] += 1
        if loads.get(p.carer, 0) + added[p.carer] > limit:
            errors.add(
                f"{f}.carer",
                f"{name} 超出照护上限 {limit} 人 / {name} would exceed their limit of {limit}",
                i + 1,
                p.carer,
            )
        plan_kind.append(kind)
    errors.raise_if_any("照护安排有误，未做任何更改 / the assignment has errors; nothing was changed")
    out = []
    for p, kind in zip(pairs, plan_kind, strict=True):
        r = residents[p.resident_id]
        plan = active_plan(session, r.id) or new_plan(session, actor, r, today)
        key = parse_carer_key(p.carer)
        assert key is not None
        a = CareAssignment(
            plan_id=plan.id,
            carer_kind=kind,
            member_id=key[1] if key[0] == "m" else None,
            user_id=key[1] if key[0] == "u" else None,
            since=today,
            reason=(p.reason or "").strip() or None,
            created_by=actor.user_id,
        )
        session.add(a)
        session.flush()
        audit.record(session, actor, "create", "care_assignment", a.id, after=audit.snapshot(a))
        out.append(a)
    return out
