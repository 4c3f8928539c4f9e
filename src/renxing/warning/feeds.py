"""Atom and RSS feeds of CAP alerts: the register, one poll, and the run over the feeds that are due.

A poll asks for the feed with the ETag and Last-Modified it got last time (a 304 means nothing
new), reads it with feedparser, and for each entry not fetched before takes the CAP message from
the entry itself when the issuer put it inline, else follows the entry's link to it (a link typed
``application/cap+xml`` first, then an enclosure, then the entry's own link). Each message goes
through ``incoming.receive``, which refuses before it writes anything, so one refused file does
not cost the others. An entry is remembered on the alert it gave (``feed_entry``: its id and updated time), so
the next poll skips it; the ETag is kept only when every entry could be fetched, so a link that
failed is tried again. ``last_error`` lists what went wrong, one line per entry.

Fetching is plain HTTP(S) with httpx: a timeout, at most a few redirects, and a size limit counted
as the body arrives (a feed 2 MB, a CAP message ``cap_schema.MAX_BYTES``).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx
from lxml import etree
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import SYSTEM, Principal
from renxing.db import transaction, utcnow
from renxing.errors import Conflict, FieldError, Invalid, NotFound
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.warning import cap_schema, incoming
from renxing.warning.incoming_schemas import FeedIn, FeedPatch
from renxing.warning.models import AlertFeed, IncomingAlert

log = logging.getLogger(__name__)

MAX_FEED_BYTES = 2 * 1024 * 1024
TIMEOUT_SECONDS = 15.0
MAX_REDIRECTS = 3
CAP_TYPES = ("application/cap+xml", "application/xml", "text/xml")
USER_AGENT = "Renxing CAP poller"

FEEDS = ListSpec(
    sorts={"name": AlertFeed.name, "polled": AlertFeed.last_polled_at, "created": AlertFeed.id},
    default_sort="name",
    tiebreaker=AlertFeed.id,
    search=(AlertFeed.name, AlertFeed.url),
    filters={"active": Filter(AlertFeed.active)},
)


# ---- fetching -------------------------------------------------------------------------------------


class FetchError(Exception):
    """The address could not be read (network, HTTP status, too large)."""


@dataclass(frozen=True)
class Fetched:
    status: int
    body: bytes
    etag: str | None = None
    modified: str | None = None


Fetch = Callable[..., Fetched]


def check_url(url: str, field_name: str = "url") -> str:
    """An http(s) address with a host; 422 naming the field otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(_("地址应以 http:// 或 https:// 开头"), [FieldError(field_name, _("地址无效"), value=url)])
    return url.strip()


def fetch(url: str, *, headers: dict[str, str] | None = None, limit: int = cap_schema.MAX_BYTES) -> Fetched:
    """GET ``url`` (304 answered as is); raises :class:`FetchError` on failure or beyond ``limit`` bytes."""
    sent = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        with (
            httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=True, max_redirects=MAX_REDIRECTS) as client,
            client.stream("GET", url, headers=sent) as response,
        ):
            if response.status_code == 304:
                return Fetched(304, b"")
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(f"larger than {limit} bytes")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise FetchError(f"larger than {limit} bytes")
            return Fetched(
                response.status_code,
                bytes(body),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
            )
    except httpx.HTTPError as exc:
        raise FetchError(f"{exc.__class__.__name__}: {exc}") from exc


# ---- the register ---------------------------------------------------------------------------------


def list_feeds(session: Session, actor: Principal, query: ListQuery) -> Page[AlertFeed]:
    actor.require(Perm.alerts_receive)
    return list_page(session, select(AlertFeed), FEEDS, query)


def get_feed(session: Session, actor: Principal, feed_id: int) -> AlertFeed:
    actor.require(Perm.alerts_receive)
    feed = session.get(AlertFeed, feed_id)
    if feed is None:
        raise NotFound(_("预警订阅源 {feed_id} 不存在").format(feed_id=feed_id))
    return feed


def _unique_url(session: Session, url: str, own_id: int | None) -> None:
    other = session.scalar(select(AlertFeed.id).where(AlertFeed.url == url))
    if other is not None and other != own_id:
        why = _("已有相同地址的订阅源")
        raise Conflict(why, [FieldError("url", why, value=url)])


def create_feed(session: Session, actor: Principal, data: FeedIn) -> AlertFeed:
    actor.require(Perm.alerts_receive)
    values = data.model_dump()
    values["url"] = check_url(values["url"])
    _unique_url(session, values["url"], None)
    feed = AlertFeed(**values)
    session.add(feed)
    session.flush()
    audit.record(session, actor, "create", "alert_feed", feed.id, after=audit.snapshot(feed))
    return feed


