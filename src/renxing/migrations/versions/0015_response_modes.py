"""operating modes: the states and the switches allowed between them (seeded), each community's
mode, the append-only history of switches, switches proposed by rule

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from renxing.db import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of the modes and their switches (a migration must not change when the code does);
# response.defaults agrees. (code, 中文, English, rank, sort order); (from, to, a reason required)
STATES = [
    ("normal", "平时", "Normal", 0, 1),
    ("alert", "预警", "Alert", 1, 2),
    ("emergency", "应急", "Emergency", 2, 3),
    ("recovery", "恢复", "Recovery", 1, 4),
]
TRANSITIONS = [
    ("normal", "alert", False),
    ("normal", "emergency", False),
    ("alert", "emergency", False),
    ("alert", "normal", True),
    ("emergency", "recovery", True),
    ("recovery", "normal", True),
    ("recovery", "emergency", True),
]


def upgrade() -> None:
    states = op.create_table(
        "mode_states",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=20), nullable=False),
        sa.Column("name_en", sa.String(length=20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_mode_states")),
    )
    transitions = op.create_table(
        "mode_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("requires_reason", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_state"], ["mode_states.code"], name=op.f("fk_mode_transitions_from_state_mode_states")
        ),
        sa.ForeignKeyConstraint(
            ["to_state"], ["mode_states.code"], name=op.f("fk_mode_transitions_to_state_mode_states")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mode_transitions")),
        sa.UniqueConstraint("from_state", "to_state", name="uq_mode_transitions_from_to"),
    )
    op.create_table(
        "community_modes",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("switched_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["state"], ["mode_states.code"], name=op.f("fk_community_modes_state_mode_states")),
        sa.ForeignKeyConstraint(["switched_by"], ["users.id"], name=op.f("fk_community_modes_switched_by_users")),
        sa.ForeignKeyConstraint(["unit_id"], ["grid_units.id"], name=op.f("fk_community_modes_unit_id_grid_units")),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_community_modes")),
    )
    op.create_index(op.f("ix_community_modes_path"), "community_modes", ["path"], unique=False)
    op.create_table(
        "mode_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_mode_proposals_decided_by_users")),
        sa.ForeignKeyConstraint(
            ["to_state"], ["mode_states.code"], name=op.f("fk_mode_proposals_to_state_mode_states")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["grid_units.id"], name=op.f("fk_mode_proposals_unit_id_grid_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mode_proposals")),
        sa.UniqueConstraint("unit_id", "source", name="uq_mode_proposals_unit_source"),
    )
    op.create_index(op.f("ix_mode_proposals_path"), "mode_proposals", ["path"], unique=False)
    op.create_index(op.f("ix_mode_proposals_status"), "mode_proposals", ["status"], unique=False)
    op.create_table(
        "mode_switches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_mode_switches_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["mode_proposals.id"], name=op.f("fk_mode_switches_proposal_id_mode_proposals")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["grid_units.id"], name=op.f("fk_mode_switches_unit_id_grid_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mode_switches")),
    )
    op.create_index(op.f("ix_mode_switches_path"), "mode_switches", ["path"], unique=False)
    op.create_index("ix_mode_switches_unit_at", "mode_switches", ["unit_id", "at"], unique=False)
    keys = ("code", "name_zh", "name_en", "rank", "sort_order")
    op.bulk_insert(states, [dict(zip(keys, row, strict=True)) for row in STATES])
    op.bulk_insert(transitions, [{"from_state": a, "to_state": b, "requires_reason": r} for a, b, r in TRANSITIONS])


def downgrade() -> None:
    op.drop_table("mode_switches")
    op.drop_table("mode_proposals")
    op.drop_table("community_modes")
    op.drop_table("mode_transitions")
    op.drop_table("mode_states")
