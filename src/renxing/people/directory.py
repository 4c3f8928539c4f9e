"""Residents of the register as other domains look them up, without querying its table.

No permission check and no masking here: the calling service has checked its own and masks what
it shows (drills matching a sign-in or a sign-in sheet to a resident of the community, evaluation
finding the rater, the grid counting who lives under its units). Removed residents (``deleted_at``
set) are never returned.
"""

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from renxing.grid.scope import subtree_clause
from renxing.people.models import Resident

CHUNK = 500  # names per query: far below every database's limit on bound parameters


def living_resident(session: Session, resident_id: int) -> Resident | None:
    """A resident of the register, None when missing or removed."""
    r = session.get(Resident, resident_id)
    return None if r is None or r.deleted_at is not None else r


def residents_named(session: Session, under_path: str, names: Iterable[str]) -> list[Resident]:
    """The residents living under a grid path whose name is one of ``names``."""
    wanted = sorted(set(names))
    found: list[Resident] = []
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        found += session.scalars(
            select(Resident).where(
                subtree_clause(Resident.path, under_path), Resident.deleted_at.is_(None), Resident.name.in_(chunk)
            )
        )
    return found


def residents_by_name_and_phone_end(
    session: Session, under_path: str, name: str, digits: str, *, limit: int = 20
) -> list[Resident]:
    """The residents living under a grid path with this exact name whose phone ends in ``digits``."""
    stmt = select(Resident).where(
        subtree_clause(Resident.path, under_path),
        Resident.deleted_at.is_(None),
        Resident.name == name,
        Resident.phone.like(f"%{digits}"),
    )
    return list(session.scalars(stmt.limit(limit)))


def resident_path(session: Session, resident_id: int) -> str | None:
    """The building path of a resident, removed ones too (records kept elsewhere still belong to
    the place they lived); None when there is no such resident."""
    return session.scalar(select(Resident.path).where(Resident.id == resident_id))


def residents_under(session: Session, paths: list[str]) -> dict[str, int]:
    """How many residents live in each subtree, from one query grouped by building path (a
    few hundred rows for a street), so the grid's tree shows its counts without a join."""
    out = dict.fromkeys(paths, 0)
    if not paths:
        return out
    rows = session.execute(
        select(Resident.path, func.count(Resident.id))
        .where(or_(*[subtree_clause(Resident.path, p) for p in paths]), Resident.deleted_at.is_(None))
        .group_by(Resident.path)
    )
    for building_path, n in rows:
        for p in paths:
            if building_path.startswith(p):
                out[p] += n
    return out


def household_sizes(session: Session, household_ids: list[int]) -> dict[int, int]:
    """How many residents live in each household (households without anyone are left out)."""
    found: dict[int, int] = {}
    for start in range(0, len(household_ids), CHUNK):
        chunk = household_ids[start : start + CHUNK]
        stmt = (
            select(Resident.household_id, func.count(Resident.id))
            .where(Resident.household_id.in_(chunk), Resident.deleted_at.is_(None))
            .group_by(Resident.household_id)
        )
        found.update({hid: n for hid, n in session.execute(stmt)})
    return found


def need_groups(session: Session, paths: list[str], today: date) -> dict[str, dict[str, int]]:
    """How many residents of each subtree fall in the groups whose needs differ (counts only):
    ``everyone``; ``vulnerable`` (aged 80 and over, disabled, chronically ill, pregnant, with special
    needs, or bedridden); ``bedridden``; ``infants`` (under 3). One query grouped by building path."""
    zero = {"everyone": 0, "vulnerable": 0, "bedridden": 0, "infants": 0}
    out = {p: dict(zero) for p in paths}
    if not paths:
        return out
    aged80 = date(today.year - 80, today.month, min(today.day, 28))
    infant = date(today.year - 3, today.month, min(today.day, 28))
    vulnerable = or_(
        Resident.birth_date <= aged80,
        Resident.disability_kind.is_not(None),
        Resident.chronic_illness.is_not(None),
        Resident.pregnant.is_(True),
        Resident.special_needs.is_not(None),
        Resident.bedridden.is_(True),
    )
    rows = session.execute(
        select(
            Resident.path,
            func.count(Resident.id),
            func.sum(case((vulnerable, 1), else_=0)),
            func.sum(case((Resident.bedridden.is_(True), 1), else_=0)),
            func.sum(case((Resident.birth_date > infant, 1), else_=0)),
        )
        .where(or_(*[subtree_clause(Resident.path, p) for p in paths]), Resident.deleted_at.is_(None))
        .group_by(Resident.path)
    )
    for building_path, n, vul, bed, inf in rows:
        for p in paths:
            if building_path.startswith(p):
                tally = out[p]
                tally["everyone"] += n
                tally["vulnerable"] += int(vul or 0)
                tally["bedridden"] += int(bed or 0)
                tally["infants"] += int(inf or 0)
    return out


