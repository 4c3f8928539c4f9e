"""The colour → CAP table the platform starts with.

China's warning signals use four colours: blue (蓝色, level Ⅳ, general), yellow (黄色, Ⅲ, heavy),
orange (橙色, Ⅱ, serious), red (红色, Ⅰ, especially serious). Severity follows the common mapping
blue → Minor, yellow → Moderate, orange → Severe, red → Extreme; an issued signal is Expected and
Likely, a red one Immediate. Orange and red need a second staff member's approval; the unreached
climb the chain sooner the more serious the warning. Street administrators change the table.

Migration 0014 inserts a frozen copy; :func:`install_defaults` puts back missing rows (tests).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.warning.models import WarningLevel

# (code, rank, 中文, English, severity, urgency, certainty, needs approval, step minutes)
LEVELS = [
    ("blue", 1, "蓝色", "Blue", "Minor", "Expected", "Likely", False, 60),
    ("yellow", 2, "黄色", "Yellow", "Moderate", "Expected", "Likely", False, 45),
    ("orange", 3, "橙色", "Orange", "Severe", "Expected", "Likely", True, 30),
    ("red", 4, "红色", "Red", "Extreme", "Immediate", "Likely", True, 15),
]
KEYS = ("code", "rank", "name_zh", "name_en", "severity", "urgency", "certainty", "needs_approval", "step_minutes")


def install_defaults(session: Session) -> None:
    """Insert the levels that are missing; rows staff changed are left as they are."""
    have = set(session.scalars(select(WarningLevel.code)))
    session.add_all(WarningLevel(**dict(zip(KEYS, row, strict=True))) for row in LEVELS if row[0] not in have)
    session.flush()
