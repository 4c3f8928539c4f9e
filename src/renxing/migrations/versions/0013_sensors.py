"""sensors: devices with their credentials, readings (one per device and moment), rules per kind, each
rule's state per device, and the triggers raised

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from renxing.db import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sensor_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("measure_unit", sa.String(length=16), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("credential_hash", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_since", UTCDateTime(), nullable=True),
        sa.Column("last_reading_at", UTCDateTime(), nullable=True),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["grid_units.id"], name=op.f("fk_sensor_devices_unit_id_grid_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_devices")),
        sa.UniqueConstraint("code", name=op.f("uq_sensor_devices_code")),
    )
    op.create_index(op.f("ix_sensor_devices_kind"), "sensor_devices", ["kind"], unique=False)
    op.create_index("ix_sensor_devices_path_id", "sensor_devices", ["path", "id"], unique=False)
    op.create_index(op.f("ix_sensor_devices_unit_id"), "sensor_devices", ["unit_id"], unique=False)
    op.create_table(
        "sensor_readings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("measured_at", UTCDateTime(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["sensor_devices.id"],
            name=op.f("fk_sensor_readings_device_id_sensor_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_readings")),
        sa.UniqueConstraint("device_id", "measured_at", name="uq_sensor_readings_device_moment"),
    )
    op.create_table(
        "sensor_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("rule_type", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("clear_at", sa.Float(), nullable=True),
        sa.Column("rate_per_minute", sa.Float(), nullable=True),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("snooze_minutes", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_sensor_rules_created_by_users")),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["sensor_devices.id"],
            name=op.f("fk_sensor_rules_device_id_sensor_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_rules")),
    )
    op.create_index(op.f("ix_sensor_rules_kind"), "sensor_rules", ["kind"], unique=False)
    op.create_index(op.f("ix_sensor_rules_path"), "sensor_rules", ["path"], unique=False)
    op.create_table(
        "sensor_rule_states",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("triggered", sa.Boolean(), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=True),
        sa.Column("last_raised_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["sensor_devices.id"],
            name=op.f("fk_sensor_rule_states_device_id_sensor_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["sensor_rules.id"],
            name=op.f("fk_sensor_rule_states_rule_id_sensor_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "device_id", name=op.f("pk_sensor_rule_states")),
    )
    op.create_table(
        "sensor_triggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("triggered_at", UTCDateTime(), nullable=False),
        sa.Column("cleared_at", UTCDateTime(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["sensor_devices.id"],
            name=op.f("fk_sensor_triggers_device_id_sensor_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["sensor_rules.id"], name=op.f("fk_sensor_triggers_rule_id_sensor_rules"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_triggers")),
    )
    op.create_index("ix_sensor_triggers_device_at", "sensor_triggers", ["device_id", "triggered_at"], unique=False)
    op.create_index(op.f("ix_sensor_triggers_path"), "sensor_triggers", ["path"], unique=False)


def downgrade() -> None:
    op.drop_table("sensor_triggers")
    op.drop_table("sensor_rule_states")
    op.drop_table("sensor_rules")
    op.drop_table("sensor_readings")
    op.drop_table("sensor_devices")
