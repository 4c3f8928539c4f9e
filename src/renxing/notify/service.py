"""Notifications for every domain: the in-app inbox, and delivery over external channels.

Usage from any service, inside its transaction::

    notify.push(session, [user_id, ...], title="…", body="…", link="/reports/12", topic="report.assign",
                report_id=12)

``push`` writes inbox rows (and, for the e-mail and webhook channels that settings enable, a
pending delivery row each) in the caller's transaction, so they commit or roll back with the
change they tell of. Nothing leaves the machine before the commit: an ``after_commit`` hook
hands the new deliveries to a background :class:`Dispatcher` thread, and a failure there is
recorded on the delivery row (status ``failed``, the error) without touching the report.
:func:`deliver_pending` retries what is left (each delivery round of :mod:`renxing.signals`
runs it, see :mod:`renxing.notify.subscribers`), so deliveries survive a restart too.
"""

import logging
import queue
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from renxing.auth import audit
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import Collector, NotFound
from renxing.i18n import _
from renxing.listing import ListQuery, ListSpec, Page, list_page
from renxing.notify import channels
from renxing.notify.models import Notification, NotificationContact, NotificationDelivery

log = logging.getLogger("renxing.notify")
_OUTBOX = "renxing.notify.outbox"
MAX_ATTEMPTS = 5
STALE_SENDING = timedelta(minutes=15)
_INSERT_INBOX = insert(Notification.__table__).inline()  # no implicit RETURNING: it may be pipelined
_INSERT_INBOX_RETURNING = insert(Notification.__table__).returning(
    Notification.__table__.c.id, sort_by_parameter_order=True
)


def reads_back() -> bool:
    """Whether :func:`push` reads from the database (the new ids, the contacts) to queue e-mail
    or webhook deliveries; when not, it only writes and may go inside :func:`db.pipelined`."""
    return any(c in ("email", "webhook") for c in channels.enabled(get_settings()))


def push(
    session: Session,
    user_ids: Iterable[int | None],
    *,
    title: str,
    body: str | None = None,
    link: str | None = None,
    topic: str | None = None,
    report_id: int | None = None,
) -> int:
    """One inbox message per distinct user (None entries are skipped), plus external deliveries;
    returns how many messages were written."""
    users = sorted({u for u in user_ids if u is not None})
    if not users:
        return 0
    now = utcnow()
    rows = [
        {
            "user_id": u,
            "title": title[:200],
            "body": body,
            "link": link,
            "topic": topic,
            "report_id": report_id,
            "created_at": now,
        }
        for u in users
    ]
    settings = get_settings()
    enabled = channels.enabled(settings)
    outbox = session.info.setdefault(_OUTBOX, {"log": [], "deliveries": [], "engine": None})
    if "log" in enabled:
        outbox["log"].extend({"user_id": u, "title": title, "link": link} for u in users)
    external = [c for c in enabled if c in ("email", "webhook")]
    # A Core insert on the session's connection (same transaction): every intake and escalation
    # writes these, and the ORM's unit of work would cost more than the insert itself. Objects
    # still pending go first, as the unit of work would order them (a row these may point at).
    if session.new:
        session.flush()
    conn = session.connection()
    if not external:
        conn.execute(_INSERT_INBOX, rows)
        return len(rows)
    ids = list(conn.execute(_INSERT_INBOX_RETURNING, rows).scalars())
    contacts: dict[tuple[int, str], str] = {}
    if external:
        for c in session.scalars(
            select(NotificationContact).where(
                NotificationContact.user_id.in_(users),
                NotificationContact.channel.in_(external),
                NotificationContact.active.is_(True),
            )
        ):
            contacts[(c.user_id, c.channel)] = c.address
    deliveries = []
    for nid, uid in zip(ids, users, strict=True):
        for ch in external:
            target = contacts.get((uid, ch))
            if target:
                deliveries.append(NotificationDelivery(notification_id=nid, channel=ch, target=target, created_at=now))
        if "webhook" in external and settings.webhook_url:
            hook = NotificationDelivery(
                notification_id=nid, channel="webhook", target=settings.webhook_url, created_at=now
            )
            deliveries.append(hook)
    if deliveries:
        session.add_all(deliveries)
        session.flush()
        outbox["deliveries"].extend(d.id for d in deliveries)
        bind = session.get_bind()
        outbox["engine"] = getattr(bind, "engine", bind)
    return len(rows)


