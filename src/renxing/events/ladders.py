"""The escalation ladder above places: who a report climbs to when it is overdue.

    ladder(session, unit_id, household_id)      the rungs above one place (an escalation by hand)
    unit_ladders(session, unit_ids, on)         levels 2–5 of the chain above each unit, in one pass
    household_rungs(session, household_ids, on) level 1, the party member linked to each household

The sweep climbs thousands of reports at once, so these read the chain for many places in a
few queries instead of one place at a time. A rung keeps the first holder with an active
account as the user to notify; a level whose holders have none is still a rung (its label
shows who holds it) but nobody is told.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from renxing.auth.models import User
from renxing.events.deadlines import LADDER_DUTIES, LEVEL_OF_DUTY, Rung
from renxing.events.lookups import active_users
from renxing.events.routing import DUTY_ZH
from renxing.grid import service as grid_service
from renxing.grid.models import GridUnit, Household, Responsibility
from renxing.grid.scope import path_ids

CHUNK = 5000  # ids per query


def _chunks(values: Iterable[int], n: int = CHUNK) -> Iterable[list[int]]:
    items = list(values)
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _active_on(on: date):
    return and_(Responsibility.start_date <= on, or_(Responsibility.end_date.is_(None), Responsibility.end_date >= on))


def _active_user_ids(session: Session, ids: set[int]) -> set[int]:
    out: set[int] = set()
    for chunk in _chunks(ids):
        out |= set(session.scalars(select(User.id).where(User.id.in_(chunk), User.is_active.is_(True))))
    return out


def unit_ladders(session: Session, unit_ids: Iterable[int], on: date) -> dict[int, list[Rung]]:
    """For each unit, the chain levels 2–5 above it that have someone, in one pass.

    Reads the responsibility table directly: the grid service answers for one place at a
    time, and the sweep needs thousands at once.
    """
    paths: dict[int, str] = {}
    for chunk in _chunks(unit_ids):
        paths.update(session.execute(select(GridUnit.id, GridUnit.path).where(GridUnit.id.in_(chunk))).all())
    above = {a for p in paths.values() for a in path_ids(p)}
    names: dict[int, str] = {}
    held: dict[tuple[int, str], list[tuple[str, int | None]]] = defaultdict(list)
    for chunk in _chunks(above):
        names.update(session.execute(select(GridUnit.id, GridUnit.name).where(GridUnit.id.in_(chunk))).all())
        rows = session.execute(
            select(Responsibility.unit_id, Responsibility.duty, Responsibility.person_name, Responsibility.user_id)
            .where(Responsibility.unit_id.in_(chunk), Responsibility.duty.in_(LADDER_DUTIES[1:]), _active_on(on))
            .order_by(Responsibility.id)
        )
        for unit_id, duty, person, user_id in rows:
            held[(unit_id, duty)].append((person, user_id))
    users = _active_user_ids(session, {u for people in held.values() for _, u in people if u})
    rungs_at: dict[int, list[Rung]] = {}
    for (unit_id, duty), people in held.items():
        with_account = [u for _, u in people if u in users]
        label = f"{names.get(unit_id, '')} {DUTY_ZH[duty]} {'、'.join(p for p, _ in people)}"
        rung = Rung(LEVEL_OF_DUTY[duty], duty, label, with_account[0] if with_account else None)
        rungs_at.setdefault(unit_id, []).append(rung)
    out: dict[int, list[Rung]] = {}
    for unit_id, path in paths.items():
        by_level: dict[int, Rung] = {}
        for a in reversed(path_ids(path)):  # nearest unit first: it wins a level it shares
            for rung in rungs_at.get(a, []):
                by_level.setdefault(rung.level, rung)
        out[unit_id] = sorted(by_level.values(), key=lambda r: r.level)
    return out


def household_rungs(session: Session, household_ids: Iterable[int], on: date) -> dict[int, Rung]:
    """Level 1, the party member linked to each household (联系户党员), where there is one."""
    people: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
    labels: dict[int, str] = {}
    for chunk in _chunks(household_ids):
        rows = session.execute(
            select(Responsibility.household_id, Responsibility.person_name, Responsibility.user_id)
            .where(Responsibility.household_id.in_(chunk), Responsibility.duty == "party_member", _active_on(on))
            .order_by(Responsibility.id)
        )
        for hh, person, user_id in rows:
            people[hh].append((person, user_id))
        if people:
            for hh, unit_no, room in session.execute(
                select(Household.id, Household.unit_no, Household.room).where(Household.id.in_(chunk))
            ):
                labels[hh] = f"{unit_no}单元{room}"
    users = _active_user_ids(session, {u for ps in people.values() for _, u in ps if u})
    out = {}
    for hh, ps in people.items():
        with_account = [u for _, u in ps if u in users]
        label = f"{labels.get(hh, '')} {DUTY_ZH['party_member']} {'、'.join(p for p, _ in ps)}"
        out[hh] = Rung(1, "party_member", label, with_account[0] if with_account else None)
    return out


def ladder(session: Session, unit_id: int, household_id: int | None, on: date | None = None) -> list[Rung]:
    """The five-level chain above a place as escalation rungs (only levels that have someone)."""
    links = grid_service.chain(session, unit_id=unit_id, household_id=household_id, on=on)
    users = active_users(session, {p.user_id for link in links for p in link.people if p.user_id})
    rungs = []
    for link in links:
        level = LEVEL_OF_DUTY.get(link.duty.value)
        if level is None or not link.people:
            continue
        with_account = [p for p in link.people if p.user_id in users]
        names = "、".join(p.person_name for p in link.people)
        label = f"{link.unit_name} {DUTY_ZH[link.duty.value]} {names}"
        rungs.append(Rung(level, link.duty.value, label, with_account[0].user_id if with_account else None))
    return rungs
