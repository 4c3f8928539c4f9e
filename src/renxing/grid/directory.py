"""Grid units as other domains read them: the units of a level under a subtree, a unit by id.

No permission check here: the calling service has checked its own (the warehouse listing a
community's areas for days of autonomy, a kit point naming its building).
"""

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from renxing.grid.models import Duty, GridUnit, Household, Level, Responsibility
from renxing.grid.scope import subtree_clause


def unit(session: Session, unit_id: int) -> GridUnit | None:
    return session.get(GridUnit, unit_id)


def units_under(session: Session, path: str, level: str) -> list[GridUnit]:
    """The units of ``level`` in the subtree at ``path``, in code order."""
    stmt = (
        select(GridUnit)
        .where(subtree_clause(GridUnit.path, path), GridUnit.level == level)
        .order_by(GridUnit.code, GridUnit.id)
    )
    return list(session.scalars(stmt))


def unit_names(session: Session, unit_ids: Iterable[int]) -> dict[int, str]:
    """The names of these units by id (missing ids are left out)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    return {i: n for i, n in session.execute(select(GridUnit.id, GridUnit.name).where(GridUnit.id.in_(ids)))}


def building_points(session: Session, path: str) -> list[tuple[int, float | None, float | None]]:
    """The buildings of the subtree at ``path`` as (id, lon, lat), one plain query (no ORM rows)."""
    stmt = select(GridUnit.id, GridUnit.lon, GridUnit.lat).where(
        subtree_clause(GridUnit.path, path), GridUnit.level == Level.building
    )
    return [(i, lon, lat) for i, lon, lat in session.execute(stmt)]


def households_under(session: Session, path: str) -> Sequence[tuple[int, int, str]]:
    """The households of the subtree at ``path`` as (id, building id, building path), in id order,
    one plain query (no ORM rows)."""
    stmt = (
        select(Household.id, Household.building_id, Household.path)
        .where(subtree_clause(Household.path, path))
        .order_by(Household.id)
    )
    return session.execute(stmt).all()  # rows unpack like tuples


def communities_with_outlines(session: Session) -> list[tuple[GridUnit, str | None]]:
    """Every community (its outline, point and code) with its street's code, in code order: what
    matching an incoming alert's areas to communities reads."""
    street = aliased(GridUnit)
    stmt = (
        select(GridUnit, street.code)
        .outerjoin(street, street.id == GridUnit.parent_id)
        .where(GridUnit.level == "community")
        .order_by(GridUnit.code, GridUnit.id)
    )
    return [(community, code) for community, code in session.execute(stmt)]


def units_by_id(session: Session, unit_ids: Iterable[int]) -> dict[int, GridUnit]:
    """These units by id, in a few queries (missing ids are left out)."""
    ids = sorted(set(unit_ids))
    found: dict[int, GridUnit] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update({u.id: u for u in session.scalars(select(GridUnit).where(GridUnit.id.in_(chunk)))})
    return found


def duty_accounts(
    session: Session, unit_ids: Iterable[int], duties: Iterable[str], today: date
) -> dict[tuple[int, str], list[int]]:
    """The accounts holding each of ``duties`` on duty today at each unit, by (unit id, duty), in
    assignment order; holders without an account are left out. For many units at once (who a
    warning's unreached households climb to)."""
    ids, wanted = sorted(set(unit_ids)), sorted(set(duties))
    found: dict[tuple[int, str], list[int]] = {}
    for start in range(0, len(ids), 500):
        stmt = (
            select(Responsibility.unit_id, Responsibility.duty, Responsibility.user_id)
            .where(
                Responsibility.unit_id.in_(ids[start : start + 500]),
                Responsibility.duty.in_(wanted),
                Responsibility.user_id.is_not(None),
                Responsibility.start_date <= today,
                or_(Responsibility.end_date.is_(None), Responsibility.end_date >= today),
            )
            .order_by(Responsibility.id)
        )
        for unit_id, duty, user_id in session.execute(stmt):
            holders = found.setdefault((unit_id, duty), [])
            if user_id not in holders:
                holders.append(user_id)
    return found


def household_party_members(session: Session, household_ids: Iterable[int], today: date) -> dict[int, list[int]]:
    """The accounts of the party members (党员) linked to each household today, by household id
    (households without one holding an account are left out)."""
    ids = sorted(set(household_ids))
    found: dict[int, list[int]] = {}
    for start in range(0, len(ids), 500):
        stmt = (
            select(Responsibility.household_id, Responsibility.user_id)
            .where(
                Responsibility.duty == Duty.party_member,
                Responsibility.household_id.in_(ids[start : start + 500]),
                Responsibility.user_id.is_not(None),
                Responsibility.start_date <= today,
                or_(Responsibility.end_date.is_(None), Responsibility.end_date >= today),
            )
            .order_by(Responsibility.id)
        )
        for household_id, user_id in session.execute(stmt):
            found.setdefault(household_id, []).append(user_id)
    return found


def household_places(session: Session, household_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """Each household's unit number and room, by household id (the caller masks them as its reader
    needs)."""
    ids = sorted(set(household_ids))
    found: dict[int, tuple[int, str]] = {}
    for start in range(0, len(ids), 500):
        stmt = select(Household.id, Household.unit_no, Household.room).where(Household.id.in_(ids[start : start + 500]))
        found.update({i: (unit_no, room) for i, unit_no, room in session.execute(stmt)})
    return found