def push_each(session: Session, messages: list[dict[str, Any]], *, topic: str, at: datetime) -> int:
    """Many messages, each with its own ``user_id``, ``title``, ``link`` and ``report_id``, in
    the inbox only and in one statement (bulk changes such as the sweep's closings)."""
    if not messages:
        return 0
    rows = [{"body": None, **m, "title": m["title"][:200], "topic": topic, "created_at": at} for m in messages]
    session.connection().execute(_INSERT_INBOX, rows)
    return len(rows)


# ---- the inbox ---------------------------------------------------------------------------


# One's own messages, newest first (ids grow with time, so the id is the order of arrival).
INBOX = ListSpec(
    sorts={"created": Notification.id},
    default_sort="-created",
    tiebreaker=Notification.id,
    search=(Notification.title, Notification.body),
)


def inbox(
    session: Session, actor: Principal, query: ListQuery | None = None, *, unread: bool = False
) -> Page[Notification]:
    stmt = select(Notification).where(Notification.user_id == (actor.user_id or -1))
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list_page(session, stmt, INBOX, query or ListQuery())


def unread_count(session: Session, actor: Principal) -> int:
    stmt = select(func.count(Notification.id)).where(
        Notification.user_id == (actor.user_id or -1), Notification.read_at.is_(None)
    )
    return session.scalar(stmt) or 0


def mark_read(session: Session, actor: Principal, notification_id: int | None = None) -> int:
    """Mark one message (or, with no id, all of them) read; only one's own."""
    stmt = update(Notification).where(Notification.user_id == (actor.user_id or -1), Notification.read_at.is_(None))
    if notification_id is not None:
        own = session.scalar(
            select(Notification.id).where(
                Notification.id == notification_id, Notification.user_id == (actor.user_id or -1)
            )
        )
        if own is None:
            raise NotFound(_("消息 {notification_id} 不存在").format(notification_id=notification_id))
        stmt = stmt.where(Notification.id == notification_id)
    return session.execute(stmt.values(read_at=utcnow())).rowcount or 0


def contacts(session: Session, actor: Principal) -> list[NotificationContact]:
    return list(
        session.scalars(select(NotificationContact).where(NotificationContact.user_id == (actor.user_id or -1)))
    )


def set_contact(session: Session, actor: Principal, channel: str, address: str | None) -> NotificationContact | None:
    """One's own address for a channel (e-mail address, webhook URL); empty removes it."""
    errors = Collector()
    if channel not in ("email", "webhook"):
        errors.add("channel", _("渠道应为 email 或 webhook"), value=channel)
    address = (address or "").strip()
    if channel == "email" and address and ("@" not in address or len(address) > 255):
        errors.add("address", _("邮箱格式错误"), value=address)
    if channel == "webhook" and address and not address.startswith(("http://", "https://")):
        errors.add("address", _("须为 http(s) 地址"), value=address)
    if actor.user_id is None:
        errors.add("user", _("系统账号无收件地址"))
    errors.raise_if_any()
    row = session.get(NotificationContact, (actor.user_id, channel))
    if not address:
        if row is not None:
            session.delete(row)
        audit.record(session, actor, "update", "notification_contact", actor.user_id, summary=f"{channel} removed")
        return None
    if row is None:
        row = NotificationContact(user_id=actor.user_id, channel=channel, address=address, active=True)
        session.add(row)
    else:
        row.address, row.active = address, True
    audit.record(session, actor, "update", "notification_contact", actor.user_id, summary=f"{channel} set")
    return row


# ---- delivery after commit ---------------------------------------------------------------


