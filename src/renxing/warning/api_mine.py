"""JSON route of a resident's warnings: those in force for their household, each with its
acknowledgement link. Reading them marks the household's in-app copies delivered."""

from fastapi import APIRouter

from renxing.config import get_settings
from renxing.warning import inbox
from renxing.warning.mine_schemas import MineWarningOut
from renxing.web.deps import DB, CurrentUser

router = APIRouter(prefix="/api/v1/warning", tags=["warning"])


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _out(item: inbox.MineItem, public_url: str) -> dict:
    return {
        "warning_id": item.warning_id,
        "msg_type": item.msg_type,
        "level": item.level,
        "event": item.event,
        "headline": item.headline,
        "description": item.description,
        "instruction": item.instruction,
        "exercise": item.exercise,
        "lifted": item.lifted,
        "sent_at": _iso(item.sent_at),
        "expires": _iso(item.expires),
        "acknowledged_at": _iso(item.acknowledged_at),
        "ack_how": item.ack_how,
        "in_app": item.in_app,
        "link": item.link(public_url),
    }


@router.get(
    "/mine",
    response_model=list[MineWarningOut],
    summary="A resident's warnings in force, newest first, opened as read (residents only: others 403)",
)
def my_warnings(session: DB, actor: CurrentUser):
    public_url = get_settings().public_url
    return [_out(item, public_url) for item in inbox.mine(session, actor)]
