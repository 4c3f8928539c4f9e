"""drills and trainings, attendance, public evaluation

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from renxing.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=op.f(f"fk_{table}_{column}_{ref_table}"),
        **({"ondelete": ondelete} if ondelete else {}),
    )


def upgrade() -> None:
    op.create_table(
        "partner_organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("contact_name", sa.String(length=60), nullable=True),
        sa.Column("contact_phone", sa.String(length=20), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("services", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _fk("partner_organizations", "unit_id", "grid_units.id"),
        _fk("partner_organizations", "user_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_organizations")),
        sa.UniqueConstraint("unit_id", "name", name="uq_partner_organizations_unit_id_name"),
    )
    op.create_index("ix_partner_organizations_path", "partner_organizations", ["path"])
    op.create_index(op.f("ix_partner_organizations_unit_id"), "partner_organizations", ["unit_id"])
    op.create_index(op.f("ix_partner_organizations_user_id"), "partner_organizations", ["user_id"])

    op.create_table(
        "drill_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("hazard", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("place_unit_id", sa.Integer(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("organizer_user_id", sa.Integer(), nullable=True),
        sa.Column("organizer_team_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _fk("drill_activities", "created_by", "users.id", "SET NULL"),
        _fk("drill_activities", "organizer_team_id", "volunteer_teams.id", "SET NULL"),
        _fk("drill_activities", "organizer_user_id", "users.id", "SET NULL"),
        _fk("drill_activities", "place_unit_id", "grid_units.id"),
        _fk("drill_activities", "unit_id", "grid_units.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_activities")),
    )
    op.create_index(op.f("ix_drill_activities_organizer_team_id"), "drill_activities", ["organizer_team_id"])
    op.create_index("ix_drill_activities_path_starts_at", "drill_activities", ["path", "starts_at"])
    op.create_index(op.f("ix_drill_activities_unit_id"), "drill_activities", ["unit_id"])

    op.create_table(
        "drill_activity_partners",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        _fk("drill_activity_partners", "activity_id", "drill_activities.id", "CASCADE"),
        _fk("drill_activity_partners", "organization_id", "partner_organizations.id", "CASCADE"),
        sa.PrimaryKeyConstraint("activity_id", "organization_id", name=op.f("pk_drill_activity_partners")),
    )
    op.create_index(op.f("ix_drill_activity_partners_organization_id"), "drill_activity_partners", ["organization_id"])
    op.create_table(
        "drill_activity_targets",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        _fk("drill_activity_targets", "activity_id", "drill_activities.id", "CASCADE"),
        _fk("drill_activity_targets", "unit_id", "grid_units.id", "CASCADE"),
        sa.PrimaryKeyConstraint("activity_id", "unit_id", name=op.f("pk_drill_activity_targets")),
    )
    op.create_table(
        "drill_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        _fk("drill_attendance", "activity_id", "drill_activities.id", "CASCADE"),
        _fk("drill_attendance", "recorded_by", "users.id", "SET NULL"),
        _fk("drill_attendance", "resident_id", "residents.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_attendance")),
        sa.UniqueConstraint("activity_id", "resident_id", name="uq_drill_attendance_activity_id_resident_id"),
    )
    op.create_index("ix_drill_attendance_resident_id_activity_id", "drill_attendance", ["resident_id", "activity_id"])

    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("variety", sa.Integer(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("responsiveness", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("quality BETWEEN 1 AND 5", name=op.f("ck_ratings_quality_range")),
        sa.CheckConstraint("responsiveness BETWEEN 1 AND 5", name=op.f("ck_ratings_responsiveness_range")),
        sa.CheckConstraint("variety BETWEEN 1 AND 5", name=op.f("ck_ratings_variety_range")),
        _fk("ratings", "organization_id", "partner_organizations.id", "CASCADE"),
        _fk("ratings", "resident_id", "residents.id", "CASCADE"),
        _fk("ratings", "team_id", "volunteer_teams.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint(
            "resident_id", "target_kind", "target_id", "period", name="uq_ratings_resident_id_target_period"
        ),
    )
    op.create_index(op.f("ix_ratings_path"), "ratings", ["path"])
    op.create_index("ix_ratings_target_period", "ratings", ["target_kind", "target_id", "period"])


def downgrade() -> None:
    for table in (
        "ratings",
        "drill_attendance",
        "drill_activity_targets",
        "drill_activity_partners",
        "drill_activities",
        "partner_organizations",
    ):
        op.drop_table(table)  # indexes go with their table