def message_of(n: Notification) -> dict[str, Any]:
    base = get_settings().public_url.rstrip("/")
    return {
        "id": n.id,
        "user_id": n.user_id,
        "title": n.title,
        "body": n.body,
        "link": n.link,
        "url": f"{base}{n.link}" if n.link and n.link.startswith("/") else n.link,
        "topic": n.topic,
        "report_id": n.report_id,
        "created_at": n.created_at.isoformat(),
    }


def _claim(session: Session, delivery_id: int) -> bool:
    """Take one delivery for sending; False when another worker already has it."""
    stale = utcnow() - STALE_SENDING
    res = session.execute(
        update(NotificationDelivery)
        .where(
            NotificationDelivery.id == delivery_id,
            or_(
                NotificationDelivery.status.in_(("pending", "failed")),
                (NotificationDelivery.status == "sending") & (NotificationDelivery.created_at < stale),
            ),
            NotificationDelivery.attempts < MAX_ATTEMPTS,
        )
        .values(status="sending", attempts=NotificationDelivery.attempts + 1)
    )
    return res.rowcount == 1


def deliver_pending(engine: Engine, ids: list[int] | None = None, *, limit: int = 500) -> tuple[int, int]:
    """Send the given deliveries (or every pending or failed one left); returns (sent, failed)."""
    factory = sessionmaker(engine, expire_on_commit=False)
    settings = get_settings()
    with factory() as session:
        if ids is None:
            ids = list(
                session.scalars(
                    select(NotificationDelivery.id)
                    .where(
                        NotificationDelivery.status.in_(("pending", "failed", "sending")),
                        NotificationDelivery.attempts < MAX_ATTEMPTS,
                    )
                    .order_by(NotificationDelivery.id)
                    .limit(limit)
                )
            )
    sent = failed = 0
    for delivery_id in ids:
        with factory() as session, session.begin():
            if not _claim(session, delivery_id):
                continue
            d = session.get(NotificationDelivery, delivery_id)
            n = session.get(Notification, d.notification_id) if d else None
            if d is None or n is None:
                continue
            channel, target, msg = d.channel, d.target, message_of(n)
        try:  # outside any transaction: the far side may take its time
            if channel == "email":
                channels.send_email(settings, target, msg)
            elif channel == "webhook":
                channels.send_webhook(settings, target, msg)
            else:
                raise ValueError(f"unknown channel {channel}")
        except Exception as exc:  # any failure of the far side is recorded, never raised
            failed += 1
            status, error = "failed", f"{exc.__class__.__name__}: {exc}"[:2000]
            log.warning("delivery %s over %s failed: %s", delivery_id, channel, error)
        else:
            sent += 1
            status, error = "sent", None
        with factory() as session, session.begin():
            session.execute(
                update(NotificationDelivery)
                .where(NotificationDelivery.id == delivery_id)
                .values(status=status, error=error, sent_at=utcnow() if status == "sent" else None)
            )
    return sent, failed


class Dispatcher:
    """A background thread that sends committed deliveries, so requests never wait on SMTP."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Engine, list[int]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, engine: Engine, ids: list[int]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="renxing-notify", daemon=True)
                self._thread.start()
        self._queue.put((engine, ids))

    def _run(self) -> None:
        while True:
            engine, ids = self._queue.get()
            try:
                deliver_pending(engine, ids)
            except Exception:  # keep the thread alive; the rows stay pending for a retry
                log.exception("delivery batch failed")
            finally:
                self._queue.task_done()

    def join(self) -> None:
        """Wait until everything handed over so far has been tried (tests, shutdown)."""
        self._queue.join()


dispatcher = Dispatcher()


def _after_commit(session: Session) -> None:
    box = session.info.pop(_OUTBOX, None)
    if not box:
        return
    for message in box["log"]:
        channels.send_log(message)
    if box["deliveries"] and box["engine"] is not None:
        dispatcher.submit(box["engine"], box["deliveries"])


def _after_rollback(session: Session) -> None:
    session.info.pop(_OUTBOX, None)


def install() -> None:
    """Hook delivery to every session's commit (idempotent; done on import)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


install()
