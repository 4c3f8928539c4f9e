"""The register of partner units and social organizations that serve a community."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow
from renxing.i18n import _l


class OrgKind(StrEnum):
    social_org = "social_org"
    property_company = "property_company"
    police = "police"
    fire_brigade = "fire_brigade"
    clinic = "clinic"
    school = "school"
    enterprise = "enterprise"
    other = "other"


KIND_LABELS = {
    OrgKind.social_org: _l("社会组织"),
    OrgKind.property_company: _l("物业"),
    OrgKind.police: _l("派出所"),
    OrgKind.fire_brigade: _l("消防救援站"),
    OrgKind.clinic: _l("社区卫生服务站"),
    OrgKind.school: _l("学校"),
    OrgKind.enterprise: _l("企业"),
    OrgKind.other: _l("其他"),
}


class Organization(Base):
    """One partner unit or social organization; ``path`` copies its community's grid path."""

    __tablename__ = "partner_organizations"
    __table_args__ = (
        UniqueConstraint("unit_id", "name", name="uq_partner_organizations_unit_id_name"),
        Index("ix_partner_organizations_path", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), index=True)  # the community
    path: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24))
    contact_name: Mapped[str | None] = mapped_column(String(60))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    # The platform account that speaks for it (role partner): sees its own scorecard.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    services: Mapped[str | None] = mapped_column(Text)  # what it offers, free text
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
