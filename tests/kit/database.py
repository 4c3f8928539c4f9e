"""Putting a test database back to the state a fresh migration leaves it in."""

from sqlalchemy import Engine, Table, literal, select, union_all

from renxing.db import Base, transaction
from renxing.events.defaults import install_defaults
from renxing.events.models import EventCategory, ReportState, ReportTransition, RoutingRule, SeverityDeadline
from renxing.response.defaults import install_defaults as install_modes
from renxing.response.models import ModeState, ModeTransition
from renxing.supplies.defaults import install_defaults as install_supply_catalogue
from renxing.supplies.models import ItemNeed, SupplyItem
from renxing.warning.defaults import install_defaults as install_warning_levels
from renxing.warning.models import WarningLevel

# The configuration the migrations seed; a test that changes it gets it put back.
SEEDED: list[Table] = [
    m.__table__
    for m in (
        EventCategory,
        SeverityDeadline,
        ReportState,
        ReportTransition,
        RoutingRule,
        SupplyItem,
        ItemNeed,
        WarningLevel,
        ModeState,
        ModeTransition,
    )
]
# The seeded rows as the last installation left them, per database.
_as_installed: dict[str, dict[str, list]] = {}


def _rows(conn, table: Table) -> list:
    return list(conn.execute(select(table).order_by(*table.primary_key.columns)))


def wipe(engine: Engine) -> None:
    """Empty every table, then put back the configuration the migrations seed (categories,
    deadlines, the report state machine, default routing rules, the supplies catalogue), as a fresh
    database has it. A wipe runs before and after every test, so it is kept cheap: one query finds
    the tables that hold rows and only those are emptied, and the seeded configuration is kept as
    it is when no test changed it (compared row for row with what the last installation wrote)."""
    key = engine.url.render_as_string()
    tables = Base.metadata.sorted_tables
    with engine.begin() as conn:
        probe = union_all(*[select(literal(t.name)).where(select(literal(1)).select_from(t).exists()) for t in tables])
        full = set(conn.execute(probe).scalars())
        seen = _as_installed.get(key)
        keep = seen is not None and all(_rows(conn, t) == seen[t.name] for t in SEEDED)
        for table in reversed(tables):
            if table.name in full and not (keep and table in SEEDED):
                conn.execute(table.delete())
    if keep:
        return
    with transaction(engine) as session:
        install_defaults(session)
        install_supply_catalogue(session)
        install_warning_levels(session)
        install_modes(session)
    with engine.connect() as conn:
        _as_installed[key] = {t.name: _rows(conn, t) for t in SEEDED}
