"""report schedule: the sweep's narrow side table; cache versions bumped by triggers

Moves the columns the escalation sweep rewrites (``next_due_at``, ``escalation_level``,
``escalated_to_user_id``, ``escalated_to_label``, ``escalated_at``) out of the wide
``reports`` rows into ``report_schedule`` (one row per report, backfilled here), and adds
``cache_versions``: tokens that triggers change whenever the tables behind the per-process
outline and routing caches change, from any process and any kind of statement.

On SQLite the column drop rebuilds ``reports``; ``renxing.migrate`` runs migrations with
foreign keys off there, so that the rebuild cannot cascade into the timeline.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from renxing.db import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVED = "next_due_at, escalation_level, escalated_to_user_id, escalated_to_label, escalated_at"

# (table, the caches it feeds, the columns whose update matters or None for any)
WATCHED: list[tuple[str, tuple[str, ...], tuple[str, ...] | None]] = [
    ("grid_units", ("grid", "routing"), None),
    ("routing_rules", ("routing",), None),
    ("responsibilities", ("routing",), None),
    ("user_scopes", ("routing",), None),
    ("event_categories", ("routing",), None),
    ("severity_deadlines", ("routing",), None),
    ("users", ("routing",), ("role", "is_active", "display_name", "phone")),
    ("households", ("routing",), ("building_id", "unit_no", "room", "path")),
]
# Inserting households never changes a decision already cached (it is keyed by household).
INSERT_IGNORED = {"households"}


def _foreign_keys_off() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        # Rebuilding a table that others reference would delete their rows (ON DELETE CASCADE).
        raise RuntimeError("run this migration through renxing.migrate (SQLite foreign keys must be off)")


def _create_triggers() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION renxing_bump_cache() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO cache_versions (name, version)
                SELECT n, floor(random() * 9007199254740991)::bigint FROM unnest(TG_ARGV) AS n
                ON CONFLICT (name) DO UPDATE SET version = excluded.version;
                RETURN NULL;
            END $$
            """
        )
        for table, names, columns in WATCHED:
            events = ["DELETE", f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"]
            if table not in INSERT_IGNORED:
                events.insert(0, "INSERT")
            if columns is None:
                events.append("TRUNCATE")
            args = ", ".join(f"'{n}'" for n in names)
            op.execute(
                f"CREATE TRIGGER trg_cache_{table} AFTER {' OR '.join(events)} ON {table}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION renxing_bump_cache({args})"
            )
        return
    for table, names, columns in WATCHED:
        values = ", ".join(f"('{n}', random())" for n in names)
        body = (
            f"INSERT INTO cache_versions (name, version) VALUES {values}"
            " ON CONFLICT (name) DO UPDATE SET version = excluded.version;"
        )
        events = {"del": "DELETE", "upd": f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"}
        if table not in INSERT_IGNORED:
            events["ins"] = "INSERT"
        for suffix, event in events.items():
            op.execute(f"CREATE TRIGGER trg_cache_{table}_{suffix} AFTER {event} ON {table} BEGIN {body} END")


def _drop_triggers() -> None:
    bind = op.get_bind()
    for table, _names, _columns in WATCHED:
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS trg_cache_{table} ON {table}")
        else:
            for suffix in ("ins", "upd", "del"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_cache_{table}_{suffix}")
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS renxing_bump_cache()")


def upgrade() -> None:
    _foreign_keys_off()
    op.create_table(
        "report_schedule",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("next_due_at", UTCDateTime(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_to_user_id", sa.Integer(), nullable=True),
        sa.Column("escalated_to_label", sa.String(length=160), nullable=True),
        sa.Column("escalated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["escalated_to_user_id"], ["users.id"], name=op.f("fk_report_schedule_escalated_to_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_schedule_report_id_reports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_report_schedule")),
    )
    op.execute(f"INSERT INTO report_schedule (report_id, {MOVED}) SELECT id, {MOVED} FROM reports")
    op.create_index(
        op.f("ix_report_schedule_escalated_to_user_id"), "report_schedule", ["escalated_to_user_id"], unique=False
    )
    op.create_index(
        "ix_report_schedule_next_due_at",
        "report_schedule",
        ["next_due_at"],
        unique=False,
        postgresql_where=sa.text("next_due_at IS NOT NULL"),
        sqlite_where=sa.text("next_due_at IS NOT NULL"),
    )
    op.drop_index("ix_reports_next_due_at", table_name="reports")
    op.drop_index(op.f("ix_reports_escalated_to_user_id"), table_name="reports")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_reports_escalated_to_user_id_users"), type_="foreignkey")
        for column in MOVED.split(", "):
            batch_op.drop_column(column)

    op.create_table(
        "cache_versions",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cache_versions")),
    )
    op.execute("INSERT INTO cache_versions (name, version) VALUES ('grid', 1), ('routing', 1)")
    _create_triggers()


def downgrade() -> None:
    _foreign_keys_off()
    _drop_triggers()
    op.drop_table("cache_versions")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("escalated_to_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("escalated_to_label", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("next_due_at", UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_reports_escalated_to_user_id_users"), "users", ["escalated_to_user_id"], ["id"]
        )
    for column in MOVED.split(", "):
        op.execute(
            f"UPDATE reports SET {column} = (SELECT s.{column} FROM report_schedule s WHERE s.report_id = reports.id)"
            f" WHERE EXISTS (SELECT 1 FROM report_schedule s WHERE s.report_id = reports.id)"
        )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column("escalation_level", server_default=None)
    op.create_index(op.f("ix_reports_escalated_to_user_id"), "reports", ["escalated_to_user_id"], unique=False)
    op.create_index(
        "ix_reports_next_due_at",
        "reports",
        ["next_due_at"],
        unique=False,
        postgresql_where=sa.text("next_due_at IS NOT NULL"),
        sqlite_where=sa.text("next_due_at IS NOT NULL"),
    )
    op.drop_index("ix_report_schedule_next_due_at", table_name="report_schedule")
    op.drop_index(op.f("ix_report_schedule_escalated_to_user_id"), table_name="report_schedule")
    op.drop_table("report_schedule")
