"""JSON routes of a warning's reach: progress per building and area, the unreached, acknowledgements."""

from typing import Annotated

from fastapi import APIRouter, Query

from renxing.warning import acks, progress
from renxing.warning import views_reach as views
from renxing.warning.models import WarningMessage, WarningTarget
from renxing.warning.reach_schemas import ProgressOut, RecordAckIn, TargetAckOut, UndoAckIn, UnreachedOut
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams
from renxing.web.schemas import PageOut

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


@router.get(
    "/warnings/{warning_id}/progress",
    response_model=ProgressOut,
    summary="A warning's live progress: totals, channels, buildings and areas, the climbs (counts only)",
)
def warning_progress(warning_id: Id, session: DB, actor: CurrentUser) -> dict:
    return views.progress_out(progress.progress(session, actor, warning_id))


@router.get(
    "/warnings/{warning_id}/unreached",
    response_model=PageOut[UnreachedOut],
    summary="Households still to reach in the caller's scope, most vulnerable first (masked by role; audited)",
)
def warning_unreached(
    warning_id: Id,
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    building_id: Annotated[Id | None, Query(description="only this building")] = None,
    door_to_door: Annotated[bool | None, Query(description="only households marked for a door-to-door check")] = None,
) -> dict:
    query.filters = {"building_id": building_id, "door_to_door": door_to_door}
    page = progress.unreached(session, actor, warning_id, query)
    return page.to_dict([views.unreached_out(u) for u in page.items])
