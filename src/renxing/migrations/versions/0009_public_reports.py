"""public copies of reports: consent, private categories, moderation, idempotency keys

A report is shown to the public only if its reporter agreed (``reports.public_consent``,
false for every report filed before) and its category is not private; 困难求助, 矛盾纠纷 and
治安 are private from the start. Staff write the public text (``report_public_texts``); the
reporter's words stay where they are. ``idempotency_keys`` remembers the key a client sent
with a report-creating request, one row per (client, key), so a retry files nothing new.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from renxing.db import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy (a migration must not change when the code does); events.defaults agrees.
PRIVATE_CATEGORIES = ("needs_help", "dispute", "security")


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: no table rebuild, so SQLite keeps the cache triggers.
    op.add_column("event_categories", sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False))
    categories = sa.table("event_categories", sa.column("code", sa.String), sa.column("private", sa.Boolean))
    op.execute(categories.update().where(categories.c.code.in_(PRIVATE_CATEGORIES)).values(private=True))
    op.add_column("reports", sa.Column("public_consent", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "report_public_texts",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("moderated_by_user_id", sa.Integer(), nullable=True),
        sa.Column("moderated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_public_texts_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["moderated_by_user_id"],
            ["users.id"],
            name=op.f("fk_report_public_texts_moderated_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_report_public_texts")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_idempotency_keys_report_id_reports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("client", "key", name=op.f("uq_idempotency_keys_client")),
    )
    op.create_index(op.f("ix_idempotency_keys_report_id"), "idempotency_keys", ["report_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_keys_report_id"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_table("report_public_texts")
    op.drop_column("reports", "public_consent")
    op.drop_column("event_categories", "private")