def _aged_on(today: date, years: int) -> date:
    """The latest birth date of someone ``years`` old today (29 February falls back to the 28th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def household_vulnerability(session: Session, under_path: str, today: date) -> dict[int, int]:
    """A score per household under a grid path with vulnerable residents (counts only, no names):
    each living resident adds one for each of aged 80 and over, living alone, disabled,
    chronically ill, pregnant, an infant (under 3), with special needs (oxygen, dialysis, a
    wheelchair), and two for bedridden. Households with nobody vulnerable are left out. One query
    grouped by household."""
    aged80, infant = _aged_on(today, 80), _aged_on(today, 3)

    def one(condition) -> Any:
        return case((condition, 1), else_=0)

    score = (
        one(Resident.birth_date <= aged80)
        + one(Resident.living_alone.is_(True))
        + one(Resident.disability_kind.is_not(None))
        + one(Resident.chronic_illness.is_not(None))
        + one(Resident.pregnant.is_(True))
        + one(Resident.birth_date > infant)
        + one(Resident.special_needs.is_not(None))
        + 2 * one(Resident.bedridden.is_(True))
    )
    vulnerable = or_(
        Resident.birth_date <= aged80,
        Resident.birth_date > infant,
        Resident.living_alone.is_(True),
        Resident.disability_kind.is_not(None),
        Resident.special_needs.is_not(None),
        Resident.chronic_illness.is_not(None),
        Resident.pregnant.is_(True),
        Resident.bedridden.is_(True),
    )
    stmt = (
        select(Resident.household_id, func.sum(score))
        .where(subtree_clause(Resident.path, under_path), Resident.deleted_at.is_(None), vulnerable)
        .group_by(Resident.household_id)
    )
    return {hid: int(n) for hid, n in session.execute(stmt) if n}


def household_phones(session: Session, household_ids: Iterable[int], today: date) -> dict[int, str]:
    """One phone per household to send a warning to: its first adult (18 or over, or of unknown
    age) with a phone, householder first, then by register order. Households without one are left
    out. The caller audits the use of the numbers it sends to and never logs them."""
    adult = _aged_on(today, 18)
    ids = sorted(set(household_ids))
    found: dict[int, str] = {}
    householder = case((Resident.relation == "户主", 0), else_=1)
    for start in range(0, len(ids), CHUNK):
        stmt = (
            select(Resident.household_id, Resident.phone)
            .where(
                Resident.household_id.in_(ids[start : start + CHUNK]),
                Resident.deleted_at.is_(None),
                Resident.phone.is_not(None),
                Resident.phone != "",
                or_(Resident.birth_date.is_(None), Resident.birth_date <= adult),
            )
            .order_by(Resident.household_id, householder, Resident.id)
        )
        for hid, phone in session.execute(stmt):
            found.setdefault(hid, phone)
    return found


def residents_of_households(session: Session, household_ids: Iterable[int]) -> dict[int, list[int]]:
    """The ids of the living residents of each household, by household (empty ones left out)."""
    ids = sorted(set(household_ids))
    found: dict[int, list[int]] = {}
    for start in range(0, len(ids), CHUNK):
        stmt = (
            select(Resident.household_id, Resident.id)
            .where(Resident.household_id.in_(ids[start : start + CHUNK]), Resident.deleted_at.is_(None))
            .order_by(Resident.household_id, Resident.id)
        )
        for hid, rid in session.execute(stmt):
            found.setdefault(hid, []).append(rid)
    return found
