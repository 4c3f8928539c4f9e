"""Putting a test database back to the state a fresh migration leaves it in."""

from sqlalchemy import Engine

from renxing.db import Base, transaction
from renxing.events.defaults import install_defaults
from renxing.supplies.defaults import install_defaults as install_supply_catalogue


def wipe(engine: Engine) -> None:
    """Empty every table, then put back the configuration the migrations seed (categories,
    deadlines, the report state machine, default routing rules, the supplies catalogue), as a fresh database has it."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    with transaction(engine) as session:
        install_defaults(session)
        install_supply_catalogue(session)
