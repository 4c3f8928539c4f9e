"""What the space analyses need from the resident register and the households: counts, never a person.

This is the one module of ``space`` that reads the people domain's tables. Exposure, the 让防避
checks, evacuation plans and the printed map need the residents living in each building, area or
hazard zone — thousands per community — and a plan needs them per mobility class. Counting is done
in SQL, grouped by building (a few hundred rows come back instead of thousands of records), and the
register's service functions return records, which would cost a round trip per building or a full
load of the register. The callers check the actor's rights first; nothing here is shown unmasked.
"""

from collections import defaultdict
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import subtree_clause
from renxing.people.models import Resident
from renxing.people.service import tags_of


def _living_in(path: str) -> tuple:
    """Residents of the subtree at ``path`` who live there and were not removed."""
    return (subtree_clause(Resident.path, path), Resident.deleted_at.is_(None), Resident.lives_here.is_(True))


def residents_by_area(session: Session, community: GridUnit) -> dict[str, int]:
    """Residents living here per area path of the community (the area's subtree)."""
    areas = session.scalars(
        select(GridUnit.path).where(GridUnit.level == Level.area.value, subtree_clause(GridUnit.path, community.path))
    ).all()
    counts = dict(
        session.execute(
            select(Resident.path, func.count()).where(*_living_in(community.path)).group_by(Resident.path)
        ).all()
    )
    return {a: sum(n for p, n in counts.items() if p.startswith(a)) for a in areas}


def residents_by_building(session: Session, community_path: str) -> dict[int, int]:
    """Residents living in each building of the community."""
    stmt = (
        select(Household.building_id, func.count())
        .join(Resident, Resident.household_id == Household.id)
        .where(*_living_in(community_path))
        .group_by(Household.building_id)
    )
    return {bid: n for bid, n in session.execute(stmt)}


def mobility_tallies(
    session: Session, community_path: str, aged_born_by: date
) -> list[tuple[int, str | None, bool, bool, int]]:
    """(building id, mobility, bedridden, aged, persons) for the residents of the community, where
    ``aged`` means born on or before ``aged_born_by``."""
    aged = case((Resident.birth_date <= aged_born_by, True), else_=False)
    rows = session.execute(
        select(Household.building_id, Resident.mobility, Resident.bedridden, aged, func.count())
        .join(Resident, Resident.household_id == Household.id)
        .where(*_living_in(community_path))
        .group_by(Household.building_id, Resident.mobility, Resident.bedridden, aged)
    )
    return [(bid, mobility, bool(bedridden), bool(is_aged), n) for bid, mobility, bedridden, is_aged, n in rows]


def people_in_buildings(session: Session, building_ids: list[int]) -> tuple[dict[int, dict[str, int]], list[list[str]]]:
    """Households and residents living in each building, and each resident's vulnerability tags."""
    per_building: dict[int, dict[str, int]] = defaultdict(lambda: {"households": 0, "residents": 0})
    tag_lists: list[list[str]] = []
    if not building_ids:
        return per_building, tag_lists
    for bid, n in session.execute(
        select(Household.building_id, func.count())
        .where(Household.building_id.in_(building_ids))
        .group_by(Household.building_id)
    ):
        per_building[bid]["households"] = n
    rows = session.execute(
        select(Household.building_id, Resident)
        .join(Resident, Resident.household_id == Household.id)
        .where(Household.building_id.in_(building_ids), Resident.deleted_at.is_(None), Resident.lives_here.is_(True))
    )
    for bid, r in rows:
        per_building[bid]["residents"] += 1
        tag_lists.append([t.value for t in tags_of(r)])
    return per_building, tag_lists