def update_feed(session: Session, actor: Principal, feed_id: int, patch: FeedPatch) -> AlertFeed:
    feed = get_feed(session, actor, feed_id)
    changes = patch.model_dump(exclude_unset=True)
    blank = [k for k, v in changes.items() if v is None]
    if blank:
        raise Invalid(_("不能为空"), [FieldError(k, _("不能为空")) for k in blank])
    if "url" in changes:
        changes["url"] = check_url(changes["url"])
        _unique_url(session, changes["url"], feed.id)
    before = audit.snapshot(feed)
    for key, value in changes.items():
        setattr(feed, key, value)
    if "url" in changes and changes["url"] != before["url"]:
        feed.etag = feed.modified = None  # a new address starts afresh
    session.flush()
    old, new = audit.changed(before, audit.snapshot(feed))
    if new:
        audit.record(session, actor, "update", "alert_feed", feed.id, before=old, after=new)
    return feed


def delete_feed(session: Session, actor: Principal, feed_id: int) -> None:
    """Stop polling and forget the feed; the alerts it brought stay (their feed is cleared)."""
    feed = get_feed(session, actor, feed_id)
    before = audit.snapshot(feed)
    session.execute(delete(AlertFeed).where(AlertFeed.id == feed.id))
    audit.record(session, actor, "delete", "alert_feed", feed_id, before=before)


def is_due(feed: AlertFeed, now: datetime) -> bool:
    if not feed.active:
        return False
    return feed.last_polled_at is None or feed.last_polled_at + timedelta(seconds=feed.interval_seconds) <= now


def present(feed: AlertFeed, alerts: int, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": feed.id,
        "name": feed.name,
        "url": feed.url,
        "interval_seconds": feed.interval_seconds,
        "active": feed.active,
        "last_polled_at": feed.last_polled_at.isoformat() if feed.last_polled_at else None,
        "last_ok_at": feed.last_ok_at.isoformat() if feed.last_ok_at else None,
        "last_error": feed.last_error,
        "due": is_due(feed, now or utcnow()),
        "alerts": alerts,
    }


def present_all(session: Session, feeds: list[AlertFeed]) -> list[dict[str, Any]]:
    ids = [f.id for f in feeds]
    counts: dict[int, int] = {}
    if ids:
        stmt = select(IncomingAlert.feed_id, func.count()).where(IncomingAlert.feed_id.in_(ids))
        counts = {i: n for i, n in session.execute(stmt.group_by(IncomingAlert.feed_id))}
    now = utcnow()
    return [present(f, counts.get(f.id, 0), now) for f in feeds]


# ---- polling --------------------------------------------------------------------------------------


@dataclass
class Polled:
    feed_id: int
    unchanged: bool = False
    entries: int = 0
    received: int = 0
    duplicates: int = 0
    refused: int = 0
    skipped: int = 0
    error: str | None = None
    alert_ids: list[int] = field(default_factory=list)


def _inline_alerts(body: bytes) -> list[list[bytes]]:
    """The CAP alerts written inside each entry (or RSS item), in document order; feedparser
    sanitises entry content, so the feed is read again with the safe XML parser for them."""
    safe = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, safe)
    except etree.XMLSyntaxError:
        return []
    entries = root.iter("{http://www.w3.org/2005/Atom}entry", "item")
    return [[etree.tostring(a) for a in e.iter(f"{{{cap_schema.NS}}}alert")] for e in entries]


def _cap_link(entry: Any, base: str) -> str | None:
    links = list(entry.get("links") or [])
    for wanted in (
        lambda link: link.get("type") in CAP_TYPES and link.get("rel") != "enclosure",
        lambda link: link.get("rel") == "enclosure",
    ):
        for link in links:
            if link.get("href") and wanted(link):
                return urljoin(base, link["href"])
    return urljoin(base, entry["link"]) if entry.get("link") else None


def _entry_key(entry: Any, link: str | None, index: int) -> str:
    """What names an entry across polls: its id (or link, or place) and when it was updated."""
    name = entry.get("id") or link or f"#{index}"
    return f"{name} {entry.get('updated') or entry.get('published') or ''}".strip()[:500]


