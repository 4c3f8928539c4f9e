"""The public Atom feed of the warnings the platform sent (feedgen). Pure: entries in, bytes out.

One entry per public CAP message (Alert, Update, Cancel), newest first; each links to its CAP XML
(``rel="alternate"``, ``type="application/cap+xml"``), as CAP feeds do (the alert hubs' and
weather services' feeds follow the same shape). Entries carry what the CAP message says publicly
(headline, area, colour, times) and nothing about any person.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator
from lxml import etree

CAP_MEDIA_TYPE = "application/cap+xml"
ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedEntry:
    identifier: str
    cap_url: str
    headline: str
    summary: str
    area_desc: str
    level: str  # blue, yellow, orange, red
    msg_type: str
    exercise: bool
    sent: datetime
    sender_name: str


def feed_xml(
    entries: Sequence[FeedEntry], *, feed_url: str, site_url: str, title: str, author: str, updated: datetime
) -> bytes:
    """The Atom document; ``entries`` newest first (kept in that order)."""
    fg = FeedGenerator()
    fg.id(feed_url)
    fg.title(title)
    fg.author({"name": author})
    fg.link(href=feed_url, rel="self", type="application/atom+xml")
    fg.link(href=site_url, rel="alternate", type="text/html")
    fg.language("zh-CN")
    fg.updated(entries[0].sent if entries else updated)
    for e in entries:
        fe = fg.add_entry(order="append")
        fe.id(e.cap_url)
        fe.title(f"[{e.msg_type}] {e.headline}" if e.msg_type != "Alert" else e.headline)
        fe.updated(e.sent)
        fe.published(e.sent)
        fe.author({"name": e.sender_name})
        fe.summary(f"{e.area_desc}：{e.summary}")
        fe.link(href=e.cap_url, rel="alternate", type=CAP_MEDIA_TYPE)
        fe.category(term=e.level, label=e.level)
        if e.exercise:
            fe.category(term="Exercise", label="Exercise")
    return _typed_links(fg.atom_str(pretty=True))


def _typed_links(atom: bytes) -> bytes:
    """feedgen 1.0.0 writes an entry's link with its href only (lkiesow/python-feedgen#135): put
    back ``rel="alternate"`` and the CAP media type on each entry's link (its only one)."""
    root = etree.fromstring(atom)
    for link in root.iterfind(f"{{{ATOM}}}entry/{{{ATOM}}}link"):
        link.set("rel", "alternate")
        link.set("type", CAP_MEDIA_TYPE)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
