"""What the operating modes' pages and API show of the service's results."""

from typing import Any

from sqlalchemy.orm import Session

from renxing.i18n import stored
from renxing.response import modes
from renxing.response.models import ModeProposal, ModeSwitch


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def mode_row(session: Session, unit_id: int, name: str, now: modes.ModeNow, may_switch: bool) -> dict[str, Any]:
    names = modes.state_names(session)
    rules = modes.transitions_from(session, now.state)
    return {
        "unit_id": unit_id,
        "community": name,
        "state": now.state,
        "state_name": names.get(now.state, now.state),
        "since": _iso(now.since),
        "exercise": now.exercise,
        "may_switch": may_switch,
        "targets": [
            {"code": t.to_state, "name": names.get(t.to_state, t.to_state), "requires_reason": t.requires_reason}
            for t in rules
        ]
        if may_switch
        else [],
    }


def switch_row(row: ModeSwitch) -> dict[str, Any]:
    return {
        "id": row.id,
        "unit_id": row.unit_id,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "reason": stored(row.reason) if row.reason else None,
        "exercise": row.exercise,
        "actor_id": row.actor_id,
        "at": row.at.isoformat(),
        "proposal_id": row.proposal_id,
    }


def proposal_row(row: ModeProposal) -> dict[str, Any]:
    return {
        "id": row.id,
        "unit_id": row.unit_id,
        "to_state": row.to_state,
        "source": row.source,
        "reason": stored(row.reason),
        "exercise": row.exercise,
        "status": row.status,
        "created_at": row.created_at.isoformat(),
        "decided_by": row.decided_by,
        "decided_at": _iso(row.decided_at),
    }
