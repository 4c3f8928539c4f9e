"""Tables of the cloud warehouse: items and their needs, storage points, agreements, the stock
ledger with its balances, transfers, counts, minimum levels and allocation runs.

The ledger (``supply_movements``) is append-only: no row is ever updated or deleted, a mistake is
undone by a reversing entry. ``supply_balances`` holds one row per item × point × lot, changed in
the same transaction as each entry, so a level is one row read; ``renxing supplies check``
recomputes every balance from the ledger and reports any difference.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow
from renxing.i18n import _l


class PointKind(StrEnum):
    community_store = "community_store"  # 社区应急物资储备点
    partner_site = "partner_site"  # a school, supermarket, property company, clinic … under agreement
    shelter_store = "shelter_store"  # the store of an emergency shelter
    household_kits = "household_kits"  # families' emergency kits of one building, counted by survey


POINT_KIND_LABELS = {
    PointKind.community_store: _l("社区储备点"),
    PointKind.partner_site: _l("协议单位储备点"),
    PointKind.shelter_store: _l("避难场所库房"),
    PointKind.household_kits: _l("家庭应急包（按楼栋）"),
}


class MovementKind(StrEnum):
    receipt = "receipt"  # 入库
    issue = "issue"  # 出库（发放）
    transfer_out = "transfer_out"  # 调出: the first leg of a transfer
    transfer_in = "transfer_in"  # 调入: the second leg, when the goods arrive
    adjustment = "adjustment"  # 盘点差异: a count's difference, with its reason
    write_off = "write_off"  # 报废: expired or damaged stock taken out
    reversal = "reversal"  # 冲销: undoes one earlier entry exactly


MOVEMENT_LABELS = {
    MovementKind.receipt: _l("入库"),
    MovementKind.issue: _l("出库"),
    MovementKind.transfer_out: _l("调出"),
    MovementKind.transfer_in: _l("调入"),
    MovementKind.adjustment: _l("盘点调整"),
    MovementKind.write_off: _l("报废"),
    MovementKind.reversal: _l("冲销"),
}


class Reason(StrEnum):
    """Why a count differs or stock is written off."""

    lost = "lost"
    found = "found"
    damaged = "damaged"
    expired = "expired"
    miscounted = "miscounted"  # an earlier count or entry was wrong
    consumed = "consumed"  # used without an issue being recorded (households' kits)
    other = "other"


REASON_LABELS = {
    Reason.lost: _l("丢失"),
    Reason.found: _l("盘盈"),
    Reason.damaged: _l("损坏"),
    Reason.expired: _l("过期"),
    Reason.miscounted: _l("记错"),
    Reason.consumed: _l("已使用"),
    Reason.other: _l("其他"),
}


class TransferStatus(StrEnum):
    in_transit = "in_transit"
    received = "received"
    cancelled = "cancelled"


class SupplyItem(Base):
    """One item of the street's catalogue, counted in whole ``unit``s (litres of water, portions,
    pieces). ``pack_unit`` × ``pack_size`` lets a receipt be entered in packs (箱 of 24 bottles)."""

    __tablename__ = "supply_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(24))  # water, food, shelter, medical, lighting, rescue, hygiene
    unit: Mapped[str] = mapped_column(String(12))
    pack_unit: Mapped[str | None] = mapped_column(String(12))
    pack_size: Mapped[int | None] = mapped_column(Integer)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)  # None: does not expire
    lot_tracked: Mapped[bool] = mapped_column(Boolean, default=False)  # lots and expiry recorded
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ItemNeed(Base):
    """A planning need: ``quantity`` of the item per person (per day when ``daily``) for a group,
    with the source it comes from (a standard, a handbook, the community's own decision)."""

    __tablename__ = "supply_item_needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id", ondelete="CASCADE"), index=True)
    group: Mapped[str] = mapped_column(String(16))  # autonomy.Group
    quantity: Mapped[float] = mapped_column(Float)
    daily: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(Text)


