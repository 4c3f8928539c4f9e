"""Assigning carers in one action: every pair checked first, all written or nothing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User, UserScope
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.care import assignment as opt
from renxing.care.carers import CARER_KIND_LABELS, carer_key, carer_loads, member_kind, parse_carer_key
from renxing.care.matching import covered_ids
from renxing.care.models import CareAssignment, CarerKind
from renxing.care.plans import active_plan, new_plan
from renxing.care.residents import kinds_of, needs_of, party_members, residents_by_id
from renxing.care.rules import NOTE_MAX
from renxing.config import get_settings
from renxing.errors import Collector, FieldError, Invalid, NotFound
from renxing.grid.models import GridUnit
from renxing.i18n import _, _l
from renxing.volunteers import directory as volunteers
from renxing.volunteers.skills import skills_of, valid_skills

if TYPE_CHECKING:  # types only: rows are read through the owning domain's functions
    from renxing.people.models import Resident


@dataclass
class PairIn:
    resident_id: int
    carer: str  # "m<member id>" or "u<user id>"
    carer_kind: str | None = None
    reason: str | None = None


MAX_PAIRS = 5000
# A carer key that names nobody suitable: the message and the kind a plan would have had.
NO_SUCH_CARER = {
    "m": _l("照护人不存在或不属于该居民所在社区"),
    "u": _l("该居民所在网格没有这位网格员"),
}
FALLBACK_KIND = {"m": CarerKind.volunteer, "u": CarerKind.grid_worker}


@dataclass
class CarerFit:
    """A carer as the checks see them: where they may care, what they can do, how many in all."""

    name: str
    kind: str  # the carer kind an assignment gets unless the pair names one
    places: tuple[str, ...]  # grid paths a resident of theirs must lie in (none: nowhere)
    skills: frozenset[str]
    limit: int


@dataclass
class Checks:
    """What every pair is checked against, loaded once; and what the pairs so far have used."""

    residents: dict[int, Resident]
    covered: set[int]
    loads: dict[str, int]
    carers: dict[str, CarerFit]
    today: date
    seen: set[int] = field(default_factory=set)
    added: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def assign(
    session: Session, actor: Principal, pairs: list[PairIn], *, today: date | None = None
) -> list[CareAssignment]:
    """Apply a whole proposal (or a hand-made list) in one action: every pair is checked first
    (scope, already covered, carer in the resident's community, needed skills, the carer's limit);
    any error → 422 naming the pair's field and nothing is written."""
    actor.require(Perm.care_write)
    today = today or date.today()
    if not pairs:
        raise Invalid(_("没有要安排的照护"), [FieldError("pairs", "empty")])
    if len(pairs) > MAX_PAIRS:
        raise Invalid(_("一次最多 5000 对"), [FieldError("pairs", "too many")])
    checks = _load_checks(session, actor, pairs, today)
    errors = Collector()
    kinds = [_check_pair(i, p, checks, errors) for i, p in enumerate(pairs)]
    errors.raise_if_any(_("照护安排有误，未做任何更改"))
    return [_write(session, actor, p, kind, checks) for p, kind in zip(pairs, kinds, strict=True)]


def _load_checks(session: Session, actor: Principal, pairs: list[PairIn], today: date) -> Checks:
    """The residents (each in scope, else 404), who is covered, carers' loads and the named carers."""
    residents = residents_by_id(session, [p.resident_id for p in pairs])
    for p in pairs:
        r = residents.get(p.resident_id)
        if r is None or r.deleted_at is not None or not actor.covers_path(r.path):
            raise NotFound(_("居民 {resident_id} 不存在").format(resident_id=p.resident_id))
    keys = [k for p in pairs if (k := parse_carer_key(p.carer)) is not None]
    carers = {
        **_member_fits(session, [i for kind, i in keys if kind == "m"], today),
        **_grid_worker_fits(session, [i for kind, i in keys if kind == "u"]),
    }
    return Checks(residents, covered_ids(session, list(residents), today), carer_loads(session, today), carers, today)


def _member_fits(session: Session, member_ids: list[int], today: date) -> dict[str, CarerFit]:
    """Team members: they care within their team's community while both are active."""
    rows = volunteers.members_with_teams(session, member_ids)
    skills = skills_of(session, [m.id for m, _ in rows])
    party = party_members(session, [m.resident_id for m, _ in rows if m.resident_id])
    return {
        carer_key(member_id=m.id): CarerFit(
            m.name,
            member_kind(team, m.resident_id in party),
            (team.path,) if m.active and team.active else (),
            valid_skills(skills.get(m.id, []), today),
            m.max_care,
        )
        for m, team in rows
    }


