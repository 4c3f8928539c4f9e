"""The operating modes and the switches between them that the platform starts with.

Normal (平时), alert (预警), emergency (应急), recovery (恢复重建). A community goes up to alert or
straight to emergency, steps down from alert to normal, and leaves an emergency through recovery
(from which it may fall back into emergency). Going up needs no reason beyond the event; stepping
down and falling back do, so the record says why.

Migration 0015 inserts a frozen copy; :func:`install_defaults` puts back missing rows (tests).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.response.models import ModeState, ModeTransition

# (code, 中文, English, rank, sort order)
STATES = [
    ("normal", "平时", "Normal", 0, 1),
    ("alert", "预警", "Alert", 1, 2),
    ("emergency", "应急", "Emergency", 2, 3),
    ("recovery", "恢复", "Recovery", 1, 4),
]
STATE_KEYS = ("code", "name_zh", "name_en", "rank", "sort_order")
# (from, to, a reason required)
TRANSITIONS = [
    ("normal", "alert", False),
    ("normal", "emergency", False),
    ("alert", "emergency", False),
    ("alert", "normal", True),
    ("emergency", "recovery", True),
    ("recovery", "normal", True),
    ("recovery", "emergency", True),
]


def install_defaults(session: Session) -> None:
    """Insert the states and transitions that are missing."""
    have = set(session.scalars(select(ModeState.code)))
    session.add_all(ModeState(**dict(zip(STATE_KEYS, row, strict=True))) for row in STATES if row[0] not in have)
    session.flush()
    pairs = {(a, b) for a, b in session.execute(select(ModeTransition.from_state, ModeTransition.to_state))}
    session.add_all(
        ModeTransition(from_state=a, to_state=b, requires_reason=r) for a, b, r in TRANSITIONS if (a, b) not in pairs
    )
    session.flush()