class StoragePoint(Base):
    """Where stock is held. ``path`` is the grid path of where it lies (the community, or the
    building of a household-kit point), so scope checks are path checks."""

    __tablename__ = "supply_points"
    __table_args__ = (UniqueConstraint("unit_id", "name", name="uq_supply_points_unit_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), index=True)  # the community
    path: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("partner_organizations.id"), index=True)
    shelter_id: Mapped[int | None] = mapped_column(ForeignKey("space_shelters.id", ondelete="SET NULL"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("grid_units.id"), index=True)
    households: Mapped[int | None] = mapped_column(Integer)  # kits: households surveyed
    lon: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lat: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(200))
    access_hours: Mapped[str | None] = mapped_column(String(120))
    contact_name: Mapped[str | None] = mapped_column(String(60))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Agreement(Base):
    """A signed agreement (储备协议) by which a partner holds supplies the community may draw on."""

    __tablename__ = "supply_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("partner_organizations.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), index=True)  # the community
    path: Mapped[str] = mapped_column(String(255), index=True)
    number: Mapped[str] = mapped_column(String(40))  # 协议编号
    title: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    draw_share: Mapped[float] = mapped_column(Float, default=1.0)  # share of the partner's stock
    draw_when: Mapped[str] = mapped_column(String(16), default="emergency")  # any, alert, emergency
    activation: Mapped[str | None] = mapped_column(Text)  # the activation procedure
    contact_chain: Mapped[list] = mapped_column(JSON, default=list)  # [{"name", "role", "phone"}], in order
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_on: Mapped[date | None] = mapped_column(Date)  # the renewal reminder went out
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AgreementLine(Base):
    """What an agreement commits: a quantity of one item, held at one of the partner's points."""

    __tablename__ = "supply_agreement_lines"
    __table_args__ = (UniqueConstraint("agreement_id", "item_id", name="uq_supply_agreement_lines_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("supply_agreements.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    point_id: Mapped[int | None] = mapped_column(ForeignKey("supply_points.id"))


class Movement(Base):
    """One entry of the ledger. ``quantity`` is signed (+ in, − out) in the item's unit.
    ``occurred_at`` is when it happened, ``recorded_at`` when it was entered: an entry made late
    after a network outage keeps both truthful."""

    __tablename__ = "supply_movements"
    __table_args__ = (
        Index("ix_supply_movements_point_item", "point_id", "item_id", "id"),
        Index("ix_supply_movements_path", "path", "occurred_at"),
        Index("ix_supply_movements_occurred", "occurred_at", "id"),  # the ledger's first pages, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"), index=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("supply_points.id"))
    path: Mapped[str] = mapped_column(String(255))  # the point's, for scope
    lot: Mapped[str] = mapped_column(String(40), default="")  # "" where the item has no lots
    expiry: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("supply_movements.id"), unique=True)
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("supply_transfers.id"), index=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("supply_agreements.id"))
    count_id: Mapped[int | None] = mapped_column(ForeignKey("supply_counts.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("supply_allocation_runs.id"))
    note: Mapped[str | None] = mapped_column(String(200))


class Balance(Base):
    """The level of one item × point × lot, kept in step with the ledger."""

    __tablename__ = "supply_balances"
    __table_args__ = (
        UniqueConstraint("point_id", "item_id", "lot", name="uq_supply_balances_point_item_lot"),
        # The last guard of "no negative stock", should a check above it ever be bypassed.
        CheckConstraint("quantity >= 0", name="not_negative"),
        Index("ix_supply_balances_item_path", "item_id", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("supply_points.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"))
    lot: Mapped[str] = mapped_column(String(40), default="")
    expiry: Mapped[date | None] = mapped_column(Date, index=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Transfer(Base):
    """Goods between two points: sent (``transfer_out`` leg), in transit, then received
    (``transfer_in`` leg) or cancelled (the out leg reversed)."""

    __tablename__ = "supply_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"))
    from_point_id: Mapped[int] = mapped_column(ForeignKey("supply_points.id"), index=True)
    to_point_id: Mapped[int] = mapped_column(ForeignKey("supply_points.id"), index=True)
    lot: Mapped[str] = mapped_column(String(40), default="")
    expiry: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=TransferStatus.in_transit.value, index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    run_id: Mapped[int | None] = mapped_column(ForeignKey("supply_allocation_runs.id"), index=True)


class StockCount(Base):
    """One stock count (盘点) of a point: its differences are posted as adjustments."""

    __tablename__ = "supply_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("supply_points.id"), index=True)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lines: Mapped[int] = mapped_column(Integer, default=0)
    adjustments: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="form")  # form, sheet, survey
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MinLevel(Base):
    """The least a point should hold of an item; below it, staff are told (once until restocked)."""

    __tablename__ = "supply_min_levels"
    __table_args__ = (UniqueConstraint("point_id", "item_id", name="uq_supply_min_levels_point_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("supply_points.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"))
    minimum: Mapped[int] = mapped_column(Integer)
    below_since: Mapped[datetime | None] = mapped_column(UTCDateTime())  # set when the notice went out


class AllocationRun(Base):
    """An allocation computed for an evacuation scenario: proposed, then committed (its transfers
    posted) or discarded. ``result`` keeps the plan, shortfalls and the solver's certificate."""

    __tablename__ = "supply_allocation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), index=True)  # the community
    path: Mapped[str] = mapped_column(String(255), index=True)
    scenario_id: Mapped[int | None] = mapped_column(ForeignKey("space_evac_scenarios.id", ondelete="SET NULL"))
    scenario_name: Mapped[str] = mapped_column(String(120))
    days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="proposed", index=True)
    objective: Mapped[int] = mapped_column(BigInteger, default=0)  # unit·metres
    met: Mapped[int] = mapped_column(Integer, default=0)
    shortfall: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    committed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
