"""Grid units as other domains read them: the units of a level under a subtree, a unit by id.

No permission check here: the calling service has checked its own (the warehouse listing a
community's areas for days of autonomy, a kit point naming its building).
"""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.grid.models import GridUnit
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
