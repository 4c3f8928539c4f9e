"""the cloud warehouse of emergency supplies: items and needs, storage points, agreements, the
stock ledger with its balances, transfers, counts, minimum levels, allocation runs; the catalogue
of common emergency items with per-person needs and their sources

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from renxing.db import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy (a migration must not change when the code does); supplies.defaults agrees.
SPHERE = "Sphere Handbook 2018"
# (code, name, English name, category, unit, pack unit, pack size, shelf life in days, lots kept)
ITEMS = [
    ("water", "饮用水", "Drinking water", "water", "L", "箱", 12, 730, True),
    ("food", "方便食品", "Ready-to-eat food", "food", "份", "箱", 24, 365, True),
    ("blanket", "棉被", "Blanket", "shelter", "条", None, None, None, False),
    ("tent", "救灾帐篷", "Family tent", "shelter", "顶", None, None, None, False),
    ("mask", "医用口罩", "Medical mask", "hygiene", "只", "盒", 50, 1095, True),
    ("first_aid", "急救包", "First-aid kit", "medical", "个", None, None, 1825, True),
    ("medicine", "常用药品包", "Common medicines pack", "medical", "份", None, None, 730, True),
    ("torch", "手电筒", "Torch", "lighting", "只", None, None, None, False),
    ("battery", "电池", "Battery", "lighting", "节", "盒", 20, 1825, True),
    ("generator", "发电机", "Generator", "power", "台", None, None, None, False),
    ("life_jacket", "救生衣", "Life jacket", "rescue", "件", None, None, None, False),
    ("stretcher", "担架", "Stretcher", "rescue", "副", None, None, None, False),
    ("infant_formula", "婴幼儿配方奶粉", "Infant formula", "food", "罐", None, None, 540, True),
    ("adult_diaper", "成人纸尿裤", "Adult diapers", "hygiene", "片", "包", 10, 1095, True),
]
# (item, group, quantity per person, per day?, source)
NEEDS = [
    (
        "water",
        "everyone",
        15.0,
        True,
        f"{SPHERE}, WASH water supply standard 2.1: at least 15 L per person per day for drinking, cooking and "
        "hygiene, of which 2.5–3 L to drink; set 3 where tap water still runs",
    ),
    (
        "food",
        "everyone",
        3.0,
        True,
        f"{SPHERE}, food security standard 6.1: 2,100 kcal per person per day, about three ready-to-eat portions",
    ),
    (
        "blanket",
        "everyone",
        1.0,
        False,
        f"{SPHERE}, shelter standard 4: at least one blanket per person (thermal comfort)",
    ),
    (
        "tent",
        "everyone",
        0.2,
        False,
        f"{SPHERE}, shelter standard 3: 3.5 m² covered space per person, a family tent for five",
    ),
    ("mask", "everyone", 1.0, True, "社区防疫要求：集中安置每人每日一只"),
    ("first_aid", "everyone", 0.02, False, "GB 21734-2008 应急避难场所：每 50 人一个急救包（社区配置）"),
    ("medicine", "vulnerable", 1.0, True, "慢病与特殊需要居民每人每日一份常用药"),
    ("torch", "everyone", 0.3, False, "每户一只手电（户均约 3 人）"),
    ("infant_formula", "infants", 0.15, True, "婴幼儿每日约 135 克配方奶粉，一罐 900 克"),
    ("adult_diaper", "bedridden", 6.0, True, "卧床居民每人每日约 6 片"),
    ("stretcher", "bedridden", 0.5, False, "每两名卧床居民一副担架（转运）"),
]


def upgrade() -> None:
    op.create_table(
        "supply_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=True),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("unit", sa.String(length=12), nullable=False),
        sa.Column("pack_unit", sa.String(length=12), nullable=True),
        sa.Column("pack_size", sa.Integer(), nullable=True),
        sa.Column("shelf_life_days", sa.Integer(), nullable=True),
        sa.Column("lot_tracked", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_items")),
        sa.UniqueConstraint("code", name=op.f("uq_supply_items_code")),
    )
    op.create_table(
        "supply_item_needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("daily", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["supply_items.id"], name=op.f("fk_supply_item_needs_item_id_supply_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_item_needs")),
    )
    op.create_index(op.f("ix_supply_item_needs_item_id"), "supply_item_needs", ["item_id"], unique=False)
    op.create_table(
        "supply_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("draw_share", sa.Float(), nullable=False),
        sa.Column("draw_when", sa.String(length=16), nullable=False),
        sa.Column("activation", sa.Text(), nullable=True),
        sa.Column("contact_chain", sa.JSON(), nullable=False),
        sa.Column("terminated_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["partner_organizations.id"], name=op.f("fk_supply_agreements_org_id_partner_organizations")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["grid_units.id"], name=op.f("fk_supply_agreements_unit_id_grid_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_agreements")),
    )
    op.create_index(op.f("ix_supply_agreements_org_id"), "supply_agreements", ["org_id"], unique=False)
    op.create_index(op.f("ix_supply_agreements_path"), "supply_agreements", ["path"], unique=False)
    op.create_index(op.f("ix_supply_agreements_unit_id"), "supply_agreements", ["unit_id"], unique=False)
    op.create_index(op.f("ix_supply_agreements_valid_until"), "supply_agreements", ["valid_until"], unique=False)
    op.create_table(
        "supply_allocation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=True),
        sa.Column("scenario_name", sa.String(length=120), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("objective", sa.BigInteger(), nullable=False),
        sa.Column("met", sa.Integer(), nullable=False),
        sa.Column("shortfall", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("committed_by", sa.Integer(), nullable=True),
        sa.Column("committed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["committed_by"],
            ["users.id"],
            name=op.f("fk_supply_allocation_runs_committed_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_supply_allocation_runs_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["space_evac_scenarios.id"],
            name=op.f("fk_supply_allocation_runs_scenario_id_space_evac_scenarios"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["grid_units.id"], name=op.f("fk_supply_allocation_runs_unit_id_grid_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_allocation_runs")),
    )
    op.create_index(op.f("ix_supply_allocation_runs_path"), "supply_allocation_runs", ["path"], unique=False)
    op.create_index(op.f("ix_supply_allocation_runs_status"), "supply_allocation_runs", ["status"], unique=False)
    op.create_index(op.f("ix_supply_allocation_runs_unit_id"), "supply_allocation_runs", ["unit_id"], unique=False)
    op.create_table(
        "supply_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("shelter_id", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("access_hours", sa.String(length=120), nullable=True),
        sa.Column("contact_name", sa.String(length=60), nullable=True),
        sa.Column("contact_phone", sa.String(length=20), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["building_id"], ["grid_units.id"], name=op.f("fk_supply_points_building_id_grid_units")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["partner_organizations.id"], name=op.f("fk_supply_points_org_id_partner_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["shelter_id"],
            ["space_shelters.id"],
            name=op.f("fk_supply_points_shelter_id_space_shelters"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["grid_units.id"], name=op.f("fk_supply_points_unit_id_grid_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_points")),
        sa.UniqueConstraint("unit_id", "name", name="uq_supply_points_unit_id_name"),
    )
    op.create_index(op.f("ix_supply_points_building_id"), "supply_points", ["building_id"], unique=False)
    op.create_index(op.f("ix_supply_points_kind"), "supply_points", ["kind"], unique=False)
    op.create_index(op.f("ix_supply_points_org_id"), "supply_points", ["org_id"], unique=False)
    op.create_index(op.f("ix_supply_points_path"), "supply_points", ["path"], unique=False)
    op.create_index(op.f("ix_supply_points_shelter_id"), "supply_points", ["shelter_id"], unique=False)
    op.create_index(op.f("ix_supply_points_unit_id"), "supply_points", ["unit_id"], unique=False)
    op.create_table(
        "supply_agreement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["supply_agreements.id"],
            name=op.f("fk_supply_agreement_lines_agreement_id_supply_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["supply_items.id"], name=op.f("fk_supply_agreement_lines_item_id_supply_items")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"], ["supply_points.id"], name=op.f("fk_supply_agreement_lines_point_id_supply_points")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_agreement_lines")),
        sa.UniqueConstraint("agreement_id", "item_id", name="uq_supply_agreement_lines_item"),
    )
    op.create_index(
        op.f("ix_supply_agreement_lines_agreement_id"), "supply_agreement_lines", ["agreement_id"], unique=False
    )
    op.create_table(
        "supply_balances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(length=40), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["supply_items.id"], name=op.f("fk_supply_balances_item_id_supply_items")),
        sa.ForeignKeyConstraint(
            ["point_id"], ["supply_points.id"], name=op.f("fk_supply_balances_point_id_supply_points")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_balances")),
        sa.UniqueConstraint("point_id", "item_id", "lot", name="uq_supply_balances_point_item_lot"),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_supply_balances_not_negative")),
    )
    op.create_index(op.f("ix_supply_balances_expiry"), "supply_balances", ["expiry"], unique=False)
    op.create_index("ix_supply_balances_item_path", "supply_balances", ["item_id", "path"], unique=False)
    op.create_index(op.f("ix_supply_balances_path"), "supply_balances", ["path"], unique=False)
    op.create_table(
        "supply_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("counted_at", UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("adjustments", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"], ["supply_points.id"], name=op.f("fk_supply_counts_point_id_supply_points")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_supply_counts_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_counts")),
    )
    op.create_index(op.f("ix_supply_counts_point_id"), "supply_counts", ["point_id"], unique=False)
    op.create_table(
        "supply_min_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("minimum", sa.Integer(), nullable=False),
        sa.Column("below_since", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["supply_items.id"], name=op.f("fk_supply_min_levels_item_id_supply_items")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["supply_points.id"],
            name=op.f("fk_supply_min_levels_point_id_supply_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_min_levels")),
        sa.UniqueConstraint("point_id", "item_id", name="uq_supply_min_levels_point_item"),
    )
    op.create_table(
        "supply_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("from_point_id", sa.Integer(), nullable=False),
        sa.Column("to_point_id", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(length=40), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_point_id"], ["supply_points.id"], name=op.f("fk_supply_transfers_from_point_id_supply_points")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["supply_items.id"], name=op.f("fk_supply_transfers_item_id_supply_items")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["supply_allocation_runs.id"], name=op.f("fk_supply_transfers_run_id_supply_allocation_runs")
        ),
        sa.ForeignKeyConstraint(
            ["to_point_id"], ["supply_points.id"], name=op.f("fk_supply_transfers_to_point_id_supply_points")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_transfers")),
    )
    op.create_index(op.f("ix_supply_transfers_from_point_id"), "supply_transfers", ["from_point_id"], unique=False)
    op.create_index(op.f("ix_supply_transfers_run_id"), "supply_transfers", ["run_id"], unique=False)
    op.create_index(op.f("ix_supply_transfers_status"), "supply_transfers", ["status"], unique=False)
    op.create_index(op.f("ix_supply_transfers_to_point_id"), "supply_transfers", ["to_point_id"], unique=False)
    op.create_table(
        "supply_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("lot", sa.String(length=40), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("transfer_id", sa.Integer(), nullable=True),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("count_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["supply_agreements.id"], name=op.f("fk_supply_movements_agreement_id_supply_agreements")
        ),
        sa.ForeignKeyConstraint(
            ["count_id"], ["supply_counts.id"], name=op.f("fk_supply_movements_count_id_supply_counts")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["supply_items.id"], name=op.f("fk_supply_movements_item_id_supply_items")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"], ["supply_points.id"], name=op.f("fk_supply_movements_point_id_supply_points")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["supply_movements.id"], name=op.f("fk_supply_movements_reverses_id_supply_movements")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["supply_allocation_runs.id"], name=op.f("fk_supply_movements_run_id_supply_allocation_runs")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["supply_transfers.id"], name=op.f("fk_supply_movements_transfer_id_supply_transfers")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_supply_movements_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_movements")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_supply_movements_reverses_id")),
    )
    op.create_index(op.f("ix_supply_movements_item_id"), "supply_movements", ["item_id"], unique=False)
    op.create_index("ix_supply_movements_occurred", "supply_movements", ["occurred_at", "id"], unique=False)
    op.create_index("ix_supply_movements_path", "supply_movements", ["path", "occurred_at"], unique=False)
    op.create_index("ix_supply_movements_point_item", "supply_movements", ["point_id", "item_id", "id"], unique=False)
    op.create_index(op.f("ix_supply_movements_transfer_id"), "supply_movements", ["transfer_id"], unique=False)

    items = sa.table(
        "supply_items",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("name_en", sa.String),
        sa.column("category", sa.String),
        sa.column("unit", sa.String),
        sa.column("pack_unit", sa.String),
        sa.column("pack_size", sa.Integer),
        sa.column("shelf_life_days", sa.Integer),
        sa.column("lot_tracked", sa.Boolean),
        sa.column("active", sa.Boolean),
        sa.column("created_at", UTCDateTime()),
    )
    seeded = datetime(2026, 12, 3, tzinfo=UTC)
    columns = (
        "code",
        "name",
        "name_en",
        "category",
        "unit",
        "pack_unit",
        "pack_size",
        "shelf_life_days",
        "lot_tracked",
    )
    rows = [{**dict(zip(columns, row, strict=True)), "active": True, "created_at": seeded} for row in ITEMS]
    op.bulk_insert(items, rows)
    needs = sa.table(
        "supply_item_needs",
        sa.column("item_id", sa.Integer),
        sa.column("group", sa.String),
        sa.column("quantity", sa.Float),
        sa.column("daily", sa.Boolean),
        sa.column("source", sa.String),
    )
    ids = dict(op.get_bind().execute(sa.text("SELECT code, id FROM supply_items")).all())
    op.bulk_insert(
        needs,
        [
            {"item_id": ids[code], "group": group, "quantity": q, "daily": daily, "source": source}
            for code, group, q, daily, source in NEEDS
        ],
    )


def downgrade() -> None:
    op.drop_table("supply_movements")
    op.drop_table("supply_transfers")
    op.drop_table("supply_min_levels")
    op.drop_table("supply_counts")
    op.drop_table("supply_balances")
    op.drop_table("supply_agreement_lines")
    op.drop_table("supply_points")
    op.drop_table("supply_allocation_runs")
    op.drop_table("supply_agreements")
    op.drop_table("supply_item_needs")
    op.drop_table("supply_items")
