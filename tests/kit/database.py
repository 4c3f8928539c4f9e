"""Putting a test database back to the state a fresh migration leaves it in."""

from sqlalchemy import Engine, literal, select, union_all

from renxing.db import Base, transaction
from renxing.events.defaults import install_defaults
from renxing.supplies import defaults as supply_defaults
from renxing.supplies.models import ItemNeed, SupplyItem

CATALOGUE = {SupplyItem.__tablename__, ItemNeed.__tablename__}


def _catalogue_as_seeded(conn) -> bool:
    """Whether the supplies catalogue is exactly what the migration seeds (most tests leave it so)."""
    items = {
        row[0]: tuple(row)
        for row in conn.execute(
            select(*[SupplyItem.__table__.c[c] for c in supply_defaults.COLUMNS], SupplyItem.active)
        )
    }
    want = {row[0]: (*row, True) for row in supply_defaults.ITEMS}
    if items != want:
        return False
    ids = dict(conn.execute(select(SupplyItem.code, SupplyItem.id)).all())
    needs = sorted(
        conn.execute(select(ItemNeed.item_id, ItemNeed.group, ItemNeed.quantity, ItemNeed.daily, ItemNeed.source)).all()
    )
    return needs == sorted((ids[code], g, q, d, src) for code, g, q, d, src in supply_defaults.NEEDS)


def wipe(engine: Engine) -> None:
    """Empty every table, then put back the configuration the migrations seed (categories,
    deadlines, the report state machine, default routing rules, the supplies catalogue), as a fresh
    database has it. Only the tables that hold rows are emptied (one query finds them), and the
    supplies catalogue is kept when no test changed it: a wipe runs before and after every test."""
    tables = Base.metadata.sorted_tables
    with engine.begin() as conn:
        probe = union_all(*[select(literal(t.name)).where(select(literal(1)).select_from(t).exists()) for t in tables])
        full = set(conn.execute(probe).scalars())
        keep = CATALOGUE if full >= CATALOGUE and _catalogue_as_seeded(conn) else set()
        for table in reversed(tables):
            if table.name in full and table.name not in keep:
                conn.execute(table.delete())
    with transaction(engine) as session:
        install_defaults(session)
        if not keep:
            supply_defaults.install_defaults(session)
