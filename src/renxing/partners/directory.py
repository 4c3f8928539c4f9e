"""Partner organizations as other domains read them: by id, or the active ones of a community.

No permission check here: the calling service has checked its own (drills linking partners to an
activity of a community, evaluation rating the organizations that served a resident).
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.partners.models import KIND_LABELS, Organization


def organization(session: Session, org_id: int) -> Organization | None:
    return session.get(Organization, org_id)


def organizations(session: Session, org_ids: Iterable[int]) -> list[Organization]:
    """The organizations with these ids, by name."""
    ids = sorted(set(org_ids))
    if not ids:
        return []
    return list(session.scalars(select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name)))


def kind_label(kind: str) -> Any:
    """The label of an organization kind (lazy: shown in the reader's language), or the kind itself if unknown."""
    return KIND_LABELS.get(kind, kind)


def active_in_community(session: Session, community_path: str) -> list[Organization]:
    """The active organizations registered at a community, by kind and name."""
    return list(
        session.scalars(
            select(Organization)
            .where(Organization.path == community_path, Organization.active.is_(True))
            .order_by(Organization.kind, Organization.name, Organization.id)
        )
    )


def organizations_of_account(session: Session, user_id: int | None) -> list[int]:
    """The ids of the organizations an account speaks for (a partner's own)."""
    if user_id is None:
        return []
    return list(
        session.scalars(select(Organization.id).where(Organization.user_id == user_id).order_by(Organization.id))
    )