def _grid_worker_fits(session: Session, user_ids: list[int]) -> dict[str, CarerFit]:
    """Users: only grid workers care, within their own grid units, up to the configured limit."""
    if not user_ids:
        return {}
    places: dict[int, list[str]] = defaultdict(list)
    for uid, path in session.execute(
        select(UserScope.user_id, GridUnit.path)
        .join(GridUnit, GridUnit.id == UserScope.unit_id)
        .where(UserScope.user_id.in_(user_ids))
    ):
        places[uid].append(path)
    limit = get_settings().care_grid_worker_max
    return {
        carer_key(user_id=u.id): CarerFit(
            u.display_name or u.username,
            CarerKind.grid_worker,
            tuple(places[u.id]) if Role(u.role) is Role.grid_worker else (),
            frozenset(),
            limit,
        )
        for u in session.scalars(select(User).where(User.id.in_(user_ids)))
    }


def _check_pair(i: int, p: PairIn, checks: Checks, errors: Collector) -> str:
    """Every error of one pair, in the order a reader fixes them; the carer kind it would get."""
    f, row = f"pairs[{i}]", i + 1
    _check_resident(f, row, p, checks, errors)
    kind = p.carer_kind
    if kind is not None and kind not in CARER_KIND_LABELS:
        errors.add(f"{f}.carer_kind", _("须为 {join} 之一").format(join=", ".join(CarerKind)), row, kind)
    key = parse_carer_key(p.carer)
    if key is None:
        errors.add(f"{f}.carer", _("照护人无效（m队员号 或 u用户号）"), row, p.carer)
        return kind or CarerKind.volunteer
    resident = checks.residents[p.resident_id]
    fit = checks.carers.get(carer_key(*_ids(key)))
    if fit is None or not any(resident.path.startswith(place) for place in fit.places):
        errors.add(f"{f}.carer", NO_SUCH_CARER[key[0]], row, p.carer)
        return kind or FALLBACK_KIND[key[0]]
    _check_fit(f, row, p, resident, fit, checks, errors)
    return kind or fit.kind


def _ids(key: tuple[str, int]) -> tuple[int | None, int | None]:
    return (key[1], None) if key[0] == "m" else (None, key[1])


def _check_resident(f: str, row: int, p: PairIn, checks: Checks, errors: Collector) -> None:
    if p.resident_id in checks.seen:
        errors.add(f"{f}.resident_id", _("同一居民出现两次"), row, p.resident_id)
    checks.seen.add(p.resident_id)
    if p.resident_id in checks.covered:
        errors.add(f"{f}.resident_id", _("该居民已有照护人"), row, p.resident_id)
    if not kinds_of(checks.residents[p.resident_id], checks.today):
        errors.add(f"{f}.resident_id", _("该居民不属于关怀对象"), row, p.resident_id)
    if p.reason and len(p.reason) > NOTE_MAX:
        errors.add(f"{f}.reason", _("说明过长（{note_max}）").format(note_max=NOTE_MAX), row)


def _check_fit(
    f: str, row: int, p: PairIn, resident: Resident, fit: CarerFit, checks: Checks, errors: Collector
) -> None:
    """The carer holds every needed skill and stays within their limit, counting this request."""
    name = fit.name
    missing = sorted(set(needs_of(resident)) - fit.skills)
    if missing:
        errors.add(
            f"{f}.carer",
            _("{name} 缺少所需技能：{skills}").format(name=name, skills=opt.skill_list(missing)),
            row,
            p.carer,
        )
    checks.added[p.carer] += 1
    if checks.loads.get(p.carer, 0) + checks.added[p.carer] > fit.limit:
        errors.add(
            f"{f}.carer",
            _("{name} 超出照护上限 {limit} 人").format(name=name, limit=fit.limit),
            row,
            p.carer,
        )


def _write(session: Session, actor: Principal, p: PairIn, kind: str, checks: Checks) -> CareAssignment:
    """One checked pair: the resident's active plan (opened if none) gets the carer."""
    r = checks.residents[p.resident_id]
    plan = active_plan(session, r.id) or new_plan(session, actor, r, checks.today)
    key = parse_carer_key(p.carer)
    assert key is not None
    member_id, user_id = _ids(key)
    a = CareAssignment(
        plan_id=plan.id,
        carer_kind=kind,
        member_id=member_id,
        user_id=user_id,
        since=checks.today,
        reason=(p.reason or "").strip() or None,
        created_by=actor.user_id,
    )
    session.add(a)
    session.flush()
    audit.record(session, actor, "create", "care_assignment", a.id, after=audit.snapshot(a))
    return a
