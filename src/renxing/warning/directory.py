"""Warnings as other domains read them. No permission check here: the calling service has checked
its own (operating modes proposing a switch when a red warning is sent)."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.warning.models import WarningMessage


@dataclass(frozen=True)
class WarningPlace:
    id: int
    unit_id: int  # the community or area warned
    path: str
    level: str
    msg_type: str
    exercise: bool
    headline: str


def warning_place(session: Session, warning_id: int) -> WarningPlace | None:
    """Where a warning was sent, its colour and whether it is an exercise; None when there is none."""
    row = session.execute(
        select(
            WarningMessage.id,
            WarningMessage.unit_id,
            WarningMessage.path,
            WarningMessage.level,
            WarningMessage.msg_type,
            WarningMessage.exercise,
            WarningMessage.headline,
        ).where(WarningMessage.id == warning_id)
    ).first()
    return None if row is None else WarningPlace(*row)