def _seen(session: Session, feed_id: int, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    stmt = select(IncomingAlert.feed_entry).where(IncomingAlert.feed_id == feed_id, IncomingAlert.feed_entry.in_(keys))
    return {k for k in session.scalars(stmt) if k}


def _receive(session: Session, feed: AlertFeed, data: bytes, key: str, now: datetime, out: Polled) -> str | None:
    """Receive one message; the problem, if refused (a refusal comes before any write)."""
    try:
        got = incoming.receive(session, SYSTEM, data, source="feed", feed_id=feed.id, feed_entry=key, now=now)
    except Invalid as exc:
        out.refused += 1
        return exc.message
    if got.duplicate:
        out.duplicates += 1
    else:
        out.received += 1
        if got.alert_id is not None:
            out.alert_ids.append(got.alert_id)
    return None


def _read_entry(
    session: Session,
    feed: AlertFeed,
    entry: Any,
    index: int,
    inline: list[list[bytes]],
    fetcher: Fetch,
    now: datetime,
    out: Polled,
) -> tuple[str | None, bool]:
    """Receive what one entry carries; (the problem, whether it was a failure to fetch)."""
    link = _cap_link(entry, feed.url)
    key = _entry_key(entry, link, index)
    documents = inline[index] if index < len(inline) else []
    if not documents:
        if link is None:
            return _("条目没有 CAP 链接"), False
        try:
            documents = [fetcher(check_url(link, "link"), limit=cap_schema.MAX_BYTES).body]
        except (FetchError, Invalid) as exc:
            return f"{link}: {exc}", True
    problems = [p for p in (_receive(session, feed, d, key, now, out) for d in documents) if p]
    return ("; ".join(problems) or None), False


def poll(session: Session, feed: AlertFeed, now: datetime | None = None, fetch: Fetch = fetch) -> Polled:
    """Read the feed once and receive every new alert it lists (see the module's notes)."""
    now = now or utcnow()
    out = Polled(feed.id)
    feed.last_polled_at = now
    headers = {k: v for k, v in (("If-None-Match", feed.etag), ("If-Modified-Since", feed.modified)) if v}
    try:
        got = fetch(feed.url, headers=headers, limit=MAX_FEED_BYTES)
    except FetchError as exc:
        out.error = feed.last_error = str(exc)[:2000]
        return out
    if got.status == 304:
        out.unchanged = True
        feed.last_ok_at, feed.last_error = now, None
        return out
    parsed = feedparser.parse(got.body, response_headers={"content-location": feed.url})
    if not parsed.entries and parsed.bozo:
        out.error = feed.last_error = _("不是 Atom 或 RSS 订阅：{reason}").format(reason=parsed.get("bozo_exception"))
        return out
    inline = _inline_alerts(got.body)
    out.entries = len(parsed.entries)
    keys = [_entry_key(e, _cap_link(e, feed.url), i) for i, e in enumerate(parsed.entries)]
    seen = _seen(session, feed.id, keys)
    problems, failed = [], False
    for index, entry in enumerate(parsed.entries):
        if keys[index] in seen:
            out.skipped += 1
            continue
        problem, unreachable = _read_entry(session, feed, entry, index, inline, fetch, now, out)
        failed = failed or unreachable
        if problem:
            problems.append(f"{keys[index]}: {problem}")
    if not failed:
        feed.etag, feed.modified, feed.last_ok_at = got.etag, got.modified, now
    out.error = feed.last_error = "\n".join(problems)[:2000] or None
    session.flush()
    return out


def poll_now(session: Session, actor: Principal, feed_id: int, fetch: Fetch = fetch) -> Polled:
    """Staff ask for a feed at once (whether due or not)."""
    feed = get_feed(session, actor, feed_id)
    return poll(session, feed, fetch=fetch)


def due_feeds(session: Session, now: datetime) -> list[int]:
    stmt = select(AlertFeed).where(AlertFeed.active.is_(True)).order_by(AlertFeed.id)
    return [f.id for f in session.scalars(stmt) if is_due(f, now)]


def run(engine: Engine, now: datetime | None = None, fetch: Fetch = fetch) -> list[Polled]:
    """Poll every active feed that is due, each in its own transaction (the scheduler's job)."""
    now = now or utcnow()
    with transaction(engine) as session:
        ids = due_feeds(session, now)
    results = []
    for feed_id in ids:
        try:
            with transaction(engine) as session:
                feed = session.get(AlertFeed, feed_id)
                if feed is not None and is_due(feed, now):
                    results.append(poll(session, feed, now, fetch))
        except Exception as exc:  # one feed's failure must not stop the others; it is recorded
            log.exception("polling alert feed %s failed", feed_id)
            with transaction(engine) as session:
                feed = session.get(AlertFeed, feed_id)
                if feed is not None:
                    feed.last_polled_at, feed.last_error = now, f"{exc.__class__.__name__}: {exc}"[:2000]
            results.append(Polled(feed_id, error=f"{exc.__class__.__name__}: {exc}"))
    return results
