"""JSON routes of a warning's reach: progress per building and area, the unreached, acknowledgements."""

from fastapi import APIRouter

from renxing.warning import acks
from renxing.warning.models import WarningMessage, WarningTarget
from renxing.warning.reach_schemas import RecordAckIn, TargetAckOut, UndoAckIn
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id

router = APIRouter(prefix="/api/v1/warning", tags=["warning"])


def _target_out(target: WarningTarget, warning: WarningMessage) -> dict:
    return {
        "target_id": target.id,
        "warning_id": target.warning_id,
        "acknowledged_at": target.acknowledged_at.isoformat() if target.acknowledged_at else None,
        "ack_how": target.ack_how,
        "ack_by": target.ack_by,
        "acknowledged": warning.acknowledged,
        "households": warning.households,
    }


def _after(session, target: WarningTarget) -> dict:
    warning = session.get(WarningMessage, target.warning_id)
    session.refresh(warning, ["acknowledged", "households"])  # the counter moved in SQL
    return _target_out(target, warning)


@router.post(
    "/warnings/{warning_id}/targets/{target_id}/acknowledge",
    response_model=TargetAckOut,
    summary="Record that a household was reached by a call, a door knock or in the app (audited)",
)
def record_acknowledgement(warning_id: Id, target_id: Id, body: RecordAckIn, session: DB, actor: CurrentUser) -> dict:
    target = acks.record(session, actor, warning_id, target_id, how=body.how, note=body.note)
    return _after(session, target)


@router.post(
    "/warnings/{warning_id}/targets/{target_id}/acknowledge/undo",
    response_model=TargetAckOut,
    summary="Take back a wrongly recorded acknowledgement (the recorder their own, staff any; audited)",
)
def undo_acknowledgement(warning_id: Id, target_id: Id, body: UndoAckIn, session: DB, actor: CurrentUser) -> dict:
    target = acks.undo(session, actor, warning_id, target_id, reason=body.reason)
    return _after(session, target)
