"""The warehouse as other domains read it: where a community's stores are, and how many
agreements back it. No permission check here: the calling service has checked its own."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renxing.supplies.models import Agreement, StoragePoint


@dataclass(frozen=True)
class PointPlace:
    id: int
    name: str
    kind: str
    lon: float | None  # WGS-84
    lat: float | None
    org_id: int | None


def points_of_community(session: Session, community_id: int) -> list[PointPlace]:
    """The active storage points of a community with their coordinates, by kind and name."""
    stmt = (
        select(
            StoragePoint.id,
            StoragePoint.name,
            StoragePoint.kind,
            StoragePoint.lon,
            StoragePoint.lat,
            StoragePoint.org_id,
        )
        .where(StoragePoint.unit_id == community_id, StoragePoint.active.is_(True))
        .order_by(StoragePoint.kind, StoragePoint.name, StoragePoint.id)
    )
    return [PointPlace(*row) for row in session.execute(stmt)]


def agreements_in_force_count(session: Session, community_id: int, day: date) -> int:
    """How many agreements of a community are in force on ``day``."""
    stmt = select(func.count()).where(
        Agreement.unit_id == community_id,
        Agreement.terminated_at.is_(None),
        Agreement.valid_from <= day,
        Agreement.valid_until >= day,
    )
    return int(session.scalar(stmt) or 0)
