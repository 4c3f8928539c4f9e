"""The resident register (居民) with the vulnerability attributes used across the platform."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow


class Resident(Base):
    __tablename__ = "residents"
    __table_args__ = (
        # The scoped list in grid order: a range on path ordered by (path, id) is one walk of
        # this index, and counting the scope reads the index alone (partial: live rows only).
        Index(
            "ix_residents_live_path_id",
            "path",
            "id",
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_residents_name", "name"),
        Index("ix_residents_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    path: Mapped[str] = mapped_column(String(255))  # the building's grid path, copied for scope checks
    name: Mapped[str] = mapped_column(String(60))
    gender: Mapped[str | None] = mapped_column(String(1))  # M / F
    birth_date: Mapped[date | None] = mapped_column(Date, index=True)
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    relation: Mapped[str | None] = mapped_column(String(20))  # 与户主关系
    hukou_here: Mapped[bool] = mapped_column(Boolean, default=True)  # 户籍在本社区
    lives_here: Mapped[bool] = mapped_column(Boolean, default=True)  # 实际居住
    registered_address: Mapped[str | None] = mapped_column(String(200))
    # vulnerability
    living_alone: Mapped[bool] = mapped_column(Boolean, default=False)
    disability_kind: Mapped[str | None] = mapped_column(String(20))  # 视力 听力 言语 肢体 智力 精神 多重
    disability_grade: Mapped[int | None] = mapped_column(Integer)  # 1 (most severe) .. 4
    bedridden: Mapped[bool] = mapped_column(Boolean, default=False)
    chronic_illness: Mapped[str | None] = mapped_column(String(120))
    pregnant: Mapped[bool] = mapped_column(Boolean, default=False)
    special_needs: Mapped[str | None] = mapped_column(String(60))  # comma list: wheelchair,oxygen,dialysis
    mobility: Mapped[str] = mapped_column(String(16), default="normal")
    emergency_contact: Mapped[str | None] = mapped_column(String(60))
    emergency_phone: Mapped[str | None] = mapped_column(String(20))
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Soft delete so a removal can be undone; removed rows leave every list.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
