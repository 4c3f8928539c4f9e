"""space: hazard zones, risk points, passages, shelters, road network, map features

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from renxing.db import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table → its indexed columns (besides unit_id, which every layer has)
_INDEXED = {
    "space_risk_points": ["kind"],
    "space_hazard_zones": ["kind", "source_point_id"],
    "space_passages": [],
    "space_reserved_land": [],
    "space_shelters": ["kind", "status"],
    "space_roads": ["kind", "osm_id"],
    "space_map_features": ["kind", "layer", "osm_id"],
}


def _layer(table: str, *columns: sa.Column | sa.ForeignKeyConstraint) -> None:
    """Create a layer table with the columns every layer shares, then its indexes."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=True),
        *columns,
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["grid_units.id"], name=op.f(f"fk_{table}_unit_id_grid_units")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    with op.batch_alter_table(table) as batch_op:
        for col in ["unit_id", *_INDEXED[table]]:
            batch_op.create_index(batch_op.f(f"ix_{table}_{col}"), [col], unique=False)


def upgrade() -> None:
    _layer(
        "space_risk_points",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("buffer_m", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    _layer(
        "space_hazard_zones",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("depth_class", sa.String(length=16), nullable=True),
        sa.Column("source_point_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_point_id"],
            ["space_risk_points.id"],
            name=op.f("fk_space_hazard_zones_source_point_id_space_risk_points"),
            ondelete="SET NULL",
        ),
    )
    _layer(
        "space_passages",
        sa.Column("width_m", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    _layer(
        "space_reserved_land",
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    _layer(
        "space_shelters",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("effective_area_m2", sa.Float(), nullable=False),
        sa.Column("shelter_class", sa.String(length=4), nullable=False),
        sa.Column("per_person_m2", sa.Float(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("facilities", sa.JSON(), nullable=True),
        sa.Column("exits", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
    )
    _layer(
        "space_roads",
        sa.Column("osm_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("width_m", sa.Float(), nullable=True),
        sa.Column("walkable", sa.Boolean(), nullable=False),
    )
    _layer(
        "space_map_features",
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("osm_id", sa.BigInteger(), nullable=True),
        sa.Column("props", sa.JSON(), nullable=True),
    )
    # evacuation scenarios (space.planning)
    op.create_table(
        "space_evac_scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("hazard_zone_ids", sa.JSON(), nullable=False),
        sa.Column("cut_road_ids", sa.JSON(), nullable=False),
        sa.Column("open_candidate_ids", sa.JSON(), nullable=False),
        sa.Column("closed_shelter_ids", sa.JSON(), nullable=False),
        sa.Column("evacuate_all", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("plan_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("plan_computed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["grid_units.id"], name=op.f("fk_space_evac_scenarios_unit_id_grid_units")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_space_evac_scenarios_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_space_evac_scenarios")),
    )
    with op.batch_alter_table("space_evac_scenarios") as batch_op:
        batch_op.create_index(batch_op.f("ix_space_evac_scenarios_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    op.drop_table("space_evac_scenarios")
    # hazard zones refer to risk points: drop them first
    for table in [
        "space_map_features",
        "space_roads",
        "space_shelters",
        "space_reserved_land",
        "space_passages",
        "space_hazard_zones",
        "space_risk_points",
    ]:
        op.drop_table(table)
