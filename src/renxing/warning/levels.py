"""The colour → CAP table (预警级别): what each of China's four colours is sent as.

Everyone who reads warnings reads the table; street administrators (``settings_street``) change a
colour's CAP severity, urgency and certainty (the CAP 1.2 enumerations only), whether it needs a
second staff member's approval, and the minutes before unreached households climb the chain. The
colours themselves (code, rank, names) are fixed. The default table is ``defaults.LEVELS``.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector, NotFound
from renxing.i18n import _
from renxing.warning.cap_write import CERTAINTIES, SEVERITIES, URGENCIES
from renxing.warning.models import WarningLevel
from renxing.warning.schemas import LevelPatch

ENUMERATIONS = {"severity": SEVERITIES, "urgency": URGENCIES, "certainty": CERTAINTIES}


def list_levels(session: Session, actor: Principal) -> list[WarningLevel]:
    actor.require(Perm.warnings_read)
    return list(session.scalars(select(WarningLevel).order_by(WarningLevel.rank)))


def update_level(session: Session, actor: Principal, code: str, patch: LevelPatch) -> WarningLevel:
    actor.require(Perm.settings_street)
    row = session.get(WarningLevel, code)
    if row is None:
        raise NotFound(_("预警级别 {level} 不存在").format(level=code))
    changes = patch.model_dump(exclude_unset=True)
    errors = Collector()
    for key, value in changes.items():
        if value is None:
            errors.add(key, _("不能为空"))
        elif key in ENUMERATIONS and value not in ENUMERATIONS[key]:
            errors.add(key, _("应为 {join} 之一").format(join=", ".join(ENUMERATIONS[key])), value=value)
    errors.raise_if_any()
    before = audit.snapshot(row)
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.flush()
    old, new = audit.changed(before, audit.snapshot(row))
    new.pop("updated_at", None)
    old.pop("updated_at", None)
    if new:
        audit.record(session, actor, "update", "warning_level", None, summary=code, before=old, after=new)
    return row


def present(row: WarningLevel) -> dict[str, Any]:
    return {
        "code": row.code,
        "rank": row.rank,
        "name_zh": row.name_zh,
        "name_en": row.name_en,
        "severity": row.severity,
        "urgency": row.urgency,
        "certainty": row.certainty,
        "needs_approval": row.needs_approval,
        "step_minutes": row.step_minutes,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }
