"""JSON routes of one's own notifications: the inbox, marking read, addresses for e-mail and webhook."""

from fastapi import APIRouter

from renxing.notify import service
from renxing.notify.models import Notification
from renxing.notify.schemas import ContactIn, ContactOut, ContactSetOut, InboxOut, MarkedOut
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


def notification_dict(n: Notification) -> dict:
    return {
        "id": n.id,
        "title": n.title,
        "body": n.body,
        "link": n.link,
        "topic": n.topic,
        "report_id": n.report_id,
        "created_at": n.created_at.isoformat(),
        "read_at": n.read_at.isoformat() if n.read_at else None,
    }


@router.get("", summary="My inbox, newest first", response_model=InboxOut)
def inbox(session: DB, actor: CurrentUser, query: ListParams, unread: bool = False) -> dict:
    """``q`` searches titles and texts."""
    result = service.inbox(session, actor, query, unread=unread)
    return {
        **result.to_dict([notification_dict(n) for n in result.items]),
        "unread": service.unread_count(session, actor),
    }


@router.post("/read-all", summary="Mark all my messages read", response_model=MarkedOut)
def read_all(session: DB, actor: CurrentUser) -> dict:
    return {"marked": service.mark_read(session, actor)}


@router.post("/{notification_id}/read", summary="Mark one message read", response_model=MarkedOut)
def read_one(notification_id: Id, session: DB, actor: CurrentUser) -> dict:
    return {"marked": service.mark_read(session, actor, notification_id)}


@router.get("/contacts", summary="Where I get messages outside the platform", response_model=list[ContactOut])
def contacts(session: DB, actor: CurrentUser) -> list[dict]:
    return [{"channel": c.channel, "address": c.address, "active": c.active} for c in service.contacts(session, actor)]


@router.put(
    "/contacts",
    summary="Set (or, with an empty address, remove) my e-mail or webhook address",
    response_model=ContactSetOut,
)
def set_contact(data: ContactIn, session: DB, actor: CurrentUser) -> dict:
    row = service.set_contact(session, actor, data.channel, data.address)
    return {"channel": data.channel, "address": row.address if row else None}
