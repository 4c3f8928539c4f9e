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

CAP_MEDIA_TYPE = "application/cap+xml"


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
    return fg.atom_str(pretty=True)
