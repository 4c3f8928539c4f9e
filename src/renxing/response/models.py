"""Tables of the operating modes: the states and the switches allowed between them (seeded), each
community's mode, the append-only history of switches, and switches proposed by rule.

A community without a ``community_modes`` row is in normal mode. ``mode_switches`` is never
updated or deleted: it is the record of who switched what, when and why.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow
from renxing.i18n import _l

NORMAL = "normal"


class ProposalStatus(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    dismissed = "dismissed"


PROPOSAL_LABELS = {
    ProposalStatus.pending: _l("待确认"),
    ProposalStatus.confirmed: _l("已确认"),
    ProposalStatus.dismissed: _l("已驳回"),
}


class ModeState(Base):
    """One operating mode (seeded): normal, alert, emergency, recovery."""

    __tablename__ = "mode_states"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(20))
    name_en: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int] = mapped_column(Integer)  # 0 normal … 2 emergency: how serious
    sort_order: Mapped[int] = mapped_column(Integer)


class ModeTransition(Base):
    """A switch allowed from one mode to another (seeded); some need a reason written."""

    __tablename__ = "mode_transitions"
    __table_args__ = (UniqueConstraint("from_state", "to_state", name="uq_mode_transitions_from_to"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_state: Mapped[str] = mapped_column(ForeignKey("mode_states.code"))
    to_state: Mapped[str] = mapped_column(ForeignKey("mode_states.code"))
    requires_reason: Mapped[bool] = mapped_column(Boolean, default=False)


class CommunityMode(Base):
    """A community's mode now (no row: normal)."""

    __tablename__ = "community_modes"

    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    state: Mapped[str] = mapped_column(ForeignKey("mode_states.code"))
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)  # an exercise (演练), not a real event
    switched_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ModeSwitch(Base):
    """One switch of a community's mode (append-only)."""

    __tablename__ = "mode_switches"
    __table_args__ = (Index("ix_mode_switches_unit_at", "unit_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"))
    path: Mapped[str] = mapped_column(String(255), index=True)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("mode_proposals.id"))


class ModeProposal(Base):
    """A switch proposed by rule (a red warning sent, a red sensor trigger), once per source,
    for staff to confirm or dismiss."""

    __tablename__ = "mode_proposals"
    __table_args__ = (UniqueConstraint("unit_id", "source", name="uq_mode_proposals_unit_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"))
    path: Mapped[str] = mapped_column(String(255), index=True)
    to_state: Mapped[str] = mapped_column(ForeignKey("mode_states.code"))
    source: Mapped[str] = mapped_column(String(60))  # warning:<id>, sensor-trigger:<id>
    reason: Mapped[str] = mapped_column(Text)
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default=ProposalStatus.pending.value, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
