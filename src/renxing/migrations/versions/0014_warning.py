"""early warning: the colour → CAP table (seeded), alerts received with their matched communities and
the feeds polled, warnings sent, their targets per household, deliveries per household × channel,
the climbs of the unreached up the chain

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from renxing.db import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of the colour → CAP table (a migration must not change when the code does);
# warning.defaults agrees. (code, rank, 中文, English, severity, urgency, certainty, approval, step minutes)
LEVELS = [
    ("blue", 1, "蓝色", "Blue", "Minor", "Expected", "Likely", False, 60),
    ("yellow", 2, "黄色", "Yellow", "Moderate", "Expected", "Likely", False, 45),
    ("orange", 3, "橙色", "Orange", "Severe", "Expected", "Likely", True, 30),
    ("red", 4, "红色", "Red", "Extreme", "Immediate", "Likely", True, 15),
]


def upgrade() -> None:
    op.create_table(
        "alert_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_polled_at", UTCDateTime(), nullable=True),
        sa.Column("last_ok_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=200), nullable=True),
        sa.Column("modified", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_feeds")),
        sa.UniqueConstraint("url", name=op.f("uq_alert_feeds_url")),
    )
    op.create_table(
        "warning_levels",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(length=20), nullable=False),
        sa.Column("name_en", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("certainty", sa.String(length=16), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("step_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_warning_levels")),
    )
    op.create_table(
        "incoming_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("sent", UTCDateTime(), nullable=False),
        sa.Column("sent_text", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("msg_type", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("references", sa.Text(), nullable=True),
        sa.Column("event", sa.String(length=200), nullable=True),
        sa.Column("headline", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=20), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=True),
        sa.Column("certainty", sa.String(length=16), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=True),
        sa.Column("effective", UTCDateTime(), nullable=True),
        sa.Column("expires", UTCDateTime(), nullable=True),
        sa.Column("area_desc", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("feed_entry", sa.String(length=500), nullable=True),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("received_by", sa.Integer(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["alert_feeds.id"], name=op.f("fk_incoming_alerts_feed_id_alert_feeds"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["received_by"], ["users.id"], name=op.f("fk_incoming_alerts_received_by_users")),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["incoming_alerts.id"],
            name=op.f("fk_incoming_alerts_superseded_by_id_incoming_alerts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_alerts")),
        sa.UniqueConstraint("identifier", "sender", "sent", name="uq_incoming_alerts_key"),
    )
    op.create_index("ix_incoming_alerts_feed_entry", "incoming_alerts", ["feed_id", "feed_entry"], unique=False)
    op.create_table(
        "incoming_alert_matches",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["incoming_alerts.id"],
            name=op.f("fk_incoming_alert_matches_alert_id_incoming_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["grid_units.id"], name=op.f("fk_incoming_alert_matches_unit_id_grid_units")
        ),
        sa.PrimaryKeyConstraint("alert_id", "unit_id", name=op.f("pk_incoming_alert_matches")),
    )
    op.create_index(op.f("ix_incoming_alert_matches_path"), "incoming_alert_matches", ["path"], unique=False)
    op.create_table(
        "warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=120), nullable=False),
        sa.Column("msg_type", sa.String(length=8), nullable=False),
        sa.Column("references_id", sa.Integer(), nullable=True),
        sa.Column("incoming_alert_id", sa.Integer(), nullable=True),
        sa.Column("trigger_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("event", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("headline", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("polygon", sa.Text(), nullable=True),
        sa.Column("area_desc", sa.String(length=300), nullable=False),
        sa.Column("effective", UTCDateTime(), nullable=True),
        sa.Column("expires", UTCDateTime(), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("sent_text", sa.String(length=40), nullable=True),
        sa.Column("cap_xml", sa.Text(), nullable=True),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("acknowledged", sa.Integer(), nullable=False),
        sa.Column("next_climb_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["approved_by"], ["users.id"], name=op.f("fk_warnings_approved_by_users")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_warnings_created_by_users")),
        sa.ForeignKeyConstraint(
            ["incoming_alert_id"],
            ["incoming_alerts.id"],
            name=op.f("fk_warnings_incoming_alert_id_incoming_alerts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["references_id"], ["warnings.id"], name=op.f("fk_warnings_references_id_warnings")),
        sa.ForeignKeyConstraint(["unit_id"], ["grid_units.id"], name=op.f("fk_warnings_unit_id_grid_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warnings")),
        sa.UniqueConstraint("identifier", name=op.f("uq_warnings_identifier")),
    )
    op.create_index(op.f("ix_warnings_next_climb_at"), "warnings", ["next_climb_at"], unique=False)
    op.create_index("ix_warnings_path_id", "warnings", ["path", "id"], unique=False)
    op.create_index(op.f("ix_warnings_sent_at"), "warnings", ["sent_at"], unique=False)
    op.create_index(op.f("ix_warnings_status"), "warnings", ["status"], unique=False)
    op.create_index(op.f("ix_warnings_unit_id"), "warnings", ["unit_id"], unique=False)
    op.create_table(
        "warning_climbs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warning_id", sa.Integer(), nullable=False),
        sa.Column("rung", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["warning_id"], ["warnings.id"], name=op.f("fk_warning_climbs_warning_id_warnings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_climbs")),
    )
    op.create_index(op.f("ix_warning_climbs_warning_id"), "warning_climbs", ["warning_id"], unique=False)
    op.create_table(
        "warning_targets",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("warning_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("vulnerability", sa.Integer(), nullable=False),
        sa.Column("door_to_door", sa.Boolean(), nullable=False),
        sa.Column("rung", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("ack_how", sa.String(length=16), nullable=True),
        sa.Column("ack_by", sa.Integer(), nullable=True),
        sa.Column("ack_note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["ack_by"], ["users.id"], name=op.f("fk_warning_targets_ack_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_targets")),
        sa.UniqueConstraint("warning_id", "household_id", name="uq_warning_targets_household"),
    )
    op.create_index(
        "ix_warning_targets_warning_building", "warning_targets", ["warning_id", "building_id"], unique=False
    )
    op.create_table(
        "warning_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("warning_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=14), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("gateway_ref", sa.String(length=120), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_deliveries")),
        sa.UniqueConstraint("target_id", "channel", name="uq_warning_deliveries_target_channel"),
    )
    op.create_index(op.f("ix_warning_deliveries_gateway_ref"), "warning_deliveries", ["gateway_ref"], unique=False)
    op.create_index(
        "ix_warning_deliveries_state_next", "warning_deliveries", ["state", "next_attempt_at"], unique=False
    )
    op.create_index("ix_warning_deliveries_warning", "warning_deliveries", ["warning_id", "state"], unique=False)
    levels = sa.table(
        "warning_levels",
        *(sa.column(c) for c in ("code", "rank", "name_zh", "name_en", "severity", "urgency", "certainty")),
        sa.column("needs_approval", sa.Boolean()),
        sa.column("step_minutes", sa.Integer()),
    )
    keys = ("code", "rank", "name_zh", "name_en", "severity", "urgency", "certainty", "needs_approval", "step_minutes")
    op.bulk_insert(levels, [dict(zip(keys, row, strict=True)) for row in LEVELS])


def downgrade() -> None:
    op.drop_table("warning_deliveries")
    op.drop_table("warning_targets")
    op.drop_table("warning_climbs")
    op.drop_table("warnings")
    op.drop_table("incoming_alert_matches")
    op.drop_table("incoming_alerts")
    op.drop_table("warning_levels")
    op.drop_table("alert_feeds")
