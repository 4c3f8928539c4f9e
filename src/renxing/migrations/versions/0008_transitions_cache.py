"""the transition table joins the routing cache token

Which actions a report's state allows is read on every report shown and every intake
answered; the events cache keeps it per process under the ``routing`` token, so a change
to ``report_transitions`` (from any process, ORM or plain SQL) must replace that token too.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 20:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "report_transitions"
BUMP = (
    "INSERT INTO cache_versions (name, version) VALUES ('routing', random())"
    " ON CONFLICT (name) DO UPDATE SET version = excluded.version;"
)
SQLITE_EVENTS = {"ins": "INSERT", "upd": "UPDATE", "del": "DELETE"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # renxing_bump_cache() comes from migration 0004.
        op.execute(
            f"CREATE TRIGGER trg_cache_{TABLE} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {TABLE}"
            " FOR EACH STATEMENT EXECUTE FUNCTION renxing_bump_cache('routing')"
        )
        return
    for suffix, event in SQLITE_EVENTS.items():
        op.execute(f"CREATE TRIGGER trg_cache_{TABLE}_{suffix} AFTER {event} ON {TABLE} BEGIN {BUMP} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS trg_cache_{TABLE} ON {TABLE}")
        return
    for suffix in SQLITE_EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS trg_cache_{TABLE}_{suffix}")
