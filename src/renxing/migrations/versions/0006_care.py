"""volunteer teams, skills, care plans and visits

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from renxing.db import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, col: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    ref = target.split(".")[0]
    return sa.ForeignKeyConstraint([col], [target], name=op.f(f"fk_{table}_{col}_{ref}"), ondelete=ondelete)


def _indexes(table: str, *cols: str) -> None:
    with op.batch_alter_table(table) as batch_op:
        for col in cols:
            batch_op.create_index(batch_op.f(f"ix_{table}_{col}"), [col], unique=False)


def upgrade() -> None:
    op.create_table(
        "volunteer_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("leader_member_id", sa.Integer(), nullable=True),
        sa.Column("contact", sa.String(length=60), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _fk("volunteer_teams", "unit_id", "grid_units.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_teams")),
    )
    _indexes("volunteer_teams", "unit_id", "path", "kind")

    op.create_table(
        "team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("max_care", sa.Integer(), nullable=False),
        sa.Column("availability", sa.JSON(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("team_members", "team_id", "volunteer_teams.id", "CASCADE"),
        _fk("team_members", "resident_id", "residents.id"),
        _fk("team_members", "user_id", "users.id"),
        _fk("team_members", "building_id", "grid_units.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_members")),
    )
    _indexes("team_members", "team_id", "resident_id", "user_id", "building_id")
    with op.batch_alter_table("team_members") as batch_op:
        batch_op.create_index("ix_team_members_team_resident", ["team_id", "resident_id"], unique=True)

    op.create_table(
        "member_skills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=24), nullable=False),
        sa.Column("certificate_no", sa.String(length=40), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        _fk("member_skills", "member_id", "team_members.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_skills")),
    )
    _indexes("member_skills", "member_id", "skill", "expires_on")

    op.create_table(
        "service_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("activity", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("service_hours", "member_id", "team_members.id", "CASCADE"),
        _fk("service_hours", "team_id", "volunteer_teams.id", "CASCADE"),
        _fk("service_hours", "created_by", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_hours")),
    )
    _indexes("service_hours", "member_id")
    with op.batch_alter_table("service_hours") as batch_op:
        batch_op.create_index("ix_service_hours_team_served_on", ["team_id", "served_on"], unique=False)

    op.create_table(
        "care_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("frequency_days", sa.Integer(), nullable=False),
        sa.Column("needs", sa.String(length=120), nullable=True),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        _fk("care_plans", "resident_id", "residents.id"),
        _fk("care_plans", "created_by", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plans")),
    )
    _indexes("care_plans", "resident_id", "path")
    with op.batch_alter_table("care_plans") as batch_op:
        batch_op.create_index(
            "ix_care_plans_active_resident",
            ["resident_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "care_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("carer_kind", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("care_assignments", "plan_id", "care_plans.id", "CASCADE"),
        _fk("care_assignments", "member_id", "team_members.id"),
        _fk("care_assignments", "user_id", "users.id"),
        _fk("care_assignments", "created_by", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_assignments")),
    )
    _indexes("care_assignments", "plan_id", "member_id", "user_id")

    op.create_table(
        "care_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("carer_kind", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("visited_at", UTCDateTime(), nullable=False),
        sa.Column("found", sa.String(length=8), nullable=False),
        sa.Column("problem_category", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("care_visits", "plan_id", "care_plans.id", "CASCADE"),
        _fk("care_visits", "member_id", "team_members.id"),
        _fk("care_visits", "user_id", "users.id"),
        _fk("care_visits", "report_id", "reports.id"),
        _fk("care_visits", "created_by", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_visits")),
    )
    _indexes("care_visits", "member_id", "user_id")
    with op.batch_alter_table("care_visits") as batch_op:
        batch_op.create_index("ix_care_visits_plan_visited", ["plan_id", "visited_at"], unique=False)


def downgrade() -> None:
    for table in (
        "care_visits",
        "care_assignments",
        "care_plans",
        "service_hours",
        "member_skills",
        "team_members",
        "volunteer_teams",
    ):
        op.drop_table(table)
